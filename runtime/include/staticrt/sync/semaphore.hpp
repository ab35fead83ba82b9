// SPDX-License-Identifier: MIT
// staticrt/sync/semaphore.hpp — BasicSemaphore<Scope> and BasicBoundedSemaphore<Scope>.
//
// A counting semaphore on one 32-bit futex word plus a sleeper count. acquire() takes one unit,
// waiting until one is available or the deadline; release(n) adds n units. BoundedSemaphore
// (Python's threading.BoundedSemaphore) refuses a release that would take the count above its
// initial value: Errc::over_release, and the count is unchanged. An uncontended acquire/release
// is one atomic read-modify-write and never enters the kernel; release() calls wake only when a
// thread sleeps. No pointers inside: the process_shared flavours may live in shared memory.
//
// Memory ordering: everything written before release() is visible to the thread whose acquire()
// takes a unit it added ([sem.release] pairs with [sem.acquire]).
//
//   constinit staticrt::BoundedSemaphore g_slots{8};
//   if (g_slots.acquire(staticrt::Deadline::after(10ms))) { use_slot(); (void)g_slots.release(); }
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"
#include "staticrt/result.hpp"
#include "staticrt/sync/count.hpp"

namespace staticrt {

using platform::WaitScope;

namespace detail {
/// Takes one unit if count > 0 (acquire). Never blocks.
[[nodiscard]] bool semaphore_try_acquire(std::atomic<std::uint32_t>& count) noexcept;
/// Blocking acquire: registers as a sleeper and parks until a unit is taken or the deadline.
[[nodiscard]] Result<void> semaphore_acquire_slow(std::atomic<std::uint32_t>& count,
                                                  std::atomic<std::uint32_t>& sleepers, Deadline deadline,
                                                  WaitScope scope) noexcept;
/// Adds n unless count + n > limit (Errc::over_release) and wakes sleepers when there are any.
[[nodiscard]] Result<void> semaphore_release(std::atomic<std::uint32_t>& count,
                                             const std::atomic<std::uint32_t>& sleepers, std::uint32_t n,
                                             std::uint32_t limit, WaitScope scope) noexcept;
}  // namespace detail

/// A counting semaphore (Python's threading.Semaphore).
template <WaitScope Scope>
class BasicSemaphore {
public:
    static constexpr WaitScope kScope = Scope;
    static constexpr std::uint32_t kMax = SyncCount::kMax;

    // ---- lifetime: not copyable, not movable
    constexpr BasicSemaphore() noexcept = default;
    constexpr explicit BasicSemaphore(SyncCount initial) noexcept : m_count(initial.value()) {}
    BasicSemaphore(const BasicSemaphore&) = delete;
    BasicSemaphore& operator=(const BasicSemaphore&) = delete;
    ~BasicSemaphore() = default;

    /// Sets the count from a run-time value before the semaphore is shared. Errc::invalid_argument
    /// when initial < 0 or > kMax (nothing changes).
    [[nodiscard]] Result<void> init(std::int64_t initial) noexcept {
        if (initial < 0 || initial > static_cast<std::int64_t>(kMax)) return Errc::invalid_argument;
        m_count.store(static_cast<std::uint32_t>(initial), std::memory_order_relaxed);  // [sem.init] before sharing
        return ok();
    }

    // ---- non-blocking
    /// Takes a unit if one is available.
    [[nodiscard]] bool try_acquire() noexcept { return detail::semaphore_try_acquire(m_count); }
    /// Adds n units (default 1) and wakes sleepers. Errc::over_release when the count would
    /// exceed kMax (nothing changes).
    [[nodiscard]] Result<void> release(std::uint32_t n = 1) noexcept {
        return detail::semaphore_release(m_count, m_sleepers, n, kMax, Scope);
    }

    // ---- blocking
    /// Takes a unit, waiting until the deadline. Errc::timeout when none came in time.
    [[nodiscard]] Result<void> acquire(Deadline deadline = Deadline::never()) noexcept {
        if (try_acquire()) return ok();
        return detail::semaphore_acquire_slow(m_count, m_sleepers, deadline, Scope);
    }
    template <class Rep, class Period>
    [[nodiscard]] bool try_acquire_for(std::chrono::duration<Rep, Period> d) noexcept {
        return static_cast<bool>(acquire(Deadline::after(d)));
    }
    template <class Clock, class Dur>
    [[nodiscard]] bool try_acquire_until(std::chrono::time_point<Clock, Dur> tp) noexcept {
        return static_cast<bool>(acquire(Deadline::at(tp)));
    }

