# SPDX-License-Identifier: MIT
# Consumer tests: a project outside the staticrt tree takes staticrt by each route the README
# describes (find_package from an installed tree, add_subdirectory from source, pkg-config from an
# installed tree), for the host and for aarch64, and builds and runs the README's ```cpp blocks.
# Included from the top CMakeLists.txt (host builds with tests only). Labels: install (host),
# install;cross (aarch64: the cross build of staticrt is made once, by the fixture test).
find_package(Python3 COMPONENTS Interpreter)
find_program(STATICRT_MAKE make)
find_program(STATICRT_PKG_CONFIG pkg-config)

set(_consumer_common
  -DSTATICRT_SOURCE_DIR=${PROJECT_SOURCE_DIR} -DSRC_DIR=${PROJECT_SOURCE_DIR}/tests/consumer
  -DGENERATOR=${CMAKE_GENERATOR} -DEXPECTED_VERSION=${PROJECT_VERSION} -DLIBDIR=${CMAKE_INSTALL_LIBDIR}
  "-DCXX_FLAGS=${CMAKE_CXX_FLAGS}" "-DLINK_FLAGS=${CMAKE_EXE_LINKER_FLAGS}")
if(Python3_Interpreter_FOUND)
  list(APPEND _consumer_common -DREAD_ME=${PROJECT_SOURCE_DIR}/README.md -DPYTHON=${Python3_EXECUTABLE})
endif()

set(_consumer_routes find_package add_subdirectory)
if(STATICRT_MAKE AND STATICRT_PKG_CONFIG)
  list(APPEND _consumer_routes pkg-config)
endif()
# The routes that link an installed tree run in every host build (the consumer gets that build's
# compiler and flags, a sanitizer runtime included). add_subdirectory builds the library from source
# twice (the consumer project and the README's project): only the plain g++ build runs it, which
# saves the clang and sanitizer stages of the test command minutes each.
set(_host_routes ${_consumer_routes})
if(NOT (STATICRT_SANITIZE STREQUAL "none" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU"))
  list(REMOVE_ITEM _host_routes add_subdirectory)
endif()

# ---- host: install this build (find_package, pkg-config) or build the source tree (add_subdirectory)
foreach(route IN LISTS _host_routes)
  add_test(NAME consumer.${route}.host
    COMMAND ${CMAKE_COMMAND} ${_consumer_common} -DROUTE=${route} -DCXX=${CMAKE_CXX_COMPILER}
            -DBUILD_DIR=${PROJECT_BINARY_DIR} -DCONFIG=$<CONFIG>
            -DWORK_DIR=${PROJECT_BINARY_DIR}/consumer/${route}.host
            -P ${PROJECT_SOURCE_DIR}/tests/consumer/run_consumer.cmake)
  set_tests_properties(consumer.${route}.host PROPERTIES LABELS "install" TIMEOUT 600)
endforeach()

# ---- aarch64: cross-compile staticrt once (Release, no tests), then each route with the installed
# toolchain file; the programs run under qemu-aarch64 when it is there. The cross build only uses
# the host's flags for nothing (a sanitizer runtime is host-only).
# Once per test command is enough: only the plain g++ build registers them (the clang and sanitizer
# builds' flags do not reach a cross build), so the test command spends the cross builds' minutes once.
find_program(STATICRT_AARCH64_CXX aarch64-linux-gnu-g++)
if(STATICRT_AARCH64_CXX AND STATICRT_SANITIZE STREQUAL "none" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  set(_cross_toolchain ${PROJECT_SOURCE_DIR}/toolchain/aarch64-linux-gnu.cmake)
  set(_cross_prefix ${PROJECT_BINARY_DIR}/consumer/aarch64-prefix)
  set(_cross_emulator)
  if(EXISTS /usr/bin/qemu-aarch64)
    set(_cross_emulator "/usr/bin/qemu-aarch64$<SEMICOLON>-L$<SEMICOLON>/usr/aarch64-linux-gnu")
  endif()
  set(_cross_common -DSTATICRT_SOURCE_DIR=${PROJECT_SOURCE_DIR} -DSRC_DIR=${PROJECT_SOURCE_DIR}/tests/consumer
      -DGENERATOR=${CMAKE_GENERATOR} -DEXPECTED_VERSION=${PROJECT_VERSION} -DLIBDIR=${CMAKE_INSTALL_LIBDIR}
      -DPREFIX=${_cross_prefix} "-DEMULATOR=${_cross_emulator}")
  if(Python3_Interpreter_FOUND)
    list(APPEND _cross_common -DREAD_ME=${PROJECT_SOURCE_DIR}/README.md -DPYTHON=${Python3_EXECUTABLE})
  endif()
  add_test(NAME consumer.install.aarch64
    COMMAND ${CMAKE_COMMAND} ${_cross_common} -DROUTE=install-cross -DTOOLCHAIN=${_cross_toolchain}
            -DWORK_DIR=${PROJECT_BINARY_DIR}/consumer/aarch64-build
            -P ${PROJECT_SOURCE_DIR}/tests/consumer/run_consumer.cmake)
  set_tests_properties(consumer.install.aarch64 PROPERTIES LABELS "install;cross" TIMEOUT 900
                       FIXTURES_SETUP staticrt_aarch64_install)
  foreach(route IN LISTS _consumer_routes)
    # From an installed tree, the consumer uses the toolchain file installed with it (README).
    set(tc ${_cross_prefix}/${CMAKE_INSTALL_DATADIR}/staticrt/toolchain/aarch64-linux-gnu.cmake)
    if(route STREQUAL "add_subdirectory")
      set(tc ${_cross_toolchain})
    endif()
    add_test(NAME consumer.${route}.aarch64
      COMMAND ${CMAKE_COMMAND} ${_cross_common} -DROUTE=${route} -DTOOLCHAIN=${tc}
              -DWORK_DIR=${PROJECT_BINARY_DIR}/consumer/${route}.aarch64
              -P ${PROJECT_SOURCE_DIR}/tests/consumer/run_consumer.cmake)
    set_tests_properties(consumer.${route}.aarch64 PROPERTIES LABELS "install;cross" TIMEOUT 900)
    if(NOT route STREQUAL "add_subdirectory")
      set_tests_properties(consumer.${route}.aarch64 PROPERTIES FIXTURES_REQUIRED staticrt_aarch64_install)
    endif()
  endforeach()
endif()
