# SPDX-License-Identifier: MIT
# Builds and runs a project outside the staticrt tree that takes staticrt by one route:
#   ROUTE=find_package      (default) installs staticrt into a scratch prefix, then a CMake project finds it
#   ROUTE=add_subdirectory  a CMake project builds staticrt's source tree inside itself
#   ROUTE=pkg-config        installs staticrt, then a Makefile compiles with `pkg-config --cflags --libs`
#   ROUTE=install-cross     (fixture) configures, builds and installs staticrt with TOOLCHAIN into PREFIX
# Every route also builds and runs the README's ```cpp blocks (READ_ME + PYTHON given), and the CMake
# routes build the README's own ```cmake project for that route, with its first ```cpp block as main.cpp.
# Host: BUILD_DIR is the built staticrt to install. Cross: TOOLCHAIN is a toolchain file, PREFIX a cross
# install made by ROUTE=install-cross, EMULATOR runs the programs (empty: build only).
# The consumer gets the same compiler flags (a sanitizer build needs its runtime linked into it too).
if(NOT ROUTE)
  set(ROUTE find_package)
endif()
if(NOT GENERATOR)
  set(GENERATOR "Unix Makefiles")
endif()

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}")
  endif()
endfunction()

set(toolchain_args)
if(TOOLCHAIN)
  set(toolchain_args -DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN})
else()
  set(toolchain_args -DCMAKE_CXX_COMPILER=${CXX})
endif()

if(ROUTE STREQUAL "install-cross")
  file(REMOVE_RECURSE ${WORK_DIR} ${PREFIX})
  run("configuring staticrt for the cross target"
      ${CMAKE_COMMAND} -S ${STATICRT_SOURCE_DIR} -B ${WORK_DIR}/build -G ${GENERATOR} ${toolchain_args}
      -DCMAKE_BUILD_TYPE=Release -DSTATICRT_BUILD_TESTS=OFF -DSTATICRT_BUILD_EXAMPLES=OFF)
  run("building staticrt for the cross target" ${CMAKE_COMMAND} --build ${WORK_DIR}/build)
  run("installing the cross build" ${CMAKE_COMMAND} --install ${WORK_DIR}/build --prefix ${PREFIX})
  return()
endif()

file(REMOVE_RECURSE ${WORK_DIR})
if(NOT TOOLCHAIN AND NOT ROUTE STREQUAL "add_subdirectory")
  set(PREFIX ${WORK_DIR}/prefix)
  run("installing staticrt" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX} --config ${CONFIG})
endif()

set(blocks_dir)
if(READ_ME)
  set(blocks_dir ${WORK_DIR}/readme)
  run("extracting the README's C++ blocks" ${PYTHON} ${STATICRT_SOURCE_DIR}/tests/docs/readme_blocks.py ${READ_ME} ${blocks_dir})
endif()

