// SPDX-License-Identifier: MIT
// staticrt/ipc/detail/shared_wait.hpp — a process-shared wait-on-address that degrades to a
// short sleep where the platform cannot park across processes. Linux (shared futex) and Win32
// (per-thread kernel events through a session parking table, docs/platform.md) both park; the
// fallback is for a platform whose platform::wait returns Errc::not_supported for
// WaitScope::process_shared.
// Callers loop and re-check, so a return is always allowed to be spurious.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"

namespace staticrt::detail {

/// The fallback where the platform cannot park across processes: a sleep of at most 1 ms.
/// Errc::timeout at the deadline; otherwise success (the caller re-checks).
[[nodiscard]] inline Result<void> shared_sleep(Deadline deadline) noexcept {
    if (deadline.expired() || deadline.is_poll()) return unexpected(Errc::timeout);
    std::int64_t ns = deadline.remaining_ns();
    if (ns > 1'000'000) ns = 1'000'000;
    platform::sleep_for(std::chrono::nanoseconds(ns));
    return ok();
}

/// platform::wait(process_shared), or a sleep of at most 1 ms when that is not supported.
/// Errc::timeout at the deadline; otherwise success (maybe spurious).
[[nodiscard]] inline Result<void> shared_wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                                              Deadline deadline) noexcept {
    auto r = platform::wait(word, expected, deadline, platform::WaitScope::process_shared);
    if (r.code() != Errc::not_supported) return r;
    // [shared_wait.poll] relaxed: only decides whether to sleep; the caller re-loads with acquire.
    if (word.load(std::memory_order_relaxed) != expected) return ok();
    return shared_sleep(deadline);
}

}  // namespace staticrt::detail
