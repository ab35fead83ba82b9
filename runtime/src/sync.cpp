// SPDX-License-Identifier: MIT
// The non-template parts of the synchronisation primitives: the mutex's contended paths and the
// count errors. Semaphore, Event and Latch are header templates on the waiting layer
// (staticrt/sync/sleep_word.hpp).
// Every atomic names its order and its partner; docs/memory-ordering.md (## sync) has the
// longer arguments.
#include <atomic>
#include <cstdint>

#include "staticrt/platform/arch.hpp"
#include "staticrt/platform/wait.hpp"
#include "staticrt/sync/barrier.hpp"
#include "staticrt/sync/count.hpp"
#include "staticrt/sync/mutex.hpp"

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

}  // namespace staticrt::detail
