# SPDX-License-Identifier: MIT
# Cross toolchain: aarch64 Linux (Debian g++-aarch64-linux-gnu), tests run under qemu-aarch64.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(STATICRT_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${STATICRT_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${STATICRT_TRIPLE}-g++)
# CMAKE_PREFIX_PATH joins the find root so that a consumer finds a cross build of staticrt installed
# anywhere: cmake -DCMAKE_TOOLCHAIN_FILE=<this file> -DCMAKE_PREFIX_PATH=<its install prefix>.
set(CMAKE_FIND_ROOT_PATH /usr/${STATICRT_TRIPLE} ${CMAKE_PREFIX_PATH})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/qemu-aarch64 -L /usr/${STATICRT_TRIPLE})
