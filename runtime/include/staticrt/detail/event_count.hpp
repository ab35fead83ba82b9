// SPDX-License-Identifier: MIT
// staticrt/detail/event_count.hpp — the one waiting primitive: "wait until a condition that
// another thread publishes becomes true", with no lost wake-up and no syscall when nobody sleeps.
//
// An EventCount is a 32-bit epoch (the futex word) and a waiter count. A waiter registers
// (prepare_wait), re-checks its condition, and sleeps on the epoch it read (commit_wait) until a
// notifier bumps it; cancel_wait() ends its registration. A notifier publishes its change (any
// store), then calls notify_one()/notify_all(): one count load, and a bump + futex wake only when
// somebody is registered. wake_all() bumps and wakes unconditionally (close / shutdown: the
// closing store is ordered before the bump, so no Dekker pair is needed there).
//
//   detail::EventCount<> ev;                    // waiter                       // notifier
//   auto key = ev.prepare_wait();               // ready.store(1, release);
//   while (!ready.load(acquire))                // ev.notify_all();
//       (void)ev.commit_wait(key, Deadline::never());
//   ev.cancel_wait();
//
// wait_for(attempt, deadline, spin) is the whole loop every blocking call of the library uses:
// spin, yield, register, then re-try and park until attempt() settles it (Attempt below).
//
// Memory ordering: one Dekker pair, [ec.wait.register] + [ec.wait.fence] against the caller's
// publishing store + [ec.notify.fence] + [ec.notify.load]; the epoch carries the wake
// ([ec.epoch.bump] / [ec.epoch.load]). The argument is in docs/memory-ordering.md, "## waiting
// layer"; the structures built on EventCount refer to it instead of arguing their own.
// Policy: every shared word is a `typename P::template atomic<>` and every wait, wake, fence,
// relax, yield and clock read goes through P (detail/wait_policy.hpp).
#pragma once

#include <cstdint>

#include "staticrt/detail/wait_policy.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"

namespace staticrt::detail {

/// What one non-blocking attempt of a blocking call found (EventCount::wait_for()).
/// done: finished (success). would_block: try again after a notify. closed / corrupted: settle
/// with Errc::closed / Errc::corrupted. busy: not done yet, but what it waits for is already in
/// flight on other threads and nobody will notify this side about it (MPMC after close():
/// another consumer may take the last element without waking anyone), so the caller yields and
/// re-tries instead of parking. stalled: like would_block, but the sleep is capped at
/// kStallRecheckNs so that the caller can re-check a stall only time reveals (a process-shared
/// queue's dead claimant).
enum class Attempt : std::uint8_t { done, would_block, closed, busy, stalled, corrupted };
inline constexpr std::int64_t kStallRecheckNs = 5'000'000;

/// The first kInlinePolls attempts of a blocking pop, in the caller's own code: attempt(), then
/// cpu_relax(), while it returns `idle` ("nothing yet"), until the polls run out or the deadline
/// is a poll. Returns the last result: anything but `idle` settles the call, `idle` sends the
/// caller on to its out-of-line wait_for() with kSpinAfterInline (the two keep kDefaultSpin's
/// budget). Small on purpose, so that it inlines (why: kInlinePolls, wait_policy.hpp).
template <class P, class Fn, class R>
[[nodiscard]] inline R poll_inline(Fn&& attempt, R idle, Deadline deadline) noexcept {
    for (std::uint32_t i = 0;; ++i) {
        const R r = attempt();
        if (r != idle || i + 1 == kInlinePolls || deadline.is_poll()) return r;
        P::cpu_relax();
    }
}

template <class P = OsWaitPolicy, platform::WaitScope Scope = platform::WaitScope::process_private>
class EventCount {
public:
    using Key = std::uint32_t;
    using policy = P;
    static constexpr platform::WaitScope kScope = Scope;

    /// Zero: no waiter, epoch 0. constexpr (constinit globals; a zero-filled shared segment).
    constexpr EventCount() noexcept = default;
    EventCount(const EventCount&) = delete;
    EventCount& operator=(const EventCount&) = delete;

    // ---------------------------------------------------------------- waiter side
    /// Registers this thread as a waiter and returns the key for commit_wait(). The caller must
    /// re-check its condition after this call and before it sleeps, and must call cancel_wait()
    /// exactly once when it stops waiting (condition met, timeout, error).
    /// `weight`: what this waiter adds to the count (1; see notify_one_or_all()).
    [[nodiscard]] Key prepare_wait(std::uint32_t weight = 1) noexcept {
        // [ec.wait.register] seq_cst RMW: the count a notifier's [ec.notify.load] reads; pairs
        // with it through [ec.wait.fence] / [ec.notify.fence].
        m_waiters.fetch_add(weight, std::memory_order_seq_cst);
        // [ec.wait.fence] the waiter's half of the Dekker pair: after it, every notifier either
        // sees this registration (and bumps the epoch) or its published change is visible to the
        // caller's re-check.
        P::waiter_fence(Scope);
        return key();
    }
    /// Sleeps while the epoch still equals `key`, until the deadline, or spuriously; then
    /// refreshes `key` for the next round (the caller re-checks its condition, then calls
    /// commit_wait() again). Stays registered. Errc::timeout at the deadline; not_supported /
    /// os_error / exhausted from the platform.
    [[nodiscard]] Result<void> commit_wait(Key& key, Deadline deadline) noexcept {
        const Result<void> r = P::wait_registered(m_epoch, key, deadline, Scope);
        key = this->key();
        return r;
    }
    /// Ends the registration of prepare_wait().
    void cancel_wait(std::uint32_t weight = 1) noexcept {
        m_waiters.fetch_sub(weight, std::memory_order_relaxed);  // [ec.wait.unregister] relaxed: a count only
    }

