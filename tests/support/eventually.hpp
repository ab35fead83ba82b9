// SPDX-License-Identifier: MIT
// eventually.hpp — wait for observable state instead of sleeping "long enough".
//
//   std::thread t([&] { got = sem.acquire(); });
//   ASSERT_TRUE(staticrt::test::eventually([&] { return sem.sleepers() == 1; }));  // it is parked
//   sem.release();                                                                 // the wake path
//
// Polls `pred` (yielding) until it holds or `limit` passes; false means the state never came.
#pragma once

#include <chrono>
#include <thread>

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

}  // namespace staticrt::test
