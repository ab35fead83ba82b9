# SPDX-License-Identifier: MIT
# Cross toolchain: x86-64 Windows with mingw-w64 (the -posix flavour: gcc 12's -win32 flavour has
# no std::thread, which the tests use). Executables link -static (a dynamic exe cannot find the
# mingw DLLs under wine) and run under wine with a private prefix.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(STATICRT_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${STATICRT_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER ${STATICRT_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER ${STATICRT_TRIPLE}-windres)
# CMAKE_PREFIX_PATH joins the find root so that a consumer finds a cross build of staticrt installed
# anywhere: cmake -DCMAKE_TOOLCHAIN_FILE=<this file> -DCMAKE_PREFIX_PATH=<its install prefix>.
set(CMAKE_FIND_ROOT_PATH /usr/${STATICRT_TRIPLE} ${CMAKE_PREFIX_PATH})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

# Always a private WINEPREFIX: without one wine silently builds a 700 MB ~/.wine.
if(DEFINED ENV{STATICRT_WINEPREFIX})
  set(STATICRT_WINEPREFIX "$ENV{STATICRT_WINEPREFIX}" CACHE PATH "wine prefix for running tests")
else()
  set(STATICRT_WINEPREFIX "$ENV{HOME}/.cache/staticrt/wineprefix" CACHE PATH "wine prefix for running tests")
endif()
set(STATICRT_WINE ON CACHE BOOL "run Windows tests under wine")
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/env -u DISPLAY WINEDEBUG=-all
    WINEDLLOVERRIDES=mscoree,mshtml,winemenubuilder.exe=d WINEPREFIX=${STATICRT_WINEPREFIX} /usr/bin/wine)
