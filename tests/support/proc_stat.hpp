// SPDX-License-Identifier: MIT
// tests/support/proc_stat.hpp — is a Linux process still running (read from /proc/<pid>/stat)?
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstring>

namespace staticrt::test {

/// True when pid runs: it exists and is neither a zombie (Z) nor dead (X) waiting to be reaped.
inline bool running(long pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE* f = std::fopen(path, "r");
    if (f == nullptr) return false;
    char buf[512] = {};
    const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    const char* close = std::strrchr(buf, ')');
    return close != nullptr && close[1] == ' ' && close[2] != 'Z' && close[2] != 'X';
}

}  // namespace staticrt::test
