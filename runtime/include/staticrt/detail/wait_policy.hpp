// SPDX-License-Identifier: MIT
// staticrt/detail/wait_policy.hpp — the injectable wait policy of the waiting layer.
//
// Every structure that waits (EventCount and the queue / pool / slot cores built on it) is a
// template over a policy P and touches shared memory, the futex, the fences, the CPU and the
// clock only through P. OsWaitPolicy, the default everywhere, maps each member to the platform;
// the deterministic scheduler's policy (tests/dsched/) has the same members with an atomic type
// whose every operation is a scheduling point, so a test can replay any interleaving.
//
// SpinPolicy is the one spin budget of every blocking call before it parks: `spin_attempts`
// attempts separated by cpu_relax(), then `yield_attempts` attempts separated by yield().
//
// Memory ordering: notifier_fence()/waiter_fence() are the two halves of the Dekker pair in
// docs/memory-ordering.md, "## waiting layer" ([ec.notify.fence] / [ec.wait.fence]).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "staticrt/platform/arch.hpp"
#include "staticrt/platform/cpu.hpp"
#include "staticrt/platform/memory.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/thread.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"

namespace staticrt::detail {

/// How long a blocking call tries before it parks. Defaults: what the queues measured (a
/// cross-core round trip is ~60-300 ns here: 256 relaxed attempts cover it without burning a
/// time slice when threads outnumber cores; 8 yields hand the core to the other side without
/// two futex syscalls). {0, 0}: park at once after one attempt.
struct SpinPolicy {
    std::uint32_t spin_attempts = 256;
    std::uint32_t yield_attempts = 8;
};
inline constexpr SpinPolicy kDefaultSpin{};
inline constexpr SpinPolicy kNoSpin{0, 0};
/// The first polls of kDefaultSpin that a queue's pop() makes in its own small, inlined loop
/// (detail::poll_inline, event_count.hpp)
/// before it calls its out-of-line wait (which then spins the rest, kSpinAfterInline): the
/// same poll placed in the caller's code answers a ping-pong hand-off 5-13 % sooner than from
/// inside the large wait function (bench/notes.md, "Ping-pong: the poll phase inline").
inline constexpr std::uint32_t kInlinePolls = 64;
inline constexpr SpinPolicy kSpinAfterInline{kDefaultSpin.spin_attempts - kInlinePolls, kDefaultSpin.yield_attempts};
static_assert(kInlinePolls < kDefaultSpin.spin_attempts, "the inline polls are part of the spin phase");

/// Process-wide cache of platform::heavy_barrier_available() for the notify fast path (one
/// relaxed byte load, a perfectly predicted branch). 0: not asked yet, 1: available, 2: not.
/// Monotonic: it goes from 0 to the platform's single answer once and never changes again.
inline constexpr std::uint8_t kHeavyUnknown = 0;
inline constexpr std::uint8_t kHeavyAvailable = 1;
inline constexpr std::uint8_t kHeavyUnavailable = 2;
/// A cache line of its own: every notify reads it, so a hot word of the application placed next
/// to it by the linker would make each notify a cache miss (measured: a task counter beside it
/// halved the futures dispatch rate).
struct alignas(platform::kCacheLine) HeavyState {
    std::atomic<std::uint8_t> value{kHeavyUnknown};
};
static_assert(sizeof(HeavyState) == platform::kCacheLine, "HeavyState must fill its cache line");
inline constinit HeavyState g_heavy_state{};

/// Asks the platform (registers membarrier on the first call) and caches the answer.
[[gnu::noinline, gnu::cold]] inline bool resolve_heavy_barrier() noexcept {  // once per process: keep it out of the notify path
    const bool yes = platform::heavy_barrier_available();
    // [ec.heavy.store] relaxed: every writer stores the platform's one answer; readers only
    // choose a barrier flavour from it (the registration itself is ordered inside the platform
    // by [barrier.state.store] / [barrier.state.load]).
    g_heavy_state.value.store(yes ? kHeavyAvailable : kHeavyUnavailable, std::memory_order_relaxed);
    return yes;
}

/// The default policy: real atomics, the platform's futex, fences and clock.
struct OsWaitPolicy {
    template <class T>
    using atomic = std::atomic<T>;

