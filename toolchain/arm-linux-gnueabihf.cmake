# SPDX-License-Identifier: MIT
# Cross toolchain: 32-bit ARM hard-float Linux, tests run under qemu-arm.
# 64-bit time_t everywhere (y2038-safe; the futex wait then uses SYS_futex_time64).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(STATICRT_TRIPLE arm-linux-gnueabihf)
set(CMAKE_C_COMPILER ${STATICRT_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${STATICRT_TRIPLE}-g++)
set(CMAKE_C_FLAGS_INIT "-D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64")
set(CMAKE_CXX_FLAGS_INIT "-D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64")
# CMAKE_PREFIX_PATH joins the find root so that a consumer finds a cross build of staticrt installed
# anywhere: cmake -DCMAKE_TOOLCHAIN_FILE=<this file> -DCMAKE_PREFIX_PATH=<its install prefix>.
set(CMAKE_FIND_ROOT_PATH /usr/${STATICRT_TRIPLE} ${CMAKE_PREFIX_PATH})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/qemu-arm -L /usr/${STATICRT_TRIPLE})
