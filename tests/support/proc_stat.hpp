// SPDX-License-Identifier: MIT
// tests/support/proc_stat.hpp — is a Linux process still running, is a thread asleep (read from /proc)?
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstring>

namespace staticrt::test {

/// The state letter of a /proc stat file (R running, S sleeping, D disk, Z zombie, ...); '\0'
/// when it cannot be read.
inline char stat_state(const char* path) {
    FILE* f = std::fopen(path, "r");
    if (f == nullptr) return '\0';
    char buf[512] = {};
    const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    const char* close = std::strrchr(buf, ')');
    return close != nullptr && close[1] == ' ' ? close[2] : '\0';
}

/// True when pid runs: it exists and is neither a zombie (Z) nor dead (X) waiting to be reaped.
inline bool running(long pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    const char st = stat_state(path);
    return st != '\0' && st != 'Z' && st != 'X';
}

/// True when thread `tid` of this process (platform::current_thread_id()) sleeps in the kernel
/// (S): a thread that only blocks in one call is then parked in it. Host tests poll this before
/// the action that must wake it, where the primitive has no waiter count of its own.
inline bool thread_sleeping(long tid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/self/task/%ld/stat", tid);
    return stat_state(path) == 'S';
}

}  // namespace staticrt::test
