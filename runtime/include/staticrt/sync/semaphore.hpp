// SPDX-License-Identifier: MIT
// staticrt/sync/semaphore.hpp — BasicSemaphore<Scope>, BasicBoundedSemaphore<Scope> and the
// SemaphoreLike concept both satisfy.
//
// A counting semaphore on one 32-bit count word plus the waiting layer's EventCount (epoch and
// waiter count, detail::SleepWord). acquire() takes one unit,
// waiting until one is available or the deadline; release(n) adds n units. BoundedSemaphore
// (Python's threading.BoundedSemaphore) refuses a release that would take the count above its
// initial value: Errc::over_release, and the count is unchanged. Both are one class,
// detail::SemaphoreCore, that differ only in the bound release() checks (kMax, or the initial
// value) — the same calls (SemaphoreLike), the same code. An uncontended acquire/release is one
// atomic read-modify-write and never enters the kernel; release() calls wake only when a thread
// sleeps (one load of the waiter count otherwise). No pointers inside: the process_shared
// flavours may live in shared memory.
//
// Counts: a constant in the constructor (`Semaphore s{4}`, checked at compile time), a run-time
// value through init(n) before sharing (Errc::invalid_argument when negative or > kMax); see
// staticrt/sync/count.hpp.
//
// Memory ordering: everything written before release() is visible to the thread whose acquire()
// takes a unit it added ([sem.release] pairs with [sem.acquire]).
//
//   constinit staticrt::BoundedSemaphore g_slots{8};
//   if (g_slots.acquire(staticrt::Deadline::after(10ms))) { use_slot(); (void)g_slots.release(); }
#pragma once

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>

#include "staticrt/detail/wait_policy.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"
#include "staticrt/result.hpp"
#include "staticrt/sync/count.hpp"
#include "staticrt/sync/sleep_word.hpp"

namespace staticrt {

using platform::WaitScope;

namespace detail {
/// The bound release() checks: stored for a BoundedSemaphore, the constant kMax (no storage) otherwise.
template <bool Bounded>
struct SemaphoreLimit {
    constexpr SemaphoreLimit() noexcept = default;
    constexpr explicit SemaphoreLimit(std::uint32_t v) noexcept : value(v) {}
    std::uint32_t value = 0;  ///< written once, before sharing
};
template <>
struct SemaphoreLimit<false> {
    constexpr SemaphoreLimit() noexcept = default;
    constexpr explicit SemaphoreLimit(std::uint32_t) noexcept {}
    static constexpr std::uint32_t value = SyncCount::kMax;
};

/// The semaphore: a count that release() may raise up to `limit`. BasicSemaphore fixes the
/// limit at kMax, BasicBoundedSemaphore at the initial value; everything else is here, once.
/// P: the wait policy (OsWaitPolicy; tests/dsched instantiates DSchedPolicy).
template <WaitScope Scope, bool Bounded, class P = OsWaitPolicy>
class SemaphoreCore {
public:
    static constexpr WaitScope kScope = Scope;
    static constexpr std::uint32_t kMax = SyncCount::kMax;

    // ---- lifetime: not copyable, not movable (sleepers wait on its address)
    /// Count 0 (and, bounded, bound 0): set a run-time value with init().
    constexpr SemaphoreCore() noexcept = default;
    /// Count `initial` (bounded: also the bound). A negative or too-large constant does not compile.
    constexpr explicit SemaphoreCore(SyncCount initial) noexcept
        : m_state(initial.value()), m_limit(initial.value()) {}
    SemaphoreCore(const SemaphoreCore&) = delete;
    SemaphoreCore& operator=(const SemaphoreCore&) = delete;
    ~SemaphoreCore() = default;

