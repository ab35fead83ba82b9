// SPDX-License-Identifier: MIT
// PiMutex stress: four threads, mixed lock paths (blocking, deadline, try), two mutexes taken in a
// fixed order and released in the reverse or the same order: counts exact, nothing left locked.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "staticrt/sync/pi_mutex.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::test::scaled;

TEST(PiMutexStress, FourThreadsTwoMutexesMixedPaths_CountsExact) {
    staticrt::test::Watchdog wd{300s, "PiMutex stress"};
    staticrt::PiMutex a, b;
    std::uint64_t ca = 0, cab = 0;
    const long long per = scaled(200'000, 2000);
    std::thread ts[4];
    for (int k = 0; k < 4; ++k)
        ts[k] = std::thread([&, k] {
            for (long long i = 0; i < per; ++i) {
                switch ((i + k) % 4) {
                    case 0: a.lock(); break;
                    case 1: while (!a.lock(Deadline::after(10ms))) {} break;
                    case 2: while (!a.try_lock()) std::this_thread::yield(); break;
                    default: while (!a.lock(Deadline::poll())) {} break;
                }
                ++ca;
                if ((i & 3) == 0) {
                    b.lock();
                    ++cab;
                    if ((i & 4) == 0) { a.unlock(); b.unlock(); continue; }  // out of order
                    b.unlock();
                }
                a.unlock();
            }
        });
    for (auto& t : ts) t.join();
    EXPECT_EQ(ca, static_cast<std::uint64_t>(4 * per));
    std::uint64_t expect_ab = 0;
    for (long long i = 0; i < per; ++i) expect_ab += (i & 3) == 0 ? 1 : 0;
    EXPECT_EQ(cab, 4 * expect_ab);
    EXPECT_FALSE(a.is_locked());
    EXPECT_FALSE(b.is_locked());
    EXPECT_FALSE(a.has_waiters());
}
