# SPDX-License-Identifier: MIT
# staticrt_check_no_heap(<target> [ALLOW <regex>...])
#
# Fails the build of executable <target> when its final link references an allocation symbol
# (malloc, calloc, realloc, free, aligned_alloc, posix_memalign, strdup, operator new/delete,
# exception allocation) from anything other than the C/C++ runtime libraries themselves, e.g. a
# stray std::function, std::vector or std::string in your code or in one of your libraries.
# The message names each symbol and, from the linker's cross-reference table (GNU ld / mingw ld:
# -Wl,-Map,<exe>.map -Wl,--cref, added here), the object or archive member that references it.
# Without a cross-reference table (another linker) it falls back to `nm -u` of the executable,
# which names the symbol but not the object. On failure the executable is deleted, so the next
# build checks again. ALLOW: symbols (regexes, mangled or demangled) to accept.
#
# Not attributed: allocations the runtime libraries make on your behalf inside their own code
# (printf's stream buffer in a static libc, non-inline libstdc++ functions); they are excluded
# because a no-heap program still links libc. Allocations written in your code are inline
# template code (std::function, std::vector, std::string, std::thread) and are caught.
#
#   find_package(staticrt CONFIG REQUIRED)          # or add_subdirectory(staticrt)
#   add_executable(app main.cpp)
#   target_link_libraries(app PRIVATE staticrt::staticrt)
#   staticrt_check_no_heap(app)
include_guard(GLOBAL)
# A cache entry, so the function works from any directory scope (add_subdirectory, find_package).
set(_STATICRT_NO_HEAP_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/staticrt_no_heap_check.cmake CACHE INTERNAL "staticrt_check_no_heap script")

function(staticrt_check_no_heap target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "ALLOW")
  if(NOT TARGET ${target})
    message(FATAL_ERROR "staticrt_check_no_heap: no target named '${target}'")
  endif()
  get_target_property(type ${target} TYPE)
  if(NOT type STREQUAL "EXECUTABLE")
    message(FATAL_ERROR "staticrt_check_no_heap: '${target}' is a ${type}; the check runs on a final executable")
  endif()
  set(map "")
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang" AND NOT APPLE)
    set(map "$<TARGET_FILE:${target}>.map")
    target_link_options(${target} PRIVATE "LINKER:-Map,${map}" "LINKER:--cref")
  endif()
  set(nm "${CMAKE_NM}")
  if(NOT nm)
    find_program(nm NAMES nm)
  endif()
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -DNM=${nm} -DEXE=$<TARGET_FILE:${target}> -DMAP=${map}
            "-DALLOW=${arg_ALLOW}" "-DBASE_DIRS=${CMAKE_BINARY_DIR};${CMAKE_CURRENT_BINARY_DIR}"
            -P ${_STATICRT_NO_HEAP_SCRIPT}
    COMMENT "staticrt: checking ${target} for heap allocation symbols"
    VERBATIM)
endfunction()
