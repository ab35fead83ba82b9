// SPDX-License-Identifier: MIT
// staticrt/sync/sleep_word.hpp — detail::SleepWord: the state Semaphore, Event and Latch share.
//
// A 32-bit word that threads park on (platform::wait) and a count of the threads registered to
// sleep on it, so that the waking side calls platform::wake_* only when someone sleeps. The
// handshake (register, re-check, park; change the word, then wake if registered) is written once,
// in runtime/src/sync.cpp (detail::park_until, detail::wake_sleepers), with one ordering argument:
// [sleep.register] in docs/memory-ordering.md (## sync). No pointers: it may live in shared memory.
#pragma once

#include <atomic>
#include <cstdint>

#include "staticrt/platform/wait.hpp"

namespace staticrt::detail {

struct SleepWord {
    constexpr SleepWord() noexcept = default;
    constexpr explicit SleepWord(std::uint32_t initial) noexcept : word(initial) {}
    SleepWord(const SleepWord&) = delete;
    SleepWord& operator=(const SleepWord&) = delete;

    /// Threads registered to sleep (a snapshot, for tests and diagnostics).
    [[nodiscard]] std::uint32_t sleeping() const noexcept {
        return sleepers.load(std::memory_order_relaxed);  // [sleep.peek] relaxed snapshot
    }

    std::atomic<std::uint32_t> word{0};      ///< the primitive's state; what sleepers wait on
    std::atomic<std::uint32_t> sleepers{0};  ///< threads between registering and leaving a slow wait
};

}  // namespace staticrt::detail