    // ---------------------------------------------------------------- notifier side
    /// Called right after the caller's publishing store: wakes one registered waiter, if any.
    /// Without waiters: one load of a line that changes only when a thread starts or stops
    /// waiting (no RMW; no fence where the heavy barrier exists).
    void notify_one() noexcept {
        if (has_waiters()) bump(false);
    }
    /// As notify_one() but wakes every waiter.
    void notify_all() noexcept {
        if (has_waiters()) bump(true);
    }
    /// As notify_one(), but wakes every waiter once the registered count reaches `all_from`: a
    /// structure whose waiters of one kind each wait for a condition of their own registers
    /// those with weight `all_from` (TicketQueue's ticket holders, each waiting for one cell),
    /// so that one load tells "nobody", "only interchangeable waiters" and "wake them all".
    void notify_one_or_all(std::uint32_t all_from) noexcept {
        P::notifier_fence(Scope);
        // [ec.notify.load] relaxed: exact through the fence pair, as in has_waiters().
        const std::uint32_t w = m_waiters.load(std::memory_order_relaxed);
        if (w != 0) bump(w >= all_from);
    }
    /// Bumps the epoch and wakes everybody unconditionally (close, shutdown): correct for any
    /// change stored before it by this thread, without the Dekker pair ([ec.epoch.bump]).
    void wake_all() noexcept { bump(true); }

    /// True when somebody waits (or is about to): exact right after the caller's publishing
    /// store, see [ec.notify.fence]. Lets a caller add its own wake condition (hysteresis).
    [[nodiscard]] bool has_waiters() const noexcept {
        P::notifier_fence(Scope);
        // [ec.notify.load] relaxed: exact through the fence pair [ec.wait.fence]/[ec.notify.fence].
        return m_waiters.load(std::memory_order_relaxed) != 0;
    }
    /// Registered waiters, a snapshot (tests wait for one before the call that must wake it).
    [[nodiscard]] std::uint32_t waiters() const noexcept {
        return m_waiters.load(std::memory_order_relaxed);  // [ec.observe] relaxed: a snapshot
    }

    // ---------------------------------------------------------------- the whole loop
    /// Runs attempt() (a noexcept callable returning Attempt) until it settles (done, closed,
    /// corrupted) or the deadline passes (Errc::timeout): `spin.spin_attempts` tries with
    /// cpu_relax() between them, `spin.yield_attempts` with yield(), then registered tries with
    /// a sleep between them. A poll deadline tries once.
    template <class Fn>
    [[nodiscard]] Result<void> wait_for(Fn&& attempt, Deadline deadline, SpinPolicy spin = kDefaultSpin,
                                        std::uint32_t weight = 1) noexcept {
        for (std::uint32_t i = 0; i < spin.spin_attempts; ++i) {
            const Attempt a = attempt();
            if (settled(a)) return finish(a);
            if (deadline.is_poll()) return unexpected(Errc::timeout);
            P::cpu_relax();
        }
        for (std::uint32_t i = 0; i < spin.yield_attempts; ++i) {
            P::yield();
            const Attempt a = attempt();
            if (settled(a)) return finish(a);
            if (deadline.is_poll() || P::expired(deadline)) return unexpected(Errc::timeout);
        }
        Key key = prepare_wait(weight);
        Result<void> out;
        for (;;) {
            const Attempt a = attempt();
            if (settled(a)) {
                out = finish(a);
                break;
            }
            if (deadline.is_poll() || P::expired(deadline)) {
                out = unexpected(Errc::timeout);
                break;
            }
            if (a == Attempt::busy) {  // decided by operations in flight: no sleep
                P::yield();
                key = this->key();
                continue;
            }
            Deadline until = deadline;
            if (a == Attempt::stalled) {  // capped sleep: the attempt must run again soon
                // Real time: only process-shared queues stall (a dead peer), which the
                // deterministic scheduler does not model.
                const Deadline cap = Deadline::at(Instant(Instant::sat_add(Instant::now().ns(), kStallRecheckNs)));
                if (deadline.is_never() || cap.instant() < deadline.instant()) until = cap;
            }
            const Result<void> w = commit_wait(key, until);
            if (!w && w.code() != Errc::timeout) {  // not_supported / os_error / exhausted
                out = w;
                break;
            }
        }
        cancel_wait(weight);
        return out;
    }

private:
    [[nodiscard]] Key key() const noexcept {
        // [ec.epoch.load] acquire: pairs with [ec.epoch.bump]; read before the caller's re-check,
        // so a bump after it changes the word and the next wait returns at once.
        return m_epoch.load(std::memory_order_acquire);
    }
    static bool settled(Attempt a) noexcept {
        return a == Attempt::done || a == Attempt::closed || a == Attempt::corrupted;
    }
    static Result<void> finish(Attempt a) noexcept {
        if (a == Attempt::done) return ok();
        return Result<void>(unexpected(a == Attempt::corrupted ? Errc::corrupted : Errc::closed));
    }
    // Out of line and cold: the notify fast path (one fence + one load) stays small enough to be
    // inlined into every push/pop (an out-of-line notify_one() cost the blocking MPMC 20%).
    [[gnu::noinline, gnu::cold]] void bump(bool all) noexcept {
        // [ec.epoch.bump] release: a waiter whose key is older returns from its wait; one whose
        // [ec.epoch.load] reads the new value sees everything stored before the bump.
        m_epoch.fetch_add(1, std::memory_order_release);
        if (all) P::wake_all(m_epoch, Scope);
        else P::wake_one(m_epoch, Scope);
    }

    typename P::template atomic<std::uint32_t> m_epoch{0};    // the futex word, bumped by notifiers
    typename P::template atomic<std::uint32_t> m_waiters{0};  // registered waiters
};

}  // namespace staticrt::detail
