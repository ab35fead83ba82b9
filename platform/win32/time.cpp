// SPDX-License-Identifier: MIT
// Win32 monotonic clock and sleep.
//
// Instant::now() reads QueryPerformanceCounter (monotonic, never stepped by wall-clock changes,
// typically 100 ns resolution) and scales it to nanoseconds without overflow. sleep_until()
// waits on a high-resolution waitable timer (CREATE_WAITABLE_TIMER_HIGH_RESOLUTION, Windows 10
// 1803+, ~0.5 ms precision) and re-checks the monotonic clock after every wake, so it never
// returns before the deadline. Where such a timer is refused (older Windows, wine) it falls back
// to Sleep() for the whole milliseconds left (rounded DOWN, so it never oversleeps by design)
// and yields the time slice for the final sub-millisecond part.
#include "win32_detail.hpp"

#include <atomic>

#include "staticrt/platform/time.hpp"

#ifndef CREATE_WAITABLE_TIMER_HIGH_RESOLUTION
#define CREATE_WAITABLE_TIMER_HIGH_RESOLUTION 0x00000002  // Windows 10 1803 SDK; older headers lack it
#endif

namespace staticrt::platform {
namespace {

// QueryPerformanceFrequency is fixed at boot. Cached in a constant-initialised atomic (no
// function-local static: its guard would go through winpthreads under mingw -posix).
std::atomic<std::int64_t> g_qpc_frequency{0};
// 1e9 / frequency when that is exact (10 MHz on Windows 10+: 100), else 0 (use the general formula).
std::atomic<std::int64_t> g_qpc_ns_per_tick{0};

// 0: not tried yet, 1: the high-resolution timer works, 2: refused (use the Sleep loop).
constexpr std::uint32_t kHiresUnknown = 0, kHiresWorks = 1, kHiresRefused = 2;
std::atomic<std::uint32_t> g_hires_state{kHiresUnknown};

std::int64_t qpc_frequency() noexcept {
    // [time.freq] relaxed: every thread computes the same constant; nothing else is published with it.
    std::int64_t f = g_qpc_frequency.load(std::memory_order_relaxed);
    if (f == 0) {
        LARGE_INTEGER li{};
        ::QueryPerformanceFrequency(&li);  // cannot fail on Windows XP and later
        f = li.QuadPart > 0 ? li.QuadPart : 1;
        // [time.freq] relaxed: a reader that sees the frequency but not yet this value takes the
        // general (also exact) path, so no order between the two stores is needed.
        if (f <= 1'000'000'000 && 1'000'000'000 % f == 0)
            g_qpc_ns_per_tick.store(1'000'000'000 / f, std::memory_order_relaxed);
        // [time.freq] relaxed: pairs with the relaxed load above; a racing thread stores the same value.
        g_qpc_frequency.store(f, std::memory_order_relaxed);
    }
    return f;
}

// One high-resolution timer per thread, created on the thread's first sleep and kept until the
// thread exits. Saves two kernel calls per sleep.
constinit win32::ThreadKeptHandle g_thread_timer;

HANDLE create_hires_timer() noexcept {
    // [time.hires] relaxed: a cached capability bit, nothing is published with it.
    if (g_hires_state.load(std::memory_order_relaxed) == kHiresRefused) return nullptr;
    HANDLE timer = ::CreateWaitableTimerExW(nullptr, nullptr, CREATE_WAITABLE_TIMER_HIGH_RESOLUTION,
                                            TIMER_MODIFY_STATE | SYNCHRONIZE);
    if (timer == nullptr) {
        // ERROR_INVALID_PARAMETER: the flag is unknown to this Windows; remember that. Any other
        // failure (out of handles) falls back for this call only.
        if (::GetLastError() == ERROR_INVALID_PARAMETER)
            g_hires_state.store(kHiresRefused, std::memory_order_relaxed);  // [time.hires] relaxed
        return nullptr;
    }
    g_hires_state.store(kHiresWorks, std::memory_order_relaxed);  // [time.hires] relaxed
    return timer;
}

/// The calling thread's cached timer; nullptr when none can be cached (the caller then creates
/// and closes one for its own call).
HANDLE thread_timer() noexcept { return g_thread_timer.get([] { return create_hires_timer(); }); }

// Sleeps on a high-resolution waitable timer until `deadline`. False: no such timer here
// (nothing slept, or a timer call failed part-way); the caller finishes with the Sleep loop.
bool sleep_on_timer(Deadline deadline) noexcept {
    HANDLE timer = thread_timer();
    const bool owned = timer == nullptr;  // not cached: one timer for this call only
    if (owned) timer = create_hires_timer();
    if (timer == nullptr) return false;
    bool slept = true;
    for (;;) {
        const std::int64_t left = deadline.remaining_ns();
        if (left <= 0) break;
        LARGE_INTEGER due{};
        due.QuadPart = -((left + 99) / 100);  // relative, in 100 ns units, rounded up
        if (!::SetWaitableTimer(timer, &due, 0, nullptr, nullptr, FALSE) ||
            ::WaitForSingleObject(timer, INFINITE) != WAIT_OBJECT_0) {
            slept = false;  // let the Sleep loop finish the job
            break;
        }
    }
    if (owned) ::CloseHandle(timer);
    return slept;
}

}  // namespace

Instant Instant::now() noexcept {
    LARGE_INTEGER li{};
    ::QueryPerformanceCounter(&li);  // cannot fail on Windows XP and later
    const std::int64_t f = qpc_frequency();
    const std::int64_t c = li.QuadPart;
    // [time.freq] relaxed: see qpc_frequency(). c * per_tick is nanoseconds since boot: it overflows after ~292 years.
    const std::int64_t per_tick = g_qpc_ns_per_tick.load(std::memory_order_relaxed);
    if (per_tick != 0) return Instant(c * per_tick);
    // whole seconds and the remainder separately: c * 1e9 would overflow after ~10 days at 10 MHz.
    return Instant((c / f) * 1'000'000'000 + ((c % f) * 1'000'000'000) / f);
}

Result<void> sleep_until(Deadline deadline) noexcept {
    if (deadline.is_never()) return unexpected(Errc::invalid_argument);
    if (deadline.is_poll()) return ok();
    if (sleep_on_timer(deadline)) return ok();
    for (;;) {
        const std::int64_t left = deadline.remaining_ns();
        if (left <= 0) return ok();
        const std::int64_t ms = left / 1'000'000;  // rounded down: Sleep() itself adds up to a tick
        if (ms > 0) {
            ::Sleep(ms >= static_cast<std::int64_t>(win32::kMaxFiniteMs) ? win32::kMaxFiniteMs : static_cast<DWORD>(ms));
        } else {
            ::SwitchToThread();  // under 1 ms left: give the slice away and re-check
        }
    }
}

}  // namespace staticrt::platform
