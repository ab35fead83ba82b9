// SPDX-License-Identifier: MIT
// staticrt/sync/condition.hpp — BasicCondition<Scope>: a condition variable that checks its lock.
//
// A futex sequence counter. wait() must be called with the associated lock held; it releases
// the lock, sleeps until notified (or the deadline, or spuriously), and retakes the lock before
// it returns. notify(lock, n) (Python's notify(n)), notify_one() and notify_all() also take
// the lock as an argument and must be called holding it (Python's rule: notifying without the
// lock is a RuntimeError): they return Errc::not_owner, and do nothing, when the caller does
// not hold the lock. Because waiters register and notifiers signal under the same lock, no
// wake-up is lost, and a notify with nobody waiting is one relaxed load, no syscall. The lock
// may be any type with lock(), unlock() and held_by_current_thread() (Mutex, SharedMemoryMutex,
// the process module's ProcessMutex), or a std::unique_lock of one. The condition stores no pointer:
// BasicCondition<process_shared> (ProcessCondition) may live in shared memory. A template over
// the wait policy P as the waiting layer's structures are, so tests/dsched and tests/relacy run it.
//
// Memory ordering: the lock provides it. Everything written under the lock before notify is
// visible to a waiter once its wait() returned (it retook the lock).
//
//   std::unique_lock lk(m);
//   (void)cv.wait(lk, [&] { return ready; });           // Result<void>: ok or not_owner
//   ready = true; (void)cv.notify_one(lk);              // notifier holds the lock too
#pragma once

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <mutex>
#include <utility>

#include "staticrt/detail/wait_policy.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"
#include "staticrt/result.hpp"

namespace staticrt {

using platform::WaitScope;

namespace detail {
/// Whether the caller holds `lock` (a mutex with held_by_current_thread(), or a unique_lock of one).
template <class Lock>
[[nodiscard]] bool condition_lock_held(const Lock& lock) noexcept {
    return lock.held_by_current_thread();
}
template <class M>
[[nodiscard]] bool condition_lock_held(const std::unique_lock<M>& lock) noexcept {
    const M* const m = lock.mutex();
    return m != nullptr && lock.owns_lock() && m->held_by_current_thread();
}
/// After a wait retook `lock`: Errc::owner_died when the lock is a robust process mutex whose
/// state is inconsistent (a holder died; ProcessMutex::is_consistent()), else ok.
template <class Lock>
[[nodiscard]] Result<void> condition_relock_state(const Lock& lock) noexcept {
    if constexpr (requires { { lock.is_consistent() } -> std::convertible_to<bool>; }) {
        if (!lock.is_consistent()) return unexpected(Errc::owner_died);
    }
    return ok();
}
template <class M>
[[nodiscard]] Result<void> condition_relock_state(const std::unique_lock<M>& lock) noexcept {
    return lock.mutex() != nullptr ? condition_relock_state(*lock.mutex()) : ok();
}
}  // namespace detail

/// P: the wait policy (detail/wait_policy.hpp): the futex, and the atomic type of the two words.
/// OsWaitPolicy in every user's program; the deterministic scheduler's and Relacy's in tests.
template <WaitScope Scope, class P = detail::OsWaitPolicy>
class BasicCondition {
public:
    static constexpr WaitScope kScope = Scope;

    // ---- lifetime: not copyable, not movable (waiters sleep on its address)
    constexpr BasicCondition() noexcept = default;
    BasicCondition(const BasicCondition&) = delete;
    BasicCondition& operator=(const BasicCondition&) = delete;
    ~BasicCondition() = default;

    // ---- non-blocking (caller holds `lock`)
    /// Wakes up to n waiters (Python's Condition.notify(n); n = 0 wakes none). Errc::not_owner
    /// (nothing happens) when the caller does not hold `lock`. As for every condition variable,
    /// a waiter that registered but was not yet asleep may return too (a spurious wake-up).
    /// Cost: one wake_all when n covers every waiter, else min(n, waiters) wake_one calls.
    template <class Lock>
    [[nodiscard]] Result<void> notify(Lock& lock, std::uint32_t n = 1) noexcept {
        return signal(lock, n);
    }
    /// Wakes one waiter: notify(lock, 1). Errc::not_owner when the caller does not hold `lock`.
    template <class Lock>
    [[nodiscard]] Result<void> notify_one(Lock& lock) noexcept {
        return signal(lock, 1);
    }
    /// Wakes every waiter. Errc::not_owner when the caller does not hold `lock`.
    template <class Lock>
    [[nodiscard]] Result<void> notify_all(Lock& lock) noexcept {
        return signal(lock, kAll);
    }

