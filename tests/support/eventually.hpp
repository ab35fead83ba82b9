// SPDX-License-Identifier: MIT
// eventually.hpp — wait for observable state instead of sleeping "long enough".
//
//   std::thread t([&] { got = sem.acquire(); });
//   ASSERT_TRUE(staticrt::test::eventually([&] { return sem.sleepers() == 1; }));  // it is parked
//   sem.release();                                                                 // the wake path
//
// Polls `pred` (yielding) until it holds or `limit` passes; false means the state never came.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "staticrt/platform/wait.hpp"

namespace staticrt::test {

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::yield();
    }
    return true;
}

/// Waits until more than `above` threads are parked on the raw word `w` (platform::parked_on),
/// so the wake that follows tests the wake path, not the re-check of a word that changed before
/// its waiter parked. Returns the count, Errc::timeout when it never came, or parked_on's error
/// (Errc::not_supported: Windows words waited on with WaitOnAddress have no observer).
inline Result<std::uint32_t> await_parked(const std::atomic<std::uint32_t>& w, std::uint32_t above,
                                          platform::WaitScope scope = platform::WaitScope::process_private,
                                          std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    for (;;) {
        auto n = platform::parked_on(w, scope);
        if (!n || *n > above) return n;
        if (std::chrono::steady_clock::now() > end) return unexpected(Errc::timeout);
        std::this_thread::yield();
    }
}

}  // namespace staticrt::test