set(programs staticrt_consumer)
file(GLOB block_sources ${blocks_dir}/*.cpp)
foreach(src IN LISTS block_sources)
  get_filename_component(name ${src} NAME_WE)
  list(APPEND programs ${name})
endforeach()

if(ROUTE STREQUAL "pkg-config")
  # A plain Make project: main.cpp and the README blocks side by side with the Makefile.
  set(bin ${WORK_DIR}/make)
  file(COPY ${SRC_DIR}/Makefile DESTINATION ${bin})
  configure_file(${SRC_DIR}/main.cpp ${bin}/staticrt_consumer.cpp COPYONLY)
  if(block_sources)
    file(COPY ${block_sources} DESTINATION ${bin})
  endif()
  if(TOOLCHAIN)
    include(${TOOLCHAIN})  # for CMAKE_CXX_COMPILER only
    set(make_cxx ${CMAKE_CXX_COMPILER})
  else()
    set(make_cxx ${CXX})
  endif()
  run("building the pkg-config consumer"
      ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${PREFIX}/${LIBDIR}/pkgconfig
      make -C ${bin} "CXX=${make_cxx}" "CXXFLAGS=-O2 ${CXX_FLAGS}" "LDFLAGS=${LINK_FLAGS}"
      "CPPFLAGS='-DSTATICRT_EXPECTED_VERSION=\"${EXPECTED_VERSION}\"'")
  # The .pc file's Version is the project version too.
  execute_process(COMMAND ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${PREFIX}/${LIBDIR}/pkgconfig
                  pkg-config --modversion staticrt OUTPUT_VARIABLE pc_version OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT pc_version STREQUAL EXPECTED_VERSION)
    message(FATAL_ERROR "staticrt.pc says version '${pc_version}', the project ${EXPECTED_VERSION}")
  endif()
else()
  set(bin ${WORK_DIR}/build)
  set(route_args -DSTATICRT_ROUTE=${ROUTE} -DSTATICRT_EXPECTED_VERSION=${EXPECTED_VERSION}
                 -DREAD_ME_BLOCKS_DIR=${blocks_dir})
  if(ROUTE STREQUAL "add_subdirectory")
    list(APPEND route_args -DSTATICRT_SOURCE_DIR=${STATICRT_SOURCE_DIR})
  else()
    list(APPEND route_args -DCMAKE_PREFIX_PATH=${PREFIX})
  endif()
  run("configuring the consumer"
      ${CMAKE_COMMAND} -S ${SRC_DIR} -B ${bin} -G ${GENERATOR} ${toolchain_args} ${route_args}
      -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${LINK_FLAGS}")
  run("building the consumer" ${CMAKE_COMMAND} --build ${bin})
  if(ROUTE STREQUAL "add_subdirectory")
    # STATICRT_INSTALL is OFF in a subproject: the parent's install holds none of staticrt.
    run("installing the consumer" ${CMAKE_COMMAND} --install ${bin} --prefix ${WORK_DIR}/consumer_prefix)
    file(GLOB_RECURSE leaked ${WORK_DIR}/consumer_prefix/*staticrt*)
    list(FILTER leaked EXCLUDE REGEX "/bin/staticrt_consumer(\\.exe)?$")
    if(leaked)
      message(FATAL_ERROR "the parent project's install also installed staticrt: ${leaked}")
    endif()
  endif()
endif()

# The README's ```cmake block for this route, taken literally: a new project made from the README alone.
# (Cross: only find_package; the cross add_subdirectory route is the consumer project above, so the
# library is not built from source twice more.)
if(READ_ME AND (ROUTE STREQUAL "find_package" OR (ROUTE STREQUAL "add_subdirectory" AND NOT TOOLCHAIN)))
  run("extracting the README's CMake blocks" ${PYTHON} ${STATICRT_SOURCE_DIR}/tests/docs/readme_blocks.py
      ${READ_ME} ${WORK_DIR}/readme_cmake --lang cmake)
  file(GLOB cmake_blocks ${WORK_DIR}/readme_cmake/*.cmake)
  set(chosen)
  foreach(b IN LISTS cmake_blocks)
    file(READ ${b} text)
    if(text MATCHES "${ROUTE}\\(" AND text MATCHES "add_executable\\(app ")
      set(chosen ${b})
    endif()
  endforeach()
  if(NOT chosen)
    message(FATAL_ERROR "the README has no ```cmake block that uses ${ROUTE}() and add_executable(app ...)")
  endif()
  set(app ${WORK_DIR}/readme_app)
  configure_file(${chosen} ${app}/CMakeLists.txt COPYONLY)
  configure_file(${blocks_dir}/readme_1.cpp ${app}/main.cpp COPYONLY)
  set(app_args)
  if(ROUTE STREQUAL "add_subdirectory")
    file(READ ${chosen} text)
    string(REGEX MATCH "add_subdirectory\\(([^ )]+)" _ "${text}")
    get_filename_component(parent ${app}/${CMAKE_MATCH_1} DIRECTORY)
    file(MAKE_DIRECTORY ${parent})
    file(CREATE_LINK ${STATICRT_SOURCE_DIR} ${app}/${CMAKE_MATCH_1} SYMBOLIC)
  else()
    set(app_args -DCMAKE_PREFIX_PATH=${PREFIX})
  endif()
  run("configuring the README's ${ROUTE} project"
      ${CMAKE_COMMAND} -S ${app} -B ${app}/build -G ${GENERATOR} ${toolchain_args} ${app_args}
      -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${LINK_FLAGS}")
  run("building the README's ${ROUTE} project" ${CMAKE_COMMAND} --build ${app}/build)
  list(APPEND programs ../readme_app/build/app)
endif()

foreach(p IN LISTS programs)
  if(TOOLCHAIN AND NOT EMULATOR)
    continue()
  endif()
  execute_process(COMMAND ${EMULATOR} ${bin}/${p} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message(STATUS "${p}: ${out}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${p} exited with ${rc}")
  endif()
  if(p STREQUAL "staticrt_consumer" AND NOT out MATCHES "consumer ok")
    message(FATAL_ERROR "the consumer did not run correctly")
  endif()
endforeach()