    /// Futex-like: blocks while word == expected, until woken, the deadline, or spuriously.
    [[nodiscard]] static Result<void> wait(const atomic<std::uint32_t>& word, std::uint32_t expected,
                                           Deadline deadline, platform::WaitScope scope) noexcept {
        return platform::wait(word, expected, deadline, scope);
    }
    static void wake_one(const atomic<std::uint32_t>& word, platform::WaitScope scope) noexcept {
        platform::wake_one(word, scope);
    }
    static void wake_all(const atomic<std::uint32_t>& word, platform::WaitScope scope) noexcept {
        platform::wake_all(word, scope);
    }
    /// EventCount's sleep (after prepare_wait): wait(), except that a process-shared waiter
    /// whose system_barrier() could not reach the other processes (platform::SystemBarrierReach::
    /// not_from_here) re-checks every kUnpairedRecheckNs: a notifier in a process that joined
    /// uses only a compiler barrier, so without the waiter's barrier its wake may be missed.
    /// Such a re-check returns as a spurious wake (ok), never as the caller's timeout.
    [[nodiscard]] static Result<void> wait_registered(const atomic<std::uint32_t>& word, std::uint32_t expected,
                                                      Deadline deadline, platform::WaitScope scope) noexcept {
        if (scope == platform::WaitScope::process_shared &&
            platform::system_barrier_reach() == platform::SystemBarrierReach::not_from_here) [[unlikely]] {
            const Deadline cap = Deadline::at(Instant(Instant::sat_add(Instant::now().ns(), kUnpairedRecheckNs)));
            if (deadline.is_never() || cap.instant() < deadline.instant()) {
                const Result<void> r = platform::wait(word, expected, cap, scope);
                if (!r && r.code() == Errc::timeout) return ok();  // the cap, not the caller's deadline
                return r;
            }
        }
        return platform::wait(word, expected, deadline, scope);
    }
    /// The re-check period of wait_registered() when the barrier pair is incomplete.
    static constexpr std::int64_t kUnpairedRecheckNs = 10'000'000;

    /// Whether notifier_fence(scope) is the compiler barrier alone: process_private where the
    /// heavy barrier exists, process_shared where this process joined the system barrier (the
    /// waiter's system_barrier() reaches exactly the joined processes). Tests check the choice.
    [[nodiscard]] static bool light_notify(platform::WaitScope scope) noexcept {
        if (scope == platform::WaitScope::process_shared) {
            return platform::system_barrier_joined();  // [sysbarrier.joined.load]
        }
        // [ec.heavy.load] relaxed: only picks the barrier flavour; see g_heavy_state.
        const std::uint8_t h = g_heavy_state.value.load(std::memory_order_relaxed);
        if (h == kHeavyAvailable) [[likely]] return true;
        // Not known yet (treated as unavailable for this call) or unavailable: fence path.
        if (h == kHeavyUnknown) (void)resolve_heavy_barrier();
        return false;
    }
    /// The notifier's half of the Dekker pair, between its publishing store and its waiter-count
    /// load: a compiler barrier where the waiter's barrier reaches this thread (light_notify()),
    /// else a seq_cst fence.
    static void notifier_fence(platform::WaitScope scope) noexcept {
        if (light_notify(scope)) [[likely]] {
            // [ec.notify.fence] compiler-only barrier: pairs with the waiter's heavy_barrier()
            // (process_private) or system_barrier() (process_shared, any process) in
            // [ec.wait.fence]; keeps the publishing store before the count load.
            platform::light_barrier();
            return;
        }
        // [ec.notify.fence] seq_cst fence: pairs with the waiter's seq_cst fence in [ec.wait.fence].
        std::atomic_thread_fence(std::memory_order_seq_cst);
    }
    /// The waiter's half, between its waiter-count increment and its re-check: heavy_barrier()
    /// (membarrier / FlushProcessWriteBuffers) for process_private where it exists, else a
    /// seq_cst fence. Whenever a notifier took the light path the platform's one answer is
    /// "available", so this waiter takes the heavy one.
    /// process_shared: platform::system_barrier() (membarrier GLOBAL_EXPEDITED where it can be
    /// issued, reaching every process that joined; always a seq_cst fence).
    static void waiter_fence(platform::WaitScope scope) noexcept {
        if (scope == platform::WaitScope::process_shared) {
            // [ec.wait.fence] system barrier: starts with a seq_cst fence (pairs with an
            // unjoined notifier's fence) and reaches every joined notifier's CPU.
            (void)platform::system_barrier();
        } else if (resolve_cached()) {
            platform::heavy_barrier();  // [ec.wait.fence] heavy: starts and ends with a seq_cst fence
        } else {
            std::atomic_thread_fence(std::memory_order_seq_cst);  // [ec.wait.fence] seq_cst fence
        }
    }
    static void cpu_relax() noexcept { platform::cpu_relax(); }
    /// A hint before a load that an RMW of the same word follows (platform::prefetch_for_write).
    static void prefetch_for_write(const void* p) noexcept { platform::prefetch_for_write(p); }
    static void yield() noexcept { platform::yield_now(); }
    [[nodiscard]] static bool expired(Deadline deadline) noexcept { return deadline.expired(); }
    /// The CPU the caller runs on now (a hint: it may move at once); kMaxCpus when unknown.
    [[nodiscard]] static std::size_t current_cpu() noexcept {
        const auto c = platform::current_cpu();
        return c ? *c : platform::kMaxCpus;
    }

private:
    static bool resolve_cached() noexcept {
        // [ec.heavy.load] relaxed: see g_heavy_state.
        const std::uint8_t h = g_heavy_state.value.load(std::memory_order_relaxed);
        if (h != kHeavyUnknown) return h == kHeavyAvailable;
        return resolve_heavy_barrier();
    }
};

}  // namespace staticrt::detail
