# SPDX-License-Identifier: MIT
# Warning and language flags shared by every staticrt target.
function(staticrt_warnings target)
  if(MSVC)
    target_compile_options(${target} PRIVATE /W4 $<$<BOOL:${STATICRT_WERROR}>:/WX>)
  else()
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
      -Wcast-align -Wnull-dereference -Wimplicit-fallthrough
      $<$<BOOL:${STATICRT_WERROR}>:-Werror>)
  endif()
endfunction()

# The libraries: warnings, and by default no exceptions and no RTTI (the no-heap contract).
function(staticrt_library_flags target)
  staticrt_warnings(${target})
  if(STATICRT_NO_EXCEPTIONS AND NOT MSVC)
    target_compile_options(${target} PRIVATE -fno-exceptions -fno-rtti)
  endif()
endfunction()

# Which sanitizer the build uses (set by the asan/tsan presets; the flags come from the preset).
set(STATICRT_SANITIZE "none" CACHE STRING "Sanitizer of this build: none, address or thread")
