// Uses the installed package: the version, a Deadline and an atomic wait that times out.
#include <atomic>
#include <chrono>
#include <cstdio>

#include "staticrt/platform/wait.hpp"
#include "staticrt/result.hpp"
#include "staticrt/version.hpp"

int main() {
    std::atomic<std::uint32_t> word{0};
    auto r = staticrt::platform::wait(word, 0, staticrt::Deadline::after(std::chrono::milliseconds(1)));
    if (r || r.error() != staticrt::Errc::timeout) return 1;
    std::printf("consumer ok: staticrt %s\n", staticrt::version());
    return 0;
}
