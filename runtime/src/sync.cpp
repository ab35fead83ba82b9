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
            return Errc::timeout;
        }
    }
    return ok();
}

void mutex_unlock_state(std::atomic<std::uint32_t>& state, WaitScope scope) noexcept {
    // [mutex.unlock] release: publishes the critical section; pairs with [mutex.lock].
    if (state.exchange(kUnlocked, std::memory_order_release) == kContended) platform::wake_one(state, scope);
}

// ------------------------------------------------------------------------------------ semaphore
bool semaphore_try_acquire(std::atomic<std::uint32_t>& count) noexcept {
    std::uint32_t c = count.load(std::memory_order_relaxed);  // [sem.peek] relaxed; the CAS acquires
    while (c > 0) {
        // [sem.acquire] acquire: pairs with [sem.release]; the releaser's writes become visible.
        if (count.compare_exchange_weak(c, c - 1, std::memory_order_acquire, std::memory_order_relaxed)) return true;
    }
    return false;
}

Result<void> semaphore_acquire_slow(std::atomic<std::uint32_t>& count, std::atomic<std::uint32_t>& sleepers,
                                    Deadline deadline, WaitScope scope) noexcept {
    if (deadline.is_poll()) return Errc::timeout;
    // [sem.sleepers] seq_cst: Dekker pair with [sem.release] — either release() sees this
    // registration and wakes, or the count load below sees release()'s increment.
    sleepers.fetch_add(1, std::memory_order_seq_cst);
    Result<void> result = ok();
    for (;;) {
        std::uint32_t c = count.load(std::memory_order_seq_cst);  // [sem.sleepers] seq_cst, see above
        while (c > 0) {
            // [sem.acquire] acquire: pairs with [sem.release].
            if (count.compare_exchange_weak(c, c - 1, std::memory_order_acquire, std::memory_order_relaxed)) {
                sleepers.fetch_sub(1, std::memory_order_relaxed);  // [sem.sleepers] only makes wakes rarer
                return ok();
            }
        }
        const Result<void> r = platform::wait(count, 0, deadline, scope);
        if (!r) {
            if (r.code() == Errc::timeout && semaphore_try_acquire(count)) break;  // last chance
            result = r;
            break;
        }
    }
    sleepers.fetch_sub(1, std::memory_order_relaxed);  // [sem.sleepers] relaxed: only makes wakes rarer
    return result;
}

Result<void> semaphore_release(std::atomic<std::uint32_t>& count, const std::atomic<std::uint32_t>& sleepers,
                               std::uint32_t n, std::uint32_t limit, WaitScope scope) noexcept {
    if (n == 0) return ok();
    std::uint32_t c = count.load(std::memory_order_relaxed);  // [sem.peek] relaxed; the CAS publishes
    do {
        if (n > limit || c > limit - n) return Errc::over_release;
        // [sem.release] seq_cst (includes release): publishes the releaser's writes to [sem.acquire],
        // and is the store half of the [sem.sleepers] Dekker pair.
    } while (!count.compare_exchange_weak(c, c + n, std::memory_order_seq_cst, std::memory_order_relaxed));
    if (sleepers.load(std::memory_order_seq_cst) != 0) {  // [sem.sleepers] seq_cst, see acquire_slow
        if (n == 1) platform::wake_one(count, scope);
        else platform::wake_all(count, scope);
    }
    return ok();
}

// ------------------------------------------------------------------------------------ event
void event_set(std::atomic<std::uint32_t>& flag, const std::atomic<std::uint32_t>& sleepers,
               WaitScope scope) noexcept {
    // Raise bit 0 and count the raise in bits 1.. (w + 3 from a lowered word), so a sleeper that
    // captured the word before sees it change even if clear() follows at once (the pulse).
    std::uint32_t w = flag.load(std::memory_order_relaxed);  // [event.peek] relaxed: the CAS decides
    for (;;) {
        if ((w & 1u) != 0) {
            // Already up: nothing to publish beyond what the raising set() did... but this set()'s
            // own writes must still be ordered before a waiter's success: a seq_cst RMW that
            // changes nothing does it. [event.set] seq_cst: pairs with [event.wait].
            if (flag.compare_exchange_weak(w, w, std::memory_order_seq_cst, std::memory_order_relaxed)) return;
            continue;
        }
        // [event.set] seq_cst (includes release): pairs with [event.wait]; store half of the
        // [event.sleepers] Dekker pair with event_wait_slow().
        if (flag.compare_exchange_weak(w, w + 3u, std::memory_order_seq_cst, std::memory_order_relaxed)) break;
    }
    if (sleepers.load(std::memory_order_seq_cst) != 0)  // [event.sleepers] seq_cst
        platform::wake_all(flag, scope);
}

