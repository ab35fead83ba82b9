// SPDX-License-Identifier: MIT
// Unit tests for staticrt::BasicEvent (Event, ProcessEvent).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "staticrt/sync/event.hpp"
#include "eventually.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::Event;

namespace {
constinit Event g_ready;
}

TEST(Event, SetClear_ChangeIsSet) {
    Event e;
    EXPECT_FALSE(e.is_set());
    e.set();
    EXPECT_TRUE(e.is_set());
    e.set();  // idempotent
    EXPECT_TRUE(e.wait(Deadline::poll()));
    e.clear();
    EXPECT_FALSE(e.is_set());
    Event up{true};
    EXPECT_TRUE(up.is_set());
}

TEST(Event, Wait_WhenNotSet_TimesOut) {
    Event e;
    EXPECT_EQ(e.wait(Deadline::poll()).code(), Errc::timeout);
    EXPECT_EQ(e.wait(Deadline::after(10ms)).code(), Errc::timeout);
    EXPECT_EQ(e.wait_for(2ms).code(), Errc::timeout);
    EXPECT_EQ(e.wait_until(std::chrono::steady_clock::now() + 2ms).code(), Errc::timeout);
}

TEST(Event, Set_WakesEveryWaiterAndPublishesData) {
    staticrt::test::Watchdog wd{10s};
    int data = 0;
    std::atomic<int> ok{0};
    std::thread ts[4];
    for (auto& t : ts)
        t = std::thread([&] {
            if (g_ready.wait(Deadline::after(10s)) && data == 42) ++ok;
        });
    ASSERT_TRUE(staticrt::test::eventually([] { return g_ready.sleepers() == 4; }));  // all parked: set() must wake each
    data = 42;
    g_ready.set();
    for (auto& t : ts) t.join();
    EXPECT_EQ(ok.load(), 4);
}
