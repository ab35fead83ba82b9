// SPDX-License-Identifier: MIT
// Uses staticrt from outside its tree: the compile-time and run-time versions, a Deadline and an
// atomic wait that times out.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "staticrt/platform/wait.hpp"
#include "staticrt/result.hpp"
#include "staticrt/version.hpp"

static_assert(STATICRT_VERSION == STATICRT_VERSION_MAJOR * 10000 + STATICRT_VERSION_MINOR * 100 + STATICRT_VERSION_PATCH);
#if STATICRT_VERSION < 100
#error "the version macros are usable in #if and say at least 0.1.0"
#endif

int main() {
#ifdef STATICRT_EXPECTED_VERSION
    // The build system's version (find_package / project()) equals the headers' macros.
    if (std::strcmp(STATICRT_EXPECTED_VERSION, STATICRT_VERSION_STRING) != 0) {
        std::printf("headers say %s, the build system %s\n", STATICRT_VERSION_STRING, STATICRT_EXPECTED_VERSION);
        return 1;
    }
#endif
    // Headers and library come from the same build.
    if (std::strcmp(staticrt::version(), STATICRT_VERSION_STRING) != 0) {
        std::printf("library %s, headers %s\n", staticrt::version(), STATICRT_VERSION_STRING);
        return 1;
    }
    std::atomic<std::uint32_t> word{0};
    auto r = staticrt::platform::wait(word, 0, staticrt::Deadline::after(std::chrono::milliseconds(1)));
    if (r || r.error() != staticrt::Errc::timeout) return 1;
    std::printf("consumer ok: staticrt %s\n", staticrt::version());
    return 0;
}
