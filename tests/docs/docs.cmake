# SPDX-License-Identifier: MIT
# Documentation checks and the API reference. Included from the top CMakeLists.txt.
#   docs.links      (CTest, host) every relative link, anchor and backticked repository path in *.md exists
#   docs            (target, not built by default) Doxygen API reference from the headers' /// comments;
#                   staticrt_docs when staticrt is a subproject (the parent may have its own `docs`)
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND AND STATICRT_BUILD_TESTS AND NOT CMAKE_CROSSCOMPILING)
  add_test(NAME docs.links COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tests/docs/check_links.py
                                   ${PROJECT_SOURCE_DIR})
  set_tests_properties(docs.links PROPERTIES LABELS "docs" TIMEOUT 60)
endif()

set(_docs_target docs)
if(NOT STATICRT_TOP_LEVEL)
  set(_docs_target staticrt_docs)
endif()
find_package(Doxygen QUIET)
if(DOXYGEN_FOUND)
  # The headers, and the guides as related pages (their links to each other resolve there too).
  set(STATICRT_DOXY_INPUT "${PROJECT_SOURCE_DIR}/platform/include ${PROJECT_SOURCE_DIR}/runtime/include ${PROJECT_SOURCE_DIR}/docs")
  set(STATICRT_DOXY_OUT ${PROJECT_BINARY_DIR}/docs)
  configure_file(${PROJECT_SOURCE_DIR}/docs/Doxyfile.in ${PROJECT_BINARY_DIR}/Doxyfile @ONLY)
  add_custom_target(${_docs_target}
    COMMAND ${DOXYGEN_EXECUTABLE} ${PROJECT_BINARY_DIR}/Doxyfile
    COMMAND ${CMAKE_COMMAND} -E echo "API reference: ${STATICRT_DOXY_OUT}/html/index.html"
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    COMMENT "Doxygen: API reference from the public headers"
    VERBATIM)
else()
  add_custom_target(${_docs_target}
    COMMAND ${CMAKE_COMMAND} -E echo "doxygen not found: apt-get install doxygen, then re-run cmake"
    COMMAND ${CMAKE_COMMAND} -E false
    VERBATIM)
endif()