    // ---- blocking (caller holds `lock`; it holds it again when these return, whatever the result)
    /// Releases `lock`, sleeps until notified, the deadline, or spuriously, and retakes `lock`.
    /// Errc::not_owner: the caller does not hold `lock` (nothing happened); Errc::timeout: the
    /// deadline passed; Errc::owner_died (lock held again): `lock` is a ProcessMutex whose
    /// state is inconsistent because a holder died (repair, mark_consistent()). Spurious success
    /// is possible: re-check your predicate (or use the predicate overloads).
    template <class Lock>
    [[nodiscard]] Result<void> wait(Lock& lock, Deadline deadline = Deadline::never()) noexcept {
        if (!detail::condition_lock_held(lock)) return unexpected(Errc::not_owner);
        // [cond.register] relaxed: m_waiters and m_seq are only modified under `lock`; the
        // lock orders them against notify().
        m_waiters.fetch_add(1, std::memory_order_relaxed);
        const std::uint32_t seq = m_seq.load(std::memory_order_relaxed);
        lock.unlock();
        // A notify between unlock() and the wait changes m_seq, so the wait returns at once.
        const Result<void> r = P::wait(m_seq, seq, deadline, Scope);
        lock.lock();  // ProcessMutex: never traps on a dead holder; the state check below reports it
        m_waiters.fetch_sub(1, std::memory_order_relaxed);  // [cond.register] under the lock again
        if (auto st = detail::condition_relock_state(lock); !st) return st;
        if (!r) return r.code() == Errc::timeout ? Result<void>(unexpected(Errc::timeout)) : r;
        return ok();
    }

    /// Waits until pred() is true (checked under the lock). Errc::timeout when pred() is still
    /// false at the deadline; Errc::not_owner when the caller does not hold `lock`.
    template <class Lock, class Pred>
        requires std::predicate<Pred&>
    [[nodiscard]] Result<void> wait(Lock& lock, Deadline deadline, Pred pred) noexcept(noexcept(pred())) {
        if (!detail::condition_lock_held(lock)) return unexpected(Errc::not_owner);
        while (!pred()) {
            const Result<void> r = wait(lock, deadline);
            if (!r && r.code() == Errc::owner_died) return r;  // the caller must repair first
            if (!r) return pred() ? ok() : r;
        }
        return ok();
    }
    template <class Lock, class Pred>
        requires std::predicate<Pred&>
    [[nodiscard]] Result<void> wait(Lock& lock, Pred pred) noexcept(noexcept(pred())) {
        return wait(lock, Deadline::never(), std::move(pred));
    }

    /// std-named adapters: forward to wait(lock, Deadline[, pred]).
    template <class Lock, class Rep, class Period>
    [[nodiscard]] Result<void> wait_for(Lock& lock, std::chrono::duration<Rep, Period> d) noexcept {
        return wait(lock, Deadline::after(d));
    }
    template <class Lock, class Rep, class Period, class Pred>
        requires std::predicate<Pred&>
    [[nodiscard]] Result<void> wait_for(Lock& lock, std::chrono::duration<Rep, Period> d, Pred pred) noexcept(
        noexcept(pred())) {
        return wait(lock, Deadline::after(d), std::move(pred));
    }
    template <class Lock, class Clock, class Dur>
    [[nodiscard]] Result<void> wait_until(Lock& lock, std::chrono::time_point<Clock, Dur> tp) noexcept {
        return wait(lock, Deadline::at(tp));
    }
    template <class Lock, class Clock, class Dur, class Pred>
        requires std::predicate<Pred&>
    [[nodiscard]] Result<void> wait_until(Lock& lock, std::chrono::time_point<Clock, Dur> tp, Pred pred) noexcept(
        noexcept(pred())) {
        return wait(lock, Deadline::at(tp), std::move(pred));
    }

    // ---- observers
    /// Threads registered as waiting (exact when read under the lock).
    [[nodiscard]] std::uint32_t waiting() const noexcept {
        return m_waiters.load(std::memory_order_relaxed);  // [cond.peek] relaxed snapshot
    }

private:
    static constexpr std::uint32_t kAll = 0xffffffffu;

    template <class Lock>
    Result<void> signal(Lock& lock, std::uint32_t n) noexcept {
        if (!detail::condition_lock_held(lock)) return unexpected(Errc::not_owner);
        // [cond.register] relaxed: read under the lock, so it counts every registered waiter
        // (including ones already woken that have not retaken the lock yet).
        const std::uint32_t waiters = m_waiters.load(std::memory_order_relaxed);
        if (waiters == 0 || n == 0) return ok();
        // [cond.signal] relaxed: under the lock; the futex compares it atomically with sleeping.
        m_seq.fetch_add(1, std::memory_order_relaxed);
        if (n >= waiters) {
            P::wake_all(m_seq, Scope);
        } else {
            for (std::uint32_t i = 0; i < n; ++i) P::wake_one(m_seq, Scope);
        }
        return ok();
    }

    // Both written only under the associated lock.
    typename P::template atomic<std::uint32_t> m_seq{0};      ///< bumped by every notify with waiters
    typename P::template atomic<std::uint32_t> m_waiters{0};  ///< threads between register and return in wait()
};

/// A condition for the threads of one process.
using Condition = BasicCondition<WaitScope::process_private>;
/// A condition that may live in shared memory, used with a process-shared lock.
using ProcessCondition = BasicCondition<WaitScope::process_shared>;

}  // namespace staticrt
