// SPDX-License-Identifier: MIT
// staticrt/platform/time.hpp — the monotonic clock, Deadline and sleep.
//
// Every wait in staticrt takes one Deadline and measures it on the monotonic clock
// (CLOCK_MONOTONIC / QueryPerformanceCounter), so a wall-clock step never lengthens a wait.
// Deadline::poll() polls, Deadline::never() blocks, Deadline::after(5ms) times out.
// Bad durations never hang or overflow: zero polls, negative is already expired, huge
// values saturate to never(). A system_clock time point is converted to the monotonic
// clock once, when the Deadline is made.
//
//   auto d = Deadline::after(std::chrono::milliseconds(5));
//   while (!ready() && !d.expired()) platform::cpu_relax();
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>

#include "staticrt/platform/result.hpp"

namespace staticrt::platform {

/// A point on the monotonic clock, in nanoseconds since an unspecified epoch (boot).
class Instant {
public:
    constexpr Instant() noexcept = default;
    constexpr explicit Instant(std::int64_t ns) noexcept : m_ns(ns) {}

    /// Reads the monotonic clock. No syscall on Linux (vDSO).
    [[nodiscard]] static Instant now() noexcept;

    [[nodiscard]] constexpr std::int64_t ns() const noexcept { return m_ns; }
    [[nodiscard]] constexpr std::chrono::nanoseconds since_epoch() const noexcept {
        return std::chrono::nanoseconds(m_ns);
    }
    /// this - earlier, saturating.
    [[nodiscard]] constexpr std::int64_t ns_since(Instant earlier) const noexcept {
        return sat_sub(m_ns, earlier.m_ns);
    }

    friend constexpr auto operator<=>(Instant, Instant) noexcept = default;

    [[nodiscard]] static constexpr std::int64_t sat_add(std::int64_t a, std::int64_t b) noexcept {
        if (b > 0 && a > std::numeric_limits<std::int64_t>::max() - b) return std::numeric_limits<std::int64_t>::max();
        if (b < 0 && a < std::numeric_limits<std::int64_t>::min() - b) return std::numeric_limits<std::int64_t>::min();
        return a + b;
    }
    [[nodiscard]] static constexpr std::int64_t sat_sub(std::int64_t a, std::int64_t b) noexcept {
        if (b == std::numeric_limits<std::int64_t>::min()) return a >= 0 ? std::numeric_limits<std::int64_t>::max() : a - b;
        return sat_add(a, -b);
    }

private:
    std::int64_t m_ns = 0;
};

/// Converts any std::chrono duration to nanoseconds, saturating instead of overflowing.
template <class Rep, class Period>
[[nodiscard]] constexpr std::int64_t to_ns_saturating(std::chrono::duration<Rep, Period> d) noexcept {
    using Max = std::chrono::duration<long double, std::nano>;
    const long double ns = std::chrono::duration_cast<Max>(d).count();
    if (!(ns == ns)) return 0;  // NaN (floating durations): treat as zero, i.e. poll
    if (ns >= static_cast<long double>(std::numeric_limits<std::int64_t>::max())) return std::numeric_limits<std::int64_t>::max();
    if (ns <= static_cast<long double>(std::numeric_limits<std::int64_t>::min())) return std::numeric_limits<std::int64_t>::min();
    return static_cast<std::int64_t>(ns);
}

/// When a blocking call gives up. Cheap to copy; 8 bytes.
class Deadline {
public:
    /// Already expired: the blocking call polls once.
    [[nodiscard]] static constexpr Deadline poll() noexcept { return Deadline(kPollNs); }
    /// Never expires.
    [[nodiscard]] static constexpr Deadline never() noexcept { return Deadline(kNeverNs); }
    /// At a monotonic instant.
    [[nodiscard]] static constexpr Deadline at(Instant t) noexcept {
        return t.ns() >= kNeverNs ? never() : Deadline(t.ns() <= kPollNs ? kPollNs : t.ns());
    }
    /// `d` from now. d <= 0 polls; a huge d (beyond ~292 years) is never().
    template <class Rep, class Period>
    [[nodiscard]] static Deadline after(std::chrono::duration<Rep, Period> d) noexcept {
        const std::int64_t ns = to_ns_saturating(d);
        if (ns <= 0) return poll();
        if (ns == std::numeric_limits<std::int64_t>::max()) return never();
        return at(Instant(Instant::sat_add(Instant::now().ns(), ns)));
    }
    /// At a time point of steady_clock (used as is), or of any other clock (converted once, now).
    template <class Clock, class Dur>
    /// Saturating: time_point::min() (or anything far in the past) polls, time_point::max()
    /// is never(); the difference to now is taken in saturated nanoseconds, never in Dur
    /// (tp - Clock::now() overflows for extreme time points).
    [[nodiscard]] static Deadline at(std::chrono::time_point<Clock, Dur> tp) noexcept {
        const std::int64_t t = to_ns_saturating(tp.time_since_epoch());
        if (t == std::numeric_limits<std::int64_t>::max()) return never();
        if (t == std::numeric_limits<std::int64_t>::min()) return poll();
        const std::int64_t now = to_ns_saturating(Clock::now().time_since_epoch());
        return after(std::chrono::nanoseconds(Instant::sat_sub(t, now)));
    }

    [[nodiscard]] constexpr bool is_never() const noexcept { return m_ns == kNeverNs; }
    [[nodiscard]] constexpr bool is_poll() const noexcept { return m_ns == kPollNs; }
    [[nodiscard]] constexpr Instant instant() const noexcept { return Instant(m_ns); }
    [[nodiscard]] bool expired() const noexcept { return !is_never() && Instant::now().ns() >= m_ns; }
    /// Nanoseconds left, >= 0; INT64_MAX for never().
    [[nodiscard]] std::int64_t remaining_ns() const noexcept {
        if (is_never()) return std::numeric_limits<std::int64_t>::max();
        const std::int64_t left = Instant::sat_sub(m_ns, Instant::now().ns());
        return left > 0 ? left : 0;
    }

    friend constexpr bool operator==(Deadline, Deadline) noexcept = default;

private:
    static constexpr std::int64_t kPollNs = std::numeric_limits<std::int64_t>::min();
    static constexpr std::int64_t kNeverNs = std::numeric_limits<std::int64_t>::max();
    constexpr explicit Deadline(std::int64_t ns) noexcept : m_ns(ns) {}
    std::int64_t m_ns;
};

/// Sleeps until the deadline has passed (never() is refused: Errc::invalid_argument).
/// Uses the monotonic clock; signals/spurious returns are absorbed.
[[nodiscard]] Result<void> sleep_until(Deadline deadline) noexcept;

/// Sleeps for `d` (<= 0 returns at once).
template <class Rep, class Period>
inline void sleep_for(std::chrono::duration<Rep, Period> d) noexcept {
    if (to_ns_saturating(d) <= 0) return;
    (void)sleep_until(Deadline::after(d));
}

}  // namespace staticrt::platform

namespace staticrt {
using platform::Deadline;
using platform::Instant;
}  // namespace staticrt
