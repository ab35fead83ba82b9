// SPDX-License-Identifier: MIT
// Win32 "PI" words: Windows has no priority inheritance. The same word protocol (0 free, owner
// id, kPiWaiters when threads sleep) runs over platform::wait/wake_one, so PiMutex excludes,
// times out and checks ownership exactly as on Linux, but a waiter does not boost the owner and
// owner death is not detected (a word left by a dead thread stays locked: lock() times out).
#include "staticrt/platform/pi_futex.hpp"

namespace staticrt::platform {

bool pi_supported() noexcept { return false; }

Result<void> pi_lock_slow(std::atomic<std::uint32_t>& word, Deadline deadline, WaitScope scope) noexcept {
    const std::uint32_t me = pi_owner_id();
    for (;;) {
        std::uint32_t v = word.load(std::memory_order_relaxed);  // [pi.peek] relaxed: re-checked by the CAS
        if ((v & kPiOwnerMask) == me) return unexpected(Errc::would_block);
        if ((v & kPiOwnerMask) == 0) {
            // Taken after contention: keep kPiWaiters so our unlock wakes the others (a spare wake
            // at worst). [pi.lock] acquire: pairs with the previous owner's [pi.unlock] release.
            if (word.compare_exchange_weak(v, me | kPiWaiters, std::memory_order_acquire, std::memory_order_relaxed))
                return ok();
            continue;
        }
        if ((v & kPiWaiters) == 0) {
            // [pi.flag] relaxed: only announces a sleeper; the wait below re-checks the word.
            if (!word.compare_exchange_weak(v, v | kPiWaiters, std::memory_order_relaxed, std::memory_order_relaxed))
                continue;
            v |= kPiWaiters;
        }
        const Result<void> r = wait(word, v, deadline, scope);
        if (!r && r.code() == Errc::timeout) {
            // The word may have been released just at the deadline: one last try.
            std::uint32_t w = word.load(std::memory_order_relaxed);
            if ((w & kPiOwnerMask) == 0 &&
                word.compare_exchange_strong(w, me | kPiWaiters, std::memory_order_acquire, std::memory_order_relaxed))
                return ok();
            return unexpected(Errc::timeout);
        }
        if (!r) return r;
    }
}

Result<void> pi_unlock_slow(std::atomic<std::uint32_t>& word, WaitScope scope) noexcept {
    const std::uint32_t me = pi_owner_id();
    const std::uint32_t v = word.load(std::memory_order_relaxed);  // [pi.peek] relaxed
    if ((v & kPiOwnerMask) != me) return unexpected(Errc::not_owner);
    // [pi.unlock] release: publishes the critical section to the next [pi.lock] acquire.
    const std::uint32_t prev = word.exchange(0, std::memory_order_release);
    if ((prev & kPiWaiters) != 0) wake_one(word, scope);
    return ok();
}

}  // namespace staticrt::platform