    /// Sets the count (bounded: and the bound) from a run-time value, before the semaphore is
    /// shared. Errc::invalid_argument when initial < 0 or > kMax; nothing changes then.
    [[nodiscard]] Result<void> init(std::int64_t initial) noexcept {
        if (!SyncCount::in_range(initial)) return unexpected(Errc::invalid_argument);
        if constexpr (Bounded) m_limit.value = static_cast<std::uint32_t>(initial);
        // [sem.init] relaxed: before sharing; whatever shares the semaphore publishes it.
        m_state.word.store(static_cast<std::uint32_t>(initial), std::memory_order_relaxed);
        return ok();
    }

    // ---- non-blocking
    /// Takes a unit if one is available.
    [[nodiscard]] bool try_acquire() noexcept { return semaphore_try_acquire(m_state); }
    /// Adds n units (default 1) and wakes sleepers. Errc::over_release when the count would
    /// exceed limit() (Semaphore: kMax; BoundedSemaphore: the initial value); nothing changes then.
    [[nodiscard]] Result<void> release(std::uint32_t n = 1) noexcept {
        return semaphore_release(m_state, n, m_limit.value);
    }

    // ---- blocking
    /// Takes a unit, waiting until the deadline. Errc::timeout when none came in time
    /// (Deadline::poll() tries once).
    [[nodiscard]] Result<void> acquire(Deadline deadline = Deadline::never()) noexcept {
        if (try_acquire()) return ok();
        return semaphore_acquire_slow(m_state, deadline);
    }
    /// std-named adapters: forward to acquire(Deadline).
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
    [[nodiscard]] std::uint32_t value() const noexcept {
        return m_state.word.load(std::memory_order_relaxed);  // [sem.peek] relaxed snapshot
    }
    /// The most the count may reach: kMax, or a BoundedSemaphore's initial value.
    [[nodiscard]] constexpr std::uint32_t limit() const noexcept { return m_limit.value; }
    /// Threads registered to sleep in acquire(): a snapshot, for tests and diagnostics (a test
    /// waits for it before releasing, so the wake path is the one exercised).
    [[nodiscard]] std::uint32_t sleepers() const noexcept { return m_state.sleeping(); }

private:
    SleepWord<P, Scope> m_state;  ///< word: the count, written by acquirers and releasers
    [[no_unique_address]] SemaphoreLimit<Bounded> m_limit;  ///< written once, before sharing
};
}  // namespace detail

/// A counting semaphore (Python's threading.Semaphore): release() may raise the count up to kMax.
template <WaitScope Scope>
class BasicSemaphore : public detail::SemaphoreCore<Scope, false> {
public:
    using detail::SemaphoreCore<Scope, false>::SemaphoreCore;
};

/// A semaphore whose count may never exceed its initial value (Python's BoundedSemaphore).
template <WaitScope Scope>
class BasicBoundedSemaphore : public detail::SemaphoreCore<Scope, true> {
public:
    using detail::SemaphoreCore<Scope, true>::SemaphoreCore;
};

/// What both semaphores offer: write a function against it and pass either.
template <class S>
concept SemaphoreLike = requires(S& s, const S& cs, Deadline d, std::uint32_t n, std::int64_t i) {
    { s.init(i) } -> std::same_as<Result<void>>;
    { s.try_acquire() } -> std::same_as<bool>;
    { s.acquire(d) } -> std::same_as<Result<void>>;
    { s.release(n) } -> std::same_as<Result<void>>;
    { cs.value() } -> std::same_as<std::uint32_t>;
    { cs.limit() } -> std::same_as<std::uint32_t>;
};

using Semaphore = BasicSemaphore<WaitScope::process_private>;
using ProcessSemaphore = BasicSemaphore<WaitScope::process_shared>;
using BoundedSemaphore = BasicBoundedSemaphore<WaitScope::process_private>;
using ProcessBoundedSemaphore = BasicBoundedSemaphore<WaitScope::process_shared>;

static_assert(SemaphoreLike<Semaphore> && SemaphoreLike<BoundedSemaphore>);
static_assert(sizeof(Semaphore) == 12, "a Semaphore is its count word and an EventCount (no stored bound)");

}  // namespace staticrt