    // ---- observers
    /// The current count (a snapshot).
    [[nodiscard]] std::uint32_t value() const noexcept { return m_count.load(std::memory_order_relaxed); }
    /// Threads registered to sleep in acquire(): a snapshot, for tests and diagnostics (a test
    /// waits for it before releasing, so the wake path is the one exercised).
    [[nodiscard]] std::uint32_t sleepers() const noexcept {
        return m_sleepers.load(std::memory_order_relaxed);  // relaxed: a snapshot, no ordering promised
    }

private:
    std::atomic<std::uint32_t> m_count{0};     ///< written by acquirers and releasers
    std::atomic<std::uint32_t> m_sleepers{0};  ///< threads registered to sleep in acquire()
};

/// A semaphore whose count may never exceed its initial value (Python's BoundedSemaphore).
template <WaitScope Scope>
class BasicBoundedSemaphore {
public:
    static constexpr WaitScope kScope = Scope;
    static constexpr std::uint32_t kMax = SyncCount::kMax;

    // ---- lifetime: not copyable, not movable
    /// Bound and count 0 (use init() for a run-time value).
    constexpr BasicBoundedSemaphore() noexcept = default;
    /// Bound and initial count `initial` (a negative constant does not compile).
    constexpr explicit BasicBoundedSemaphore(SyncCount initial) noexcept
        : m_count(initial.value()), m_limit(initial.value()) {}
    BasicBoundedSemaphore(const BasicBoundedSemaphore&) = delete;
    BasicBoundedSemaphore& operator=(const BasicBoundedSemaphore&) = delete;
    ~BasicBoundedSemaphore() = default;

    /// Sets bound and count from a run-time value before the semaphore is shared.
    /// Errc::invalid_argument when initial < 0 or > kMax (nothing changes).
    [[nodiscard]] Result<void> init(std::int64_t initial) noexcept {
        if (initial < 0 || initial > static_cast<std::int64_t>(kMax)) return Errc::invalid_argument;
        m_limit = static_cast<std::uint32_t>(initial);
        m_count.store(m_limit, std::memory_order_relaxed);  // [sem.init] before sharing
        return ok();
    }

    // ---- non-blocking
    [[nodiscard]] bool try_acquire() noexcept { return detail::semaphore_try_acquire(m_count); }
    /// Returns n units (default 1). Errc::over_release when the count would exceed the initial
    /// value; nothing changes then.
    [[nodiscard]] Result<void> release(std::uint32_t n = 1) noexcept {
        return detail::semaphore_release(m_count, m_sleepers, n, m_limit, Scope);
    }

    // ---- blocking
    [[nodiscard]] Result<void> acquire(Deadline deadline = Deadline::never()) noexcept {
        if (try_acquire()) return ok();
        return detail::semaphore_acquire_slow(m_count, m_sleepers, deadline, Scope);
    }
    template <class Rep, class Period>
    [[nodiscard]] bool try_acquire_for(std::chrono::duration<Rep, Period> d) noexcept {
        return static_cast<bool>(acquire(Deadline::after(d)));
    }
    template <class Clock, class Dur>
    [[nodiscard]] bool try_acquire_until(std::chrono::time_point<Clock, Dur> tp) noexcept {
        return static_cast<bool>(acquire(Deadline::at(tp)));
    }

    // ---- observers
    [[nodiscard]] std::uint32_t value() const noexcept { return m_count.load(std::memory_order_relaxed); }
    /// The bound (the initial value).
    [[nodiscard]] constexpr std::uint32_t limit() const noexcept { return m_limit; }
    /// Threads registered to sleep in acquire(): a snapshot, for tests and diagnostics (a test
    /// waits for it before releasing, so the wake path is the one exercised).
    [[nodiscard]] std::uint32_t sleepers() const noexcept {
        return m_sleepers.load(std::memory_order_relaxed);  // relaxed: a snapshot, no ordering promised
    }

private:
    std::atomic<std::uint32_t> m_count{0};
    std::atomic<std::uint32_t> m_sleepers{0};
    std::uint32_t m_limit = 0;  ///< written once, before sharing
};

using Semaphore = BasicSemaphore<WaitScope::process_private>;
using ProcessSemaphore = BasicSemaphore<WaitScope::process_shared>;
using BoundedSemaphore = BasicBoundedSemaphore<WaitScope::process_private>;
using ProcessBoundedSemaphore = BasicBoundedSemaphore<WaitScope::process_shared>;

}  // namespace staticrt
