// SPDX-License-Identifier: MIT
// POSIX monotonic clock and sleep (CLOCK_MONOTONIC, clock_nanosleep with TIMER_ABSTIME).
#include "staticrt/platform/time.hpp"

#include <cerrno>
#include <ctime>

namespace staticrt::platform {

Instant Instant::now() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);  // cannot fail for CLOCK_MONOTONIC with a valid pointer
    return Instant(static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec);
}

Result<void> sleep_until(Deadline deadline) noexcept {
    if (deadline.is_never()) return unexpected(Errc::invalid_argument);
    if (deadline.is_poll()) return ok();
    const std::int64_t ns = deadline.instant().ns();
    if (ns <= 0) return ok();  // before the clock's epoch (boot): long past; a negative timespec is EINVAL
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    for (;;) {
        const int rc = ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
        if (rc == 0) return ok();
        if (rc != EINTR) return unexpected(Errc::os_error, rc);
    }
}

}  // namespace staticrt::platform
