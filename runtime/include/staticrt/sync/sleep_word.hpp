// SPDX-License-Identifier: MIT
// staticrt/sync/sleep_word.hpp — detail::SleepWord<P, Scope>: the state Semaphore, Event and
// Latch share, and their operations, on the waiting layer.
//
// A 32-bit state word (the primitive's count or flag) and a detail::EventCount that threads
// sleep on. A waiter registers (prepare_wait), re-checks the state word, and sleeps on the epoch
// (commit_wait): EventCount::wait_for() with no spin, after the primitive's own fast path failed.
// The changing side does its RMW on the state word, then notify_one()/notify_all(): one load of
// the waiter count, no RMW, no syscall when nobody sleeps. No lost wake-up is the waiting
// layer's argument ([ec.*] in docs/memory-ordering.md, "## waiting layer"); the primitives only
// order their data ([sem.*], [event.*], [latch.*]). No pointers: it may live in shared memory
// (zero-filled or constructed), and Scope picks the fences that reach other processes.
//
// Header templates over the wait policy P (detail/wait_policy.hpp): the public types use
// OsWaitPolicy; tests/dsched runs the same code over DSchedPolicy.
#pragma once

#include <atomic>
#include <cstdint>

#include "staticrt/detail/event_count.hpp"
#include "staticrt/detail/wait_policy.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"

namespace staticrt::detail {

template <class P, platform::WaitScope Scope>
struct SleepWord {
    constexpr SleepWord() noexcept = default;
    constexpr explicit SleepWord(std::uint32_t initial) noexcept : word(initial) {}
    SleepWord(const SleepWord&) = delete;
    SleepWord& operator=(const SleepWord&) = delete;

    /// Threads registered to sleep (a snapshot, for tests and diagnostics).
    [[nodiscard]] std::uint32_t sleeping() const noexcept { return ec.waiters(); }

