// SPDX-License-Identifier: MIT
// The non-template parts of the synchronisation primitives: contended paths, parked waits.
// Every atomic names its order and its partner; docs/memory-ordering.md (## sync) has the
// longer arguments.
#include <atomic>
#include <cstdint>

#include "staticrt/platform/arch.hpp"
#include "staticrt/platform/wait.hpp"
#include "staticrt/sync/barrier.hpp"
#include "staticrt/sync/count.hpp"
#include "staticrt/sync/event.hpp"
#include "staticrt/sync/latch.hpp"
#include "staticrt/sync/mutex.hpp"
#include "staticrt/sync/semaphore.hpp"

namespace staticrt::detail {

namespace {
constexpr std::uint32_t kUnlocked = 0, kLocked = 1, kContended = 2;
/// Polls before parking: about a microsecond of pause instructions, the time a short critical
/// section takes; longer would burn the CPU the owner needs on a machine with few cores.
constexpr int kSpinLimit = 100;
}  // namespace

// Only ever named by the consteval count constructors (count.hpp), where naming them is the
// compile error; defined so that a stray run-time call would still say what went wrong.
void sync_count_must_not_be_negative() noexcept {
    contract_violation("a synchronisation count must not be negative (use init() for run-time values)");
}
void sync_count_is_too_large() noexcept { contract_violation("a synchronisation count exceeds SyncCount::kMax"); }
void barrier_parties_must_be_positive() noexcept { contract_violation("a Barrier needs at least one party"); }

// ------------------------------------------------------------------------------------ mutex
Result<void> mutex_lock_contended(std::atomic<std::uint32_t>& state, Deadline deadline, WaitScope scope) noexcept {
    // Bounded spin while the owner runs and nobody sleeps yet.
    for (int i = 0; i < kSpinLimit && !deadline.is_poll(); ++i) {
        std::uint32_t s = state.load(std::memory_order_relaxed);  // [mutex.spin] relaxed peek; the CAS acquires
        if (s == kUnlocked &&
            // [mutex.lock] acquire: pairs with [mutex.unlock].
            state.compare_exchange_weak(s, kLocked, std::memory_order_acquire, std::memory_order_relaxed))
            return ok();
        if (s == kContended) break;
        platform::cpu_relax();
    }
    // Park. Taking the lock through the exchange leaves it marked contended: the next unlock then
    // wakes one more sleeper than strictly needed, which is harmless and avoids a lost wake-up.
    // [mutex.lock] acquire: pairs with [mutex.unlock].
    while (state.exchange(kContended, std::memory_order_acquire) != kUnlocked) {
        const Result<void> r = platform::wait(state, kContended, deadline, scope);
        if (!r) {
            if (r.code() != Errc::timeout) return r;
            // Last chance at the deadline. [mutex.lock] acquire: pairs with [mutex.unlock].
            if (state.exchange(kContended, std::memory_order_acquire) == kUnlocked) return ok();
            return unexpected(Errc::timeout);
        }
    }
    return ok();
}

void mutex_unlock_state(std::atomic<std::uint32_t>& state, WaitScope scope) noexcept {
    // [mutex.unlock] release: publishes the critical section; pairs with [mutex.lock].
    if (state.exchange(kUnlocked, std::memory_order_release) == kContended) platform::wake_one(state, scope);
}

// ------------------------------------------------------------------------------------ sleep word
// The sleeper handshake of Semaphore, Event and Latch, written once. The waiter registers in
// `sleepers`, then re-loads the word; the waker changes the word, then loads `sleepers`. All four
// are seq_cst ([sleep.register] / [sleep.wake]): a Dekker pair, so at least one side sees the
// other's write — the waker wakes, or the waiter sees the change and does not sleep
// (docs/memory-ordering.md, ## sync, "The sleeper handshake").
namespace {
/// Registers as a sleeper and parks on s.word until done(w) accepts a value w of the word (it may
/// modify the word: the semaphore takes its unit there, with acquire), or the deadline. At the
/// deadline done() gets one last look (an acquire load), so a change racing the timeout counts.
template <class Done>
Result<void> park_until(SleepWord& s, Deadline deadline, WaitScope scope, Done done) noexcept {
    if (deadline.is_poll()) return unexpected(Errc::timeout);
    s.sleepers.fetch_add(1, std::memory_order_seq_cst);  // [sleep.register] seq_cst: Dekker pair with [sleep.wake]
    Result<void> result = ok();
    for (;;) {
        std::uint32_t w = s.word.load(std::memory_order_seq_cst);  // [sleep.register] seq_cst, see above
        if (done(w)) break;
        const Result<void> r = platform::wait(s.word, w, deadline, scope);
        if (!r) {
            // Last chance: a change that raced the deadline still counts.
            std::uint32_t last = s.word.load(std::memory_order_acquire);  // [sleep.register] acquire
            if (r.code() != Errc::timeout || !done(last)) result = r;
            break;
        }
    }
    s.sleepers.fetch_sub(1, std::memory_order_relaxed);  // [sleep.register] relaxed: only makes wakes rarer
    return result;
}

/// After the caller changed s.word with a seq_cst RMW: wakes one or all sleepers, when any registered.
void wake_sleepers(const SleepWord& s, bool all, WaitScope scope) noexcept {
    // [sleep.wake] seq_cst: Dekker pair with [sleep.register].
    if (s.sleepers.load(std::memory_order_seq_cst) == 0) return;
    if (all) platform::wake_all(s.word, scope);
    else platform::wake_one(s.word, scope);
}

/// Takes one unit from a count whose last seen value is c (updated on a lost race). Never blocks.
bool take_unit(std::atomic<std::uint32_t>& count, std::uint32_t& c) noexcept {
    while (c > 0) {
        // [sem.acquire] acquire: pairs with [sem.release]; the releaser's writes become visible.
        if (count.compare_exchange_weak(c, c - 1, std::memory_order_acquire, std::memory_order_relaxed)) return true;
    }
    return false;
}
}  // namespace

// ------------------------------------------------------------------------------------ semaphore
bool semaphore_try_acquire(SleepWord& s) noexcept {
    std::uint32_t c = s.word.load(std::memory_order_relaxed);  // [sem.peek] relaxed; the CAS acquires
    return take_unit(s.word, c);
}

Result<void> semaphore_acquire_slow(SleepWord& s, Deadline deadline, WaitScope scope) noexcept {
    // done: a unit was taken; otherwise the count is 0 and the park waits for it to change.
    return park_until(s, deadline, scope, [&s](std::uint32_t& c) noexcept { return take_unit(s.word, c); });
}

Result<void> semaphore_release(SleepWord& s, std::uint32_t n, std::uint32_t limit, WaitScope scope) noexcept {
    if (n == 0) return ok();
    std::uint32_t c = s.word.load(std::memory_order_relaxed);  // [sem.peek] relaxed; the CAS publishes
    do {
        if (n > limit || c > limit - n) return unexpected(Errc::over_release);
        // [sem.release] seq_cst (includes release): publishes the releaser's writes to [sem.acquire],
        // and is the store half of the [sleep.wake] Dekker pair.
    } while (!s.word.compare_exchange_weak(c, c + n, std::memory_order_seq_cst, std::memory_order_relaxed));
    wake_sleepers(s, n != 1, scope);  // release(n > 1): every woken thread re-checks the count
    return ok();
}

// ------------------------------------------------------------------------------------ event
void event_set(SleepWord& s, WaitScope scope) noexcept {
    // Raise bit 0 and count the raise in bits 1.. (w + 3 from a lowered word), so a sleeper that
    // captured the word before sees it change even if clear() follows at once (the pulse).
    std::uint32_t w = s.word.load(std::memory_order_relaxed);  // [event.peek] relaxed: the CAS decides
    for (;;) {
        if ((w & 1u) != 0) {
            // Already up: nothing to publish beyond what the raising set() did... but this set()'s
            // own writes must still be ordered before a waiter's success: a seq_cst RMW that
            // changes nothing does it. [event.set] seq_cst: pairs with [event.wait].
            if (s.word.compare_exchange_weak(w, w, std::memory_order_seq_cst, std::memory_order_relaxed)) return;
            continue;
        }
        // [event.set] seq_cst (includes release): pairs with [event.wait]; store half of the
        // [sleep.wake] Dekker pair.
        if (s.word.compare_exchange_weak(w, w + 3u, std::memory_order_seq_cst, std::memory_order_relaxed)) break;
    }
    wake_sleepers(s, true, scope);
}

Result<void> event_wait_slow(SleepWord& s, Deadline deadline, WaitScope scope) noexcept {
    // The word before registering: any set() after this point changes it (count or flag).
    // [event.wait] acquire: pairs with [event.set].
    const std::uint32_t start = s.word.load(std::memory_order_acquire);
    if ((start & 1u) != 0) return ok();
    // done: the flag is up or the set count moved (a set(); clear(); pulse while we slept).
    // [event.wait] the park's seq_cst / acquire loads pair with [event.set].
    return park_until(s, deadline, scope, [start](std::uint32_t& w) noexcept { return w != start; });
}

// ------------------------------------------------------------------------------------ latch
Result<void> latch_count_down(SleepWord& s, std::uint32_t n, WaitScope scope) noexcept {
    if (n == 0) return ok();
    std::uint32_t c = s.word.load(std::memory_order_relaxed);  // [latch.peek] relaxed; the CAS publishes
    do {
        if (n > c) return unexpected(Errc::invalid_argument);
        // [latch.count_down] seq_cst (includes release): pairs with [latch.wait]; store half of the
        // [sleep.wake] Dekker pair.
    } while (!s.word.compare_exchange_weak(c, c - n, std::memory_order_seq_cst, std::memory_order_relaxed));
    if (c == n) wake_sleepers(s, true, scope);  // reached zero
    return ok();
}

Result<void> latch_wait_slow(SleepWord& s, Deadline deadline, WaitScope scope) noexcept {
    // done: the count is zero. [latch.wait] the park's seq_cst / acquire loads pair with [latch.count_down].
    return park_until(s, deadline, scope, [](std::uint32_t& c) noexcept { return c == 0; });
}

}  // namespace staticrt::detail
