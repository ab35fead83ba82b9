// SPDX-License-Identifier: MIT
// bench/flags.hpp — strict command-line values for the bench programs: a value that is not a
// whole number / number in range is an error that names the flag, never a silent 0 (atoi).
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace staticrt::bench_flags {

/// Prints "<prog>: <flag>: <why> ('<text>')", then exits 2 (a usage error).
[[noreturn]] inline void bad_value(const char* prog, const char* flag, const char* text, const char* why) {
    std::fprintf(stderr, "%s: %s: %s ('%s'); --help shows the usage\n", prog, flag, why, text);
    std::exit(2);
}

/// A whole number in [lo, hi], or exit 2 naming the flag.
inline unsigned long long whole(const char* prog, const char* flag, const char* text, unsigned long long lo,
                                unsigned long long hi = std::numeric_limits<unsigned long long>::max()) {
    if (text == nullptr || *text == '\0' || *text == '-' || *text == '+') bad_value(prog, flag, text ? text : "", "not a whole number");
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(text, &end, 10);
    if (*end != '\0') bad_value(prog, flag, text, "not a whole number");
    if (errno == ERANGE || v < lo || v > hi) {
        char why[96];
        std::snprintf(why, sizeof why, "out of range [%llu, %llu]", lo, hi);
        bad_value(prog, flag, text, why);
    }
    return v;
}

/// A finite number in [lo, hi], or exit 2 naming the flag.
inline double number(const char* prog, const char* flag, const char* text, double lo, double hi) {
    if (text == nullptr || *text == '\0') bad_value(prog, flag, "", "not a number");
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(text, &end);
    if (*end != '\0' || errno == ERANGE || !(v == v)) bad_value(prog, flag, text, "not a number");
    if (v < lo || v > hi) {
        char why[96];
        std::snprintf(why, sizeof why, "out of range [%g, %g]", lo, hi);
        bad_value(prog, flag, text, why);
    }
    return v;
}

}  // namespace staticrt::bench_flags
