// SPDX-License-Identifier: MIT
// staticrt/sync/barrier.hpp — BasicBarrier<Scope>: Python's threading.Barrier.
//
// `parties` threads call wait(); the last to arrive runs the optional completion action (with
// the barrier's internal lock held, before anyone is released), then all of them return, each
// with a distinct arrival index 0..parties-1 (the last arrival gets parties-1). The barrier is
// then reusable for the next round. It breaks — every current and future waiter gets
// Errc::broken until reset() — when abort() is called, when a waiter's deadline passes (that
// waiter gets Errc::timeout, the others Errc::broken, as in Python), or when the action returns
// an error (its caller gets that error). reset() returns it to the empty state; threads waiting
// at that moment get Errc::broken. Built on BasicMutex + BasicCondition of the same scope; no
// pointers besides the action: a ProcessBarrier in shared memory must use an action valid in
// every process that may arrive last (or none).
//
// Parties: a constant in the constructor (`Barrier b{4}`; 0 or negative does not compile), a
// run-time value through init(n) before sharing (Errc::invalid_argument when n < 1 or too large);
// see staticrt/sync/count.hpp.
//
// Memory ordering: everything a party wrote before wait() is visible to every party after its
// wait() returned, and to the action (all go through the internal mutex).
//
//   staticrt::Barrier round{4};
//   each of 4 threads: for (...) { step(); if (!round.wait()) break; }
#pragma once

#include <chrono>
#include <cstdint>

#include "staticrt/result.hpp"
#include "staticrt/sync/condition.hpp"
#include "staticrt/sync/count.hpp"
#include "staticrt/sync/mutex.hpp"

namespace staticrt {

/// The completion action: runs in the last arriving thread. An error breaks the barrier.
using BarrierAction = Result<void> (*)(void* context);

template <WaitScope Scope>
class BasicBarrier {
public:
    static constexpr WaitScope kScope = Scope;

    // ---- lifetime: not copyable, not movable
    /// No parties yet: wait() returns Errc::invalid_argument until init() set a run-time count.
    constexpr BasicBarrier() noexcept = default;
    /// `parties` (a constant: 0, negative or too large does not compile), with an optional action.
    constexpr explicit BasicBarrier(PartyCount parties, BarrierAction action = nullptr,
                                    void* context = nullptr) noexcept
        : m_parties(parties.value()), m_action(action), m_context(context) {}
    BasicBarrier(const BasicBarrier&) = delete;
    BasicBarrier& operator=(const BasicBarrier&) = delete;
    ~BasicBarrier() = default;

    /// Sets the parties (and action) from a run-time value, before the barrier is shared.
    /// Errc::invalid_argument when parties < 1 or > PartyCount::kMax; nothing changes then.
    [[nodiscard]] Result<void> init(std::int64_t parties, BarrierAction action = nullptr,
                                    void* context = nullptr) noexcept {
        if (!PartyCount::in_range(parties)) return unexpected(Errc::invalid_argument);
        m_parties = static_cast<std::uint32_t>(parties);
        m_action = action;
        m_context = context;
        return ok();
    }

    // ---- blocking
    /// Waits until `parties` threads arrived. Returns the arrival index 0..parties-1;
    /// Errc::broken (barrier aborted, reset while waiting, or another waiter timed out);
    /// Errc::timeout (this waiter's deadline passed: the barrier is now broken); or the error of
    /// the completion action for the thread that ran it; Errc::invalid_argument when the barrier
    /// has no parties (default-constructed, init() not called or refused).
    [[nodiscard]] Result<std::uint32_t> wait(Deadline deadline = Deadline::never()) noexcept {
        if (m_parties == 0) return unexpected(Errc::invalid_argument);
        m_lock.lock();
        // A previous round is still being left, or a reset is pending: wait for it to end
        // (bounded by the other parties waking up; Python does the same without a timeout).
        while (m_state == State::draining || m_state == State::resetting) (void)m_cond.wait(m_lock);
        if (m_state == State::broken) {
            m_lock.unlock();
            return unexpected(Errc::broken);
        }
        const std::uint32_t index = m_count++;
        Result<std::uint32_t> result = index;
        if (index + 1 == m_parties) {
            const Result<void> r = m_action != nullptr ? m_action(m_context) : ok();
            if (r) {
                m_state = State::draining;
                (void)m_cond.notify_all(m_lock);
            } else {
                break_locked();
                result = unexpected(r.error());
            }
        } else {
            while (m_state == State::filling) {
                if (const Result<void> r = m_cond.wait(m_lock, deadline); !r && m_state == State::filling) {
                    break_locked();
                    result = unexpected(r.code() == Errc::timeout ? Errc::timeout : r.code());
                    break;
                }
            }
            if (result && m_state != State::draining) result = unexpected(Errc::broken);  // broken or resetting
        }
        leave_locked();
        m_lock.unlock();
        return result;
    }
    template <class Rep, class Period>
    [[nodiscard]] Result<std::uint32_t> wait_for(std::chrono::duration<Rep, Period> d) noexcept {
        return wait(Deadline::after(d));
    }

    // ---- non-blocking
    /// Breaks the barrier: current and future waiters get Errc::broken until reset().
    void abort() noexcept {
        m_lock.lock();
        break_locked();
        m_lock.unlock();
    }
    /// Back to the empty state; threads waiting now get Errc::broken.
    void reset() noexcept {
        m_lock.lock();
        if (m_count > 0) {
            if (m_state == State::filling || m_state == State::broken) m_state = State::resetting;
            // draining: the round completes normally, the barrier refills after it
        } else {
            m_state = State::filling;
        }
        (void)m_cond.notify_all(m_lock);
        m_lock.unlock();
    }

    // ---- observers
    [[nodiscard]] constexpr std::uint32_t parties() const noexcept { return m_parties; }
    /// Threads currently inside wait() of the filling round (a snapshot).
    [[nodiscard]] std::uint32_t n_waiting() noexcept {
        m_lock.lock();
        const std::uint32_t n = m_state == State::filling ? m_count : 0;
        m_lock.unlock();
        return n;
    }
    [[nodiscard]] bool broken() noexcept {
        m_lock.lock();
        const bool b = m_state == State::broken;
        m_lock.unlock();
        return b;
    }

private:
    enum class State : std::uint32_t { filling, draining, resetting, broken };

    void break_locked() noexcept {
        m_state = State::broken;
        (void)m_cond.notify_all(m_lock);
    }
    void leave_locked() noexcept {
        --m_count;
        if (m_count == 0 && (m_state == State::draining || m_state == State::resetting)) {
            m_state = State::filling;
            (void)m_cond.notify_all(m_lock);
        }
    }

    BasicMutex<Scope> m_lock;
    BasicCondition<Scope> m_cond;
    // All below are written under m_lock.
    std::uint32_t m_parties = 0;  ///< set before sharing (constructor or init()), then read-only
    std::uint32_t m_count = 0;    ///< threads inside wait() of the current round
    State m_state = State::filling;
    BarrierAction m_action = nullptr;
    void* m_context = nullptr;
};

using Barrier = BasicBarrier<WaitScope::process_private>;
using ProcessBarrier = BasicBarrier<WaitScope::process_shared>;

}  // namespace staticrt
