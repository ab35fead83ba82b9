// SPDX-License-Identifier: MIT
// staticrt/queue/detail/parking.hpp — the sleep/wake half of a blocking queue side.
//
// One Parking object per side of a queue ("wait until not empty", "wait until not full").
// A thread that must wait first spins on its attempt (no syscall), yields a few times, then
// registers as a waiter, re-tries, and parks on a 32-bit sequence word with platform::wait().
// The other side calls notify_*() after every state change it publishes: a load of the waiter
// count and a syscall only when somebody sleeps.
//
// Memory ordering (a Dekker pair, exact, no timing argument): the notifier does "publish
// (release store); barrier; load count", the waiter "count += 1; barrier; re-try". For
// WaitScope::process_private with platform::heavy_barrier_available(), the notifier's barrier is
// platform::light_barrier() (compiler only) and the waiter's is platform::heavy_barrier()
// (membarrier / FlushProcessWriteBuffers); otherwise both sides use a seq_cst fence.
// See [park.register], [park.notify.load] and docs/memory-ordering.md, "## queues".
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "staticrt/platform/arch.hpp"
#include "staticrt/platform/memory.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/thread.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"

namespace staticrt::queue_detail {

/// What one non-blocking attempt of a blocking call found. `busy`: not done yet, but what it
/// waits for is already in flight on other threads and nobody will notify this side about it
/// (MPMC after close(): another consumer may take the last element without waking anyone), so
/// the caller yields and re-tries instead of parking.
// stalled: like would_block, but the sleep is capped at kStallRecheckNs so that the caller can
// re-check a stall only time reveals (a process-shared queue's dead claimant). corrupted: the
// shared structure holds impossible values; settles with Errc::corrupted.
enum class Attempt : std::uint8_t { done, would_block, closed, busy, stalled, corrupted };
inline constexpr std::int64_t kStallRecheckNs = 5'000'000;

/// Spin iterations (each one attempt + cpu_relax) before a blocking call yields. Long enough
/// to cover a cross-core round trip (~60-300 ns here), short enough not to burn a time slice
/// when threads outnumber cores.
inline constexpr std::uint32_t kSpinAttempts = 256;
/// Attempts separated by a yield of the CPU before a blocking call parks: when threads
/// outnumber cores the other side often waits for this very core, and a yield hands it over
/// without two futex syscalls.
inline constexpr std::uint32_t kYieldAttempts = 8;

/// Process-wide cache of platform::heavy_barrier_available() for the notify fast path (one
/// relaxed byte load, a perfectly predicted branch). 0: not asked yet, 1: available, 2: not.
/// Monotonic: it goes from 0 to the platform's single answer once and never changes again.
inline constexpr std::uint8_t kHeavyUnknown = 0;
inline constexpr std::uint8_t kHeavyAvailable = 1;
inline constexpr std::uint8_t kHeavyUnavailable = 2;
inline constinit std::atomic<std::uint8_t> g_heavy_state{kHeavyUnknown};

/// Asks the platform (registers membarrier on the first call) and caches the answer.
inline bool resolve_heavy_barrier() noexcept {
    const bool yes = platform::heavy_barrier_available();
    // [park.heavy.store] relaxed: every writer stores the platform's one answer; readers only
    // choose a barrier flavour from it (the registration itself is ordered inside the platform
    // by [barrier.state.store] / [barrier.state.load]).
    g_heavy_state.store(yes ? kHeavyAvailable : kHeavyUnavailable, std::memory_order_relaxed);
    return yes;
}

template <platform::WaitScope Scope>
class Parking {
public:
    constexpr Parking() noexcept = default;
    Parking(const Parking&) = delete;
    Parking& operator=(const Parking&) = delete;

    /// Called by the other side after it published a change (a release store). Wakes one
    /// sleeper if there is one; otherwise costs one load of a line that only changes when a
    /// thread starts or stops sleeping: no RMW, and no fence where the heavy barrier exists.
    void notify_one() noexcept {
        if (has_waiters()) wake(false);
    }
    /// As notify_one() but wakes every sleeper (batch calls, join()).
    void notify_all() noexcept {
        if (has_waiters()) wake(true);
    }
    /// Wakes everybody unconditionally (close()).
    void wake_everyone() noexcept { wake(true); }

