# SPDX-License-Identifier: MIT
# Fails when a staticrt library references a heap or exception symbol (the no-heap contract).
# Usage: cmake -DNM=<nm> -DLIBS=<lib;lib> -P nm_audit.cmake
set(forbidden
  "^_?malloc$" "^_?calloc$" "^_?realloc$" "^_?free$" "^_?aligned_alloc$" "^_?posix_memalign$"
  "^_?memalign$" "^_?valloc$" "^_?pvalloc$" "^_?reallocarray$" "^_?_aligned_malloc$" "^_?_aligned_free$"
  "^_?strdup$" "^_?strndup$" "^_Znw" "^_Zna" "^_Zdl" "^_Zda" "^__cxa_allocate_exception$" "^__cxa_throw$"
  "^__cxa_begin_catch$" "^_Unwind_Resume$" "^__gxx_personality")
set(failed 0)
foreach(lib IN LISTS LIBS)
  execute_process(COMMAND ${NM} -u ${lib} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "nm -u ${lib} failed (${rc})")
  endif()
  string(REPLACE "\n" ";" lines "${out}")
  set(count 0)
  foreach(line IN LISTS lines)
    string(STRIP "${line}" line)
    string(REGEX REPLACE "^U[ \t]+" "" sym "${line}")
    string(REGEX REPLACE "^__imp_" "" sym "${sym}")
    if(sym STREQUAL "" OR sym MATCHES ":$")
      continue()
    endif()
    math(EXPR count "${count} + 1")
    foreach(pat IN LISTS forbidden)
      if(sym MATCHES "${pat}")
        message(SEND_ERROR "${lib}: forbidden symbol ${sym}")
        set(failed 1)
      endif()
    endforeach()
  endforeach()
  message(STATUS "${lib}: ${count} undefined symbols checked")
endforeach()
if(failed)
  message(FATAL_ERROR "no-heap audit failed")
endif()
message(STATUS "no-heap audit passed")
