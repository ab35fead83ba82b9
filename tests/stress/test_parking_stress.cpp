// SPDX-License-Identifier: MIT
// Parking stress: ping-pong where each side blocks in pop(Deadline::never()) just as the other
// pushes one item, so notifies race the waiter's registration as often as possible. There is
// no timed backstop in Parking any more: a lost wake-up hangs a round and the watchdog fails
// the test. Covers the heavy/light barrier path (process_private) and the fence path
// (process_shared scope, used here within one process).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <new>
#include <thread>

#include "staticrt/queue/mpmc_queue.hpp"
#include "staticrt/queue/spsc_queue.hpp"
#include "watchdog.hpp"

using staticrt::Deadline;
using staticrt::WaitScope;

namespace {

/// `rounds` round trips: main pushes i into `there`, the echo thread pops it and pushes it back
/// into `back`, main pops it. Checks every value comes back in order.
template <class Q>
void ping_pong(long long rounds) {
    staticrt::test::Watchdog wd{std::chrono::seconds(240), "parking ping-pong"};
    static Q there, back;
    there.~Q();
    ::new (&there) Q();
    back.~Q();
    ::new (&back) Q();
    std::thread echo([&] {
        for (long long i = 0; i < rounds; ++i) {
            auto v = there.pop(Deadline::never());
            ASSERT_TRUE(v);
            ASSERT_TRUE(back.push(*v, Deadline::never()));
        }
    });
    long long bad = 0;
    for (long long i = 0; i < rounds; ++i) {
        ASSERT_TRUE(there.push(static_cast<std::uint64_t>(i), Deadline::never()));
        auto v = back.pop(Deadline::never());
        ASSERT_TRUE(v);
        if (*v != static_cast<std::uint64_t>(i)) ++bad;
    }
    echo.join();
    EXPECT_EQ(bad, 0);
}

long long rounds() {
#if defined(__SANITIZE_THREAD__)
    return staticrt::test::scaled(5000, 100);
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
    return staticrt::test::scaled(5000, 100);
#else
    return staticrt::test::scaled(200000, 1000);
#endif
#else
    return staticrt::test::scaled(200000, 1000);
#endif
}

}  // namespace

TEST(ParkingStress, SpscPingPong_NoLostWakeup) {
    ping_pong<staticrt::SpscQueue<std::uint64_t, 4>>(rounds());
}

TEST(ParkingStress, MpmcPingPong_NoLostWakeup) {
    ping_pong<staticrt::MpmcQueue<std::uint64_t, 4>>(rounds());
}

TEST(ParkingStress, SpscPingPongProcessSharedScope_NoLostWakeup) {
    ping_pong<staticrt::SpscQueue<std::uint64_t, 4, WaitScope::process_shared>>(rounds() / 4 + 1);
}

TEST(ParkingStress, MpmcPingPongProcessSharedScope_NoLostWakeup) {
    ping_pong<staticrt::MpmcQueue<std::uint64_t, 4, WaitScope::process_shared>>(rounds() / 4 + 1);
}
