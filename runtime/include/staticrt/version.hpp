// SPDX-License-Identifier: MIT
// staticrt/version.hpp — the library version: compile-time macros and the run-time string.
#pragma once

// The version of these headers. The build of the runtime library checks that they equal
// project(staticrt VERSION ...) in the top CMakeLists.txt (static_assert in runtime/src/version.cpp),
// so they cannot drift; bump both together and add a CHANGELOG.md section.
#define STATICRT_VERSION_MAJOR 0
#define STATICRT_VERSION_MINOR 1
#define STATICRT_VERSION_PATCH 0
/// "MAJOR.MINOR.PATCH" of these headers, as a string literal.
#define STATICRT_VERSION_STRING "0.1.0"
/// One comparable number: MAJOR * 10000 + MINOR * 100 + PATCH (0.1.0 -> 100).
#define STATICRT_VERSION (STATICRT_VERSION_MAJOR * 10000 + STATICRT_VERSION_MINOR * 100 + STATICRT_VERSION_PATCH)

namespace staticrt {
/// "MAJOR.MINOR.PATCH" of the built runtime library (equals STATICRT_VERSION_STRING of the headers
/// it was built with; a mismatch at run time means headers and library come from different installs).
[[nodiscard]] const char* version() noexcept;
}  // namespace staticrt