Result<void> event_wait_slow(std::atomic<std::uint32_t>& flag, std::atomic<std::uint32_t>& sleepers,
                             Deadline deadline, WaitScope scope) noexcept {
    if (deadline.is_poll()) return Errc::timeout;
    // The word before registering: any set() after this point changes it (count or flag).
    // [event.wait] acquire: pairs with [event.set].
    const std::uint32_t start = flag.load(std::memory_order_acquire);
    if ((start & 1u) != 0) return ok();
    sleepers.fetch_add(1, std::memory_order_seq_cst);  // [event.sleepers] seq_cst: Dekker pair with [event.set]
    Result<void> result = ok();
    // [event.wait] seq_cst (includes acquire): pairs with [event.set]. Done when the flag is up
    // or the set count moved (a set(); clear(); pulse while we slept).
    for (std::uint32_t w = flag.load(std::memory_order_seq_cst); w == start; w = flag.load(std::memory_order_seq_cst)) {
        const Result<void> r = platform::wait(flag, start, deadline, scope);
        if (!r) {
            // [event.wait] acquire: a set() that raced with the deadline still counts.
            if (r.code() != Errc::timeout || flag.load(std::memory_order_acquire) == start) result = r;
            break;
        }
    }
    sleepers.fetch_sub(1, std::memory_order_relaxed);  // [event.sleepers] relaxed: only makes wakes rarer
    return result;
}

// ------------------------------------------------------------------------------------ latch
Result<void> latch_count_down(std::atomic<std::uint32_t>& count, const std::atomic<std::uint32_t>& sleepers,
                              std::uint32_t n, WaitScope scope) noexcept {
    if (n == 0) return ok();
    std::uint32_t c = count.load(std::memory_order_relaxed);  // [latch.peek] relaxed; the CAS publishes
    do {
        if (n > c) return Errc::invalid_argument;
        // [latch.count_down] seq_cst (includes release): pairs with [latch.wait]; store half of the
        // [latch.sleepers] Dekker pair.
    } while (!count.compare_exchange_weak(c, c - n, std::memory_order_seq_cst, std::memory_order_relaxed));
    if (c == n && sleepers.load(std::memory_order_seq_cst) != 0)  // [latch.sleepers] seq_cst
        platform::wake_all(count, scope);
    return ok();
}

Result<void> latch_wait_slow(std::atomic<std::uint32_t>& count, std::atomic<std::uint32_t>& sleepers,
                             Deadline deadline, WaitScope scope) noexcept {
    if (deadline.is_poll()) return Errc::timeout;
    sleepers.fetch_add(1, std::memory_order_seq_cst);  // [latch.sleepers] seq_cst: Dekker pair
    Result<void> result = ok();
    for (;;) {
        // [latch.wait] seq_cst (includes acquire): pairs with [latch.count_down].
        const std::uint32_t c = count.load(std::memory_order_seq_cst);
        if (c == 0) break;
        const Result<void> r = platform::wait(count, c, deadline, scope);
        if (!r) {
            // [latch.wait] acquire: a count_down() that raced with the deadline still counts.
            if (r.code() != Errc::timeout || count.load(std::memory_order_acquire) != 0) result = r;
            break;
        }
    }
    sleepers.fetch_sub(1, std::memory_order_relaxed);  // [latch.sleepers] relaxed: only makes wakes rarer
    return result;
}

}  // namespace staticrt::detail
