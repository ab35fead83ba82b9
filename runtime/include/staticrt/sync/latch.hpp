// SPDX-License-Identifier: MIT
// staticrt/sync/latch.hpp — BasicLatch<Scope>: a single-use countdown (std::latch with errors).
//
// count_down(n) lowers the count; wait() returns once it reached zero (or Errc::timeout at the
// deadline). The count never goes below zero: counting down more than what remains is
// Errc::invalid_argument and changes nothing. The thread that reaches zero wakes the sleepers
// (a syscall only when someone sleeps). No pointers inside: ProcessLatch may live in shared memory.
//
// Counts: a constant in the constructor (`Latch l{4}`, checked at compile time), a run-time value
// through init(n) before sharing (Errc::invalid_argument when negative or too large); see
// staticrt/sync/count.hpp. The word and the waiting layer's EventCount are a detail::SleepWord
// (shared with Semaphore and Event; the operations are header templates in sync/sleep_word.hpp).
//
// Memory ordering: everything written before a count_down() is visible to every thread whose
// wait()/try_wait() observed zero ([latch.count_down] pairs with [latch.wait]).
//
//   staticrt::Latch started{4};
//   each worker: (void)started.count_down();      main: (void)started.wait();
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "staticrt/detail/wait_policy.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"
#include "staticrt/result.hpp"
#include "staticrt/sync/count.hpp"
#include "staticrt/sync/sleep_word.hpp"

namespace staticrt {

using platform::WaitScope;

/// P: the wait policy (detail::OsWaitPolicy; tests/dsched instantiates its DSchedPolicy).
template <WaitScope Scope, class P = detail::OsWaitPolicy>
class BasicLatch {
public:
    static constexpr WaitScope kScope = Scope;

    // ---- lifetime: not copyable, not movable
    /// Count 0 (already open): set a run-time count with init().
    constexpr BasicLatch() noexcept = default;
    /// Count `expected`. A negative or too-large constant does not compile.
    constexpr explicit BasicLatch(SyncCount expected) noexcept : m_state(expected.value()) {}
    BasicLatch(const BasicLatch&) = delete;
    BasicLatch& operator=(const BasicLatch&) = delete;
    ~BasicLatch() = default;

    /// Sets the count from a run-time value, before the latch is shared. Errc::invalid_argument
    /// when expected < 0 or > SyncCount::kMax; nothing changes then.
    [[nodiscard]] Result<void> init(std::int64_t expected) noexcept {
        if (!SyncCount::in_range(expected)) return unexpected(Errc::invalid_argument);
        // [latch.init] relaxed: before sharing; whatever shares the latch publishes it.
        m_state.word.store(static_cast<std::uint32_t>(expected), std::memory_order_relaxed);
        return ok();
    }

    // ---- non-blocking
    /// Lowers the count by n (default 1). Errc::invalid_argument when n exceeds what remains.
    [[nodiscard]] Result<void> count_down(std::uint32_t n = 1) noexcept {
        return detail::latch_count_down(m_state, n);
    }
    /// True when the count reached zero.
    [[nodiscard]] bool try_wait() const noexcept {
        // [latch.wait] acquire: pairs with [latch.count_down].
        return m_state.word.load(std::memory_order_acquire) == 0;
    }

    // ---- blocking
    /// Waits until the count is zero. Errc::timeout at the deadline.
    [[nodiscard]] Result<void> wait(Deadline deadline = Deadline::never()) noexcept {
        if (try_wait()) return ok();
        return detail::latch_wait_slow(m_state, deadline);
    }
    template <class Rep, class Period>
    [[nodiscard]] Result<void> wait_for(std::chrono::duration<Rep, Period> d) noexcept {
        return wait(Deadline::after(d));
    }
    /// count_down(n), then wait(deadline).
    [[nodiscard]] Result<void> arrive_and_wait(std::uint32_t n = 1, Deadline deadline = Deadline::never()) noexcept {
        if (Result<void> r = count_down(n); !r) return r;
        return wait(deadline);
    }

    // ---- observers
    [[nodiscard]] std::uint32_t count() const noexcept {
        return m_state.word.load(std::memory_order_relaxed);  // [latch.peek] relaxed snapshot
    }
    /// Threads registered to sleep in wait(): a snapshot, for tests and diagnostics.
    [[nodiscard]] std::uint32_t sleepers() const noexcept { return m_state.sleeping(); }

private:
    detail::SleepWord<P, Scope> m_state;  ///< word: the count, written by count_down()
};

using Latch = BasicLatch<WaitScope::process_private>;
using ProcessLatch = BasicLatch<WaitScope::process_shared>;

}  // namespace staticrt
