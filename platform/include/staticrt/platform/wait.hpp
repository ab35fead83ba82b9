// SPDX-License-Identifier: MIT
// staticrt/platform/wait.hpp — wait-on-address: park until a 32-bit word changes.
//
// wait() blocks while `word` still holds `expected`, until woken, until the deadline, or
// spuriously: callers always re-check their condition in a loop. wake_one()/wake_all()
// wake threads parked on the same word. Linux: futex (FUTEX_PRIVATE_FLAG for
// Scope::process_private). Windows: WaitOnAddress within a process; process_shared words inside
// a SharedMemory segment park on a per-thread named event found through a session-wide table
// keyed by (segment, offset), so the word may sit at different addresses in each process;
// process_shared words outside any segment use WaitOnAddress with rounds capped at 1..64 ms
// (see docs/platform.md, "Windows").
//
// Memory ordering: wait() compares `word` against `expected` atomically with going to sleep
// (no lost wake-up when the waker changes the word and then calls wake_*). The wait itself
// imposes no ordering: callers load the word with acquire after wait() returns.
//
//   while (flag.load(std::memory_order_acquire) == 0) (void)platform::wait(flag, 0, Deadline::never());
#pragma once

#include <atomic>
#include <cstdint>

#include "staticrt/platform/result.hpp"
#include "staticrt/platform/time.hpp"

namespace staticrt::platform {

/// Who may wait and wake on a word.
enum class WaitScope : std::uint8_t {
    process_private,  ///< threads of one process (faster; the default)
    process_shared,   ///< threads of several processes mapping the same memory
};

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "wait-on-address needs a lock-free 32-bit atomic with the size of uint32_t");

/// Blocks while word == expected. Returns:
///  - success: woken, or the word differed, or a spurious wake-up (re-check!);
///  - Errc::timeout: the deadline passed (Deadline::poll() returns timeout at once when equal);
///  - Errc::exhausted: Windows, process_shared: every slot of the parking table is taken
///    (1280 threads of the session parked at once);
///  - Errc::not_supported: process_shared where the platform cannot (see docs).
[[nodiscard]] Result<void> wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected, Deadline deadline,
                                WaitScope scope = WaitScope::process_private) noexcept;

/// Wakes at most one thread parked on `word`.
void wake_one(const std::atomic<std::uint32_t>& word, WaitScope scope = WaitScope::process_private) noexcept;

/// Wakes every thread parked on `word`.
void wake_all(const std::atomic<std::uint32_t>& word, WaitScope scope = WaitScope::process_private) noexcept;

/// Threads parked on `word` now: a snapshot, for tests (a test waits for it before waking, so
/// the wake path is what it tests) and diagnostics. Linux: the futex's waiters, counted by a
/// FUTEX_CMP_REQUEUE of the word onto itself (wakes none). Windows: process_shared words inside a
/// SharedMemory segment (waiting slots of the parking table); Errc::not_supported for words
/// waited on with WaitOnAddress (no observer).
[[nodiscard]] Result<std::uint32_t> parked_on(const std::atomic<std::uint32_t>& word,
                                              WaitScope scope = WaitScope::process_private) noexcept;

}  // namespace staticrt::platform
