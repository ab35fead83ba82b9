// SPDX-License-Identifier: MIT
// staticrt/sync/event.hpp — BasicEvent<Scope>: Python's threading.Event.
//
// A flag that threads wait for: set() raises it and wakes every waiter, clear() lowers it,
// wait(deadline) returns at once while it is up and otherwise sleeps until set() or the deadline
// (Errc::timeout). set() with nobody sleeping never enters the kernel. No pointers inside: the
// process_shared flavour (ProcessEvent) may live in shared memory.
// A pulse is never lost (as in Python): a thread that is waiting when set() happens returns
// success even if clear() follows before it wakes. The word holds the flag (bit 0) and a count
// of set() calls that raised it (bits 1..31), so a waiter sees a set() by the count changing.
//
// The word and the waiting layer's EventCount are a detail::SleepWord (shared with Semaphore and
// Latch; the operations are header templates over a wait policy in sync/sleep_word.hpp).
//
// Memory ordering: everything written before set() is visible to a thread once its wait()
// returned success or is_set() returned true ([event.set] pairs with [event.wait]).
//
//   constinit staticrt::Event g_ready;
//   worker: (void)g_ready.wait();                 main: load_config(); g_ready.set();
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "staticrt/detail/wait_policy.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"
#include "staticrt/result.hpp"
#include "staticrt/sync/sleep_word.hpp"

namespace staticrt {

using platform::WaitScope;

/// P: the wait policy (detail::OsWaitPolicy; tests/dsched instantiates its DSchedPolicy).
template <WaitScope Scope, class P = detail::OsWaitPolicy>
class BasicEvent {
public:
    static constexpr WaitScope kScope = Scope;

    // ---- lifetime: not copyable, not movable
    constexpr BasicEvent() noexcept = default;
    constexpr explicit BasicEvent(bool initially_set) noexcept : m_state(initially_set ? 1u : 0u) {}
    BasicEvent(const BasicEvent&) = delete;
    BasicEvent& operator=(const BasicEvent&) = delete;
    ~BasicEvent() = default;

    // ---- non-blocking
    /// Raises the flag and wakes every waiter (a syscall only when someone sleeps).
    void set() noexcept { detail::event_set(m_state); }
    /// Lowers the flag. Threads that already returned from wait() are unaffected.
    void clear() noexcept {
        // [event.clear] relaxed: publishes nothing; later waiters simply find the flag down. An
        // RMW keeps the set count (bits 1..) that sleeping waiters compare against.
        m_state.word.fetch_and(~1u, std::memory_order_relaxed);
    }

    // ---- blocking
    /// Returns success once the flag is up; Errc::timeout when it is still down at the deadline.
    [[nodiscard]] Result<void> wait(Deadline deadline = Deadline::never()) noexcept {
        if (is_set()) return ok();
        return detail::event_wait_slow(m_state, deadline);
    }
    template <class Rep, class Period>
    [[nodiscard]] Result<void> wait_for(std::chrono::duration<Rep, Period> d) noexcept {
        return wait(Deadline::after(d));
    }
    template <class Clock, class Dur>
    [[nodiscard]] Result<void> wait_until(std::chrono::time_point<Clock, Dur> tp) noexcept {
        return wait(Deadline::at(tp));
    }

    // ---- observers
    [[nodiscard]] bool is_set() const noexcept {
        // [event.wait] acquire: pairs with [event.set].
        return (m_state.word.load(std::memory_order_acquire) & 1u) != 0;
    }
    /// Threads registered as sleeping in wait() (a snapshot; tests use it to know a waiter sleeps).
    [[nodiscard]] std::uint32_t waiting() const noexcept { return m_state.sleeping(); }
    /// Threads registered to sleep in wait(): a snapshot, for tests and diagnostics (a test
    /// waits for it before setting, so the wake path is the one exercised).
    [[nodiscard]] std::uint32_t sleepers() const noexcept { return m_state.sleeping(); }

private:
    detail::SleepWord<P, Scope> m_state;  ///< word: bit 0 set; bits 1..: raising set() count (wraps)
};

using Event = BasicEvent<WaitScope::process_private>;
using ProcessEvent = BasicEvent<WaitScope::process_shared>;

}  // namespace staticrt