    /// Runs attempt() until it returns done/closed or the deadline passes (Errc::timeout).
    template <class Fn>
    [[nodiscard]] Result<void> wait_for(Fn&& attempt, Deadline deadline) noexcept {
        for (std::uint32_t i = 0; i < kSpinAttempts; ++i) {
            const Attempt a = attempt();
            if (settled(a)) return finish(a);
            if (deadline.is_poll()) return unexpected(Errc::timeout);
            platform::cpu_relax();
        }
        for (std::uint32_t i = 0; i < kYieldAttempts; ++i) {
            platform::yield_now();
            const Attempt a = attempt();
            if (settled(a)) return finish(a);
            if (deadline.expired()) return unexpected(Errc::timeout);
        }
        // The waiter decides its barrier flavour BEFORE it registers, from the platform's answer
        // (never "unknown"): if the heavy barrier exists it always uses it, so a notifier that
        // read [park.heavy.load] == available (and used only a compiler barrier) is always
        // paired with a heavy_barrier() here. process_shared: notifiers may live in other
        // processes, which membarrier(PRIVATE) does not reach: fences on both sides.
        bool heavy = false;
        if constexpr (Scope == platform::WaitScope::process_private) heavy = resolve_heavy_barrier();
        // [park.register] seq_cst RMW: pairs with [park.notify.load] through [park.register.barrier]
        // and [park.notify.barrier].
        m_waiters.fetch_add(1, std::memory_order_seq_cst);
        // [park.register.barrier] heavy_barrier() (it starts and ends with a seq_cst fence) or a
        // seq_cst fence: pairs with [park.notify.barrier]. After it, for every notify, either its
        // count load sees this waiter (it then bumps m_seq and wakes: [park.seq.bump]), or its
        // publishing store is visible to the attempt() below (which then does not sleep):
        //  - fence/fence: both fences are in the single total order S; whichever is first, the
        //    other side's load after the later fence sees the store before the earlier one.
        //  - heavy/light: every thread of the process that runs executes a full barrier at some
        //    point P during heavy_barrier(); a notifier's "store; compiler barrier; load" sits
        //    before P (its store is visible when heavy_barrier() returns), after P (its load
        //    sees the increment, visible before P) or across P (a full fence between them).
        if (heavy) platform::heavy_barrier();
        else std::atomic_thread_fence(std::memory_order_seq_cst);
        Result<void> out;
        for (;;) {
            // [park.seq.load] acquire: pairs with [park.seq.bump]; a wake after this load changes
            // the word, so wait() below returns at once instead of sleeping.
            const std::uint32_t seq = m_seq.load(std::memory_order_acquire);
            const Attempt a = attempt();
            if (settled(a)) {
                out = finish(a);
                break;
            }
            if (deadline.expired()) {
                out = unexpected(Errc::timeout);
                break;
            }
            if (a == Attempt::busy) {  // the outcome is decided by operations in flight: no sleep
                platform::yield_now();
                continue;
            }
            Deadline until = deadline;
            if (a == Attempt::stalled) {  // capped sleep: the attempt must run again soon
                const Deadline cap = Deadline::at(Instant(Instant::sat_add(Instant::now().ns(), kStallRecheckNs)));
                if (deadline.is_never() || cap.instant() < deadline.instant()) until = cap;
            }
            const Result<void> w = platform::wait(m_seq, seq, until, Scope);
            if (!w && w.code() != Errc::timeout) {  // not_supported / os_error
                out = w;
                break;
            }
        }
        m_waiters.fetch_sub(1, std::memory_order_relaxed);  // [park.unregister] relaxed: a count only
        return out;
    }

    /// Called right after the caller's publishing store: true when somebody sleeps (or is about
    /// to). Exact (no lost wake-up), see [park.register.barrier].
    [[nodiscard]] bool has_waiters() const noexcept {
        if constexpr (Scope == platform::WaitScope::process_private) {
            // [park.heavy.load] relaxed: only picks the barrier flavour; see g_heavy_state.
            const std::uint8_t h = g_heavy_state.load(std::memory_order_relaxed);
            if (h == kHeavyAvailable) [[likely]] {
                // [park.notify.barrier] compiler-only barrier: pairs with the waiter's
                // heavy_barrier() in [park.register.barrier]; keeps the publishing store before
                // the count load in the instruction stream.
                platform::light_barrier();
                // [park.notify.load] relaxed: exact through the barrier pair above.
                return m_waiters.load(std::memory_order_relaxed) != 0;
            }
            // Not known yet (treated as unavailable for this call) or unavailable: fence path.
            if (h == kHeavyUnknown) (void)resolve_heavy_barrier();
        }
        // [park.notify.barrier] seq_cst fence: pairs with the waiter's seq_cst fence in
        // [park.register.barrier] (process_shared, or no heavy barrier on this system).
        std::atomic_thread_fence(std::memory_order_seq_cst);
        // [park.notify.load] relaxed: exact through the fence pair above.
        return m_waiters.load(std::memory_order_relaxed) != 0;
    }
    [[nodiscard]] std::uint32_t waiters() const noexcept { return m_waiters.load(std::memory_order_relaxed); }

private:
    /// The attempt ended the wait (done or closed); would_block and busy try again.
    static bool settled(Attempt a) noexcept {
        return a == Attempt::done || a == Attempt::closed || a == Attempt::corrupted;
    }
    static Result<void> finish(Attempt a) noexcept {
        if (a == Attempt::done) return ok();
        return Result<void>(unexpected(a == Attempt::corrupted ? Errc::corrupted : Errc::closed));
    }
    void wake(bool all) noexcept {
        // [park.seq.bump] release: a sleeper whose wait() compared an older value returns.
        m_seq.fetch_add(1, std::memory_order_release);
        if (all) platform::wake_all(m_seq, Scope);
        else platform::wake_one(m_seq, Scope);
    }

    std::atomic<std::uint32_t> m_seq{0};      // bumped by wakers
    std::atomic<std::uint32_t> m_waiters{0};  // sleepers of this side
};

}  // namespace staticrt::queue_detail