    typename P::template atomic<std::uint32_t> word{0};  ///< the primitive's state
    EventCount<P, Scope> ec;                             ///< what sleepers wait on
};

/// Takes one unit from a count whose last seen value is c (updated on a lost race). Never blocks.
template <class A>
[[nodiscard]] bool sleep_take_unit(A& count, std::uint32_t& c) noexcept {
    while (c > 0) {
        // [sem.acquire] acquire: pairs with [sem.release]; the releaser's writes become visible.
        if (count.compare_exchange_weak(c, c - 1, std::memory_order_acquire, std::memory_order_relaxed)) return true;
    }
    return false;
}

/// Sleeps on s.ec until done(w) accepts a value w of the state word (loaded with acquire; done
/// may take a unit there), or the deadline (Errc::timeout; done() gets one more look after the
/// last sleep, so a change racing the deadline counts). The caller's fast path already failed.
template <class P, platform::WaitScope Scope, class Done>
[[nodiscard]] Result<void> sleep_until(SleepWord<P, Scope>& s, Deadline deadline, Done done) noexcept {
    if (deadline.is_poll()) return unexpected(Errc::timeout);
    return s.ec.wait_for(
        [&]() noexcept {
            // Runs after prepare_wait(): the re-check of the waiting layer's handshake.
            // [sync.recheck] acquire: pairs with the changer's release RMW ([sem.release],
            // [event.set], [latch.count_down]); done() may then take a unit with [sem.acquire].
            std::uint32_t w = s.word.load(std::memory_order_acquire);
            return done(w) ? Attempt::done : Attempt::would_block;
        },
        deadline, kNoSpin);
}

// ------------------------------------------------------------------------------------ semaphore
template <class P, platform::WaitScope Scope>
[[nodiscard]] bool semaphore_try_acquire(SleepWord<P, Scope>& s) noexcept {
    std::uint32_t c = s.word.load(std::memory_order_relaxed);  // [sem.peek] relaxed; the CAS acquires
    return sleep_take_unit(s.word, c);
}

template <class P, platform::WaitScope Scope>
[[nodiscard]] Result<void> semaphore_acquire_slow(SleepWord<P, Scope>& s, Deadline deadline) noexcept {
    // done: a unit was taken; otherwise the count is 0 and the wait goes on.
    return sleep_until(s, deadline, [&s](std::uint32_t& c) noexcept { return sleep_take_unit(s.word, c); });
}

/// Adds n unless count + n > limit (Errc::over_release, nothing changes), then notifies.
template <class P, platform::WaitScope Scope>
[[nodiscard]] Result<void> semaphore_release(SleepWord<P, Scope>& s, std::uint32_t n, std::uint32_t limit) noexcept {
    if (n == 0) return ok();
    std::uint32_t c = s.word.load(std::memory_order_relaxed);  // [sem.peek] relaxed; the CAS publishes
    do {
        if (n > limit || c > limit - n) return unexpected(Errc::over_release);
        // [sem.release] release: publishes the releaser's writes to [sem.acquire]; the publishing
        // store of the waiting layer's handshake (the notify below orders it, [ec.notify.fence]).
    } while (!s.word.compare_exchange_weak(c, c + n, std::memory_order_release, std::memory_order_relaxed));
    if (n == 1) s.ec.notify_one();
    else s.ec.notify_all();  // release(n > 1): every woken thread re-checks the count
    return ok();
}

// ------------------------------------------------------------------------------------ event
template <class P, platform::WaitScope Scope>
void event_set(SleepWord<P, Scope>& s) noexcept {
    // Raise bit 0 and count the raise in bits 1.. (w + 3 from a lowered word), so a sleeper that
    // captured the word before sees it change even if clear() follows at once (the pulse).
    std::uint32_t w = s.word.load(std::memory_order_relaxed);  // [event.peek] relaxed: the CAS decides
    for (;;) {
        if ((w & 1u) != 0) {
            // Already up: nothing to wake, but this set()'s own writes must still be ordered
            // before a waiter's success: a release RMW that changes nothing does it (it continues
            // the release sequence the waiter's acquire load reads from). [event.set] release.
            if (s.word.compare_exchange_weak(w, w, std::memory_order_release, std::memory_order_relaxed)) return;
            continue;
        }
        // [event.set] release: pairs with [event.wait]; the publishing store of the handshake.
        if (s.word.compare_exchange_weak(w, w + 3u, std::memory_order_release, std::memory_order_relaxed)) break;
    }
    s.ec.notify_all();
}

template <class P, platform::WaitScope Scope>
[[nodiscard]] Result<void> event_wait_slow(SleepWord<P, Scope>& s, Deadline deadline) noexcept {
    // The word before registering: any set() after this point changes it (count or flag).
    // [event.wait] acquire: pairs with [event.set].
    const std::uint32_t start = s.word.load(std::memory_order_acquire);
    if ((start & 1u) != 0) return ok();
    // done: the flag is up or the set count moved (a set(); clear(); pulse while we slept).
    // [event.wait] the re-check's acquire load ([sync.recheck]) pairs with [event.set].
    return sleep_until(s, deadline, [start](std::uint32_t& w) noexcept { return w != start; });
}

// ------------------------------------------------------------------------------------ latch
template <class P, platform::WaitScope Scope>
[[nodiscard]] Result<void> latch_count_down(SleepWord<P, Scope>& s, std::uint32_t n) noexcept {
    if (n == 0) return ok();
    std::uint32_t c = s.word.load(std::memory_order_relaxed);  // [latch.peek] relaxed; the CAS publishes
    do {
        if (n > c) return unexpected(Errc::invalid_argument);
        // [latch.count_down] release: pairs with [latch.wait]; the publishing store of the handshake.
    } while (!s.word.compare_exchange_weak(c, c - n, std::memory_order_release, std::memory_order_relaxed));
    if (c == n) s.ec.notify_all();  // reached zero
    return ok();
}

template <class P, platform::WaitScope Scope>
[[nodiscard]] Result<void> latch_wait_slow(SleepWord<P, Scope>& s, Deadline deadline) noexcept {
    // done: the count is zero. [latch.wait] the re-check's acquire load pairs with [latch.count_down].
    return sleep_until(s, deadline, [](std::uint32_t& c) noexcept { return c == 0; });
}

}  // namespace staticrt::detail
