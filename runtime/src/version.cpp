// SPDX-License-Identifier: MIT
#include "staticrt/version.hpp"

// STATICRT_CMAKE_VERSION_* come from project(staticrt VERSION ...) (top CMakeLists.txt).
static_assert(STATICRT_VERSION_MAJOR == STATICRT_CMAKE_VERSION_MAJOR &&
                  STATICRT_VERSION_MINOR == STATICRT_CMAKE_VERSION_MINOR &&
                  STATICRT_VERSION_PATCH == STATICRT_CMAKE_VERSION_PATCH,
              "staticrt/version.hpp's STATICRT_VERSION_* differ from project(VERSION) in CMakeLists.txt: "
              "update both (and CHANGELOG.md)");

namespace {
constexpr bool same(const char* a, const char* b) {
    while (*a != '\0' && *a == *b) ++a, ++b;
    return *a == *b;
}
}  // namespace
static_assert(same(STATICRT_VERSION_STRING, STATICRT_CMAKE_VERSION_STRING),
              "STATICRT_VERSION_STRING in staticrt/version.hpp differs from project(VERSION)");

namespace staticrt {
const char* version() noexcept { return STATICRT_VERSION_STRING; }
}  // namespace staticrt
