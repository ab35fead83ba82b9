// SPDX-License-Identifier: MIT
// staticrt/platform/pi_futex.hpp — priority-inheritance lock words (Linux PI futexes).
//
// A PI word is a 32-bit atomic holding 0 (free) or the owner's id (pi_owner_id()) plus two
// flag bits that the kernel may set: kPiWaiters (threads are blocked in the kernel: the owner's
// unlock must go through pi_unlock_slow) and kPiOwnerDied (the previous owner died holding it).
// The fast paths are one CAS in the caller (0 -> own id to lock, own id -> 0 to unlock); only
// contention enters the kernel. The word holds no pointer: it may live in shared memory.
//
// Linux: FUTEX_LOCK_PI2 (absolute CLOCK_MONOTONIC deadline; kernels before 5.14 and emulators
// without it fall back to FUTEX_LOCK_PI with the deadline converted to CLOCK_REALTIME once),
// FUTEX_TRYLOCK_PI and FUTEX_UNLOCK_PI. While a thread waits, the owner runs at the waiter's
// priority if that is higher, transitively along chains of PI words (the kernel's rt_mutex).
// Owner death: when the owner exits while threads wait, the kernel hands the word to a waiter
// with kPiOwnerDied set; when nobody waited, the next locker finds the owner's id gone (ESRCH)
// and takes the word over; both report Errc::owner_died with the lock held. A dead owner's id
// that the OS has already reused for a new thread is not detected (the glibc robust list is
// glibc's own; see docs/realtime.md).
// Windows: there is no priority inheritance. The same word protocol runs over wait-on-address
// (pi_supported() is false): mutual exclusion, deadlines and ownership checks are the same,
// a waiter does not boost the owner, and owner death is not detected.
//
// Memory ordering: a successful lock is an acquire of the word, unlock a release ([pi.lock] /
// [pi.unlock]; the kernel paths are full barriers).
#pragma once

#include <atomic>
#include <cstdint>

#include "staticrt/platform/result.hpp"
#include "staticrt/platform/thread.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"

namespace staticrt::platform {

inline constexpr std::uint32_t kPiWaiters = 0x8000'0000U;    ///< FUTEX_WAITERS
inline constexpr std::uint32_t kPiOwnerDied = 0x4000'0000U;  ///< FUTEX_OWNER_DIED
inline constexpr std::uint32_t kPiOwnerMask = 0x3fff'ffffU;  ///< FUTEX_TID_MASK

/// True where waiters boost the owner (Linux); false on Windows (a plain lock word).
[[nodiscard]] bool pi_supported() noexcept;

/// The id the calling thread stores in a PI word (Linux tid / Windows thread id; never 0).
[[nodiscard]] inline std::uint32_t pi_owner_id() noexcept {
    return static_cast<std::uint32_t>(current_thread_id()) & kPiOwnerMask;
}

/// Contended lock: blocks (boosting the owner) until the word is the caller's, or the deadline.
/// ok: held. Errc::owner_died: held, the previous owner died holding it. Errc::timeout: still
/// owned by another thread at the deadline (Deadline::poll() tries once). Errc::would_block: the
/// caller already owns it. Errc::not_supported: the kernel/emulator has no PI futexes.
/// Errc::os_error: the kernel refused the word (e.g. EINVAL: the word holds an id that is not a
/// thread, i.e. corrupted shared memory).
[[nodiscard]] Result<void> pi_lock_slow(std::atomic<std::uint32_t>& word, Deadline deadline,
                                        WaitScope scope = WaitScope::process_private) noexcept;

/// Unlock when the fast CAS (own id -> 0) failed because flag bits are set: hands the word to the
/// highest-priority waiter and ends the caller's boost. Errc::not_owner when the caller does not
/// own the word (nothing changes).
[[nodiscard]] Result<void> pi_unlock_slow(std::atomic<std::uint32_t>& word,
                                          WaitScope scope = WaitScope::process_private) noexcept;

}  // namespace staticrt::platform
