// SPDX-License-Identifier: MIT
// Unit tests for staticrt::BasicCondition (Condition, ProcessCondition).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>

#include "staticrt/sync/condition.hpp"
#include "staticrt/sync/mutex.hpp"
#include "eventually.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Condition;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::Mutex;

namespace {
constinit Condition g_cond;  // constexpr constructor
}

TEST(Condition, Wait_WithoutLock_ReturnsNotOwner) {
    Mutex m;
    Condition cv;
    EXPECT_EQ(cv.wait(m, Deadline::after(1s)).code(), Errc::not_owner);
    EXPECT_EQ(cv.wait(m, [] { return true; }).code(), Errc::not_owner);
    std::unique_lock lk(m, std::defer_lock);
    EXPECT_EQ(cv.wait(lk).code(), Errc::not_owner);
    EXPECT_FALSE(m.is_locked());
}

TEST(Condition, Wait_WithLockHeldByAnotherThread_ReturnsNotOwner) {
    Mutex m;
    Condition cv;
    m.lock();
    Errc code = Errc::ok;
    std::thread([&] { code = cv.wait(m, Deadline::poll()).code(); }).join();
    EXPECT_EQ(code, Errc::not_owner);
    m.unlock();
}

TEST(Condition, Notify_WithoutLock_ReturnsNotOwner) {
    Mutex m;
    Condition cv;
    EXPECT_EQ(cv.notify_one(m).code(), Errc::not_owner);
    EXPECT_EQ(cv.notify_all(m).code(), Errc::not_owner);
    std::unique_lock lk(m);
    EXPECT_TRUE(cv.notify_one(lk));
    EXPECT_TRUE(cv.notify_all(lk));
    lk.unlock();
    EXPECT_EQ(cv.notify_one(lk).code(), Errc::not_owner);
}

TEST(Condition, Wait_WhenNotNotified_TimesOutHoldingLock) {
    Mutex m;
    Condition cv;
    std::unique_lock lk(m);
    EXPECT_EQ(cv.wait(lk, Deadline::after(10ms)).code(), Errc::timeout);
    EXPECT_TRUE(m.held_by_current_thread());
    EXPECT_EQ(cv.wait_for(lk, 5ms).code(), Errc::timeout);
    EXPECT_EQ(cv.wait_until(lk, std::chrono::steady_clock::now() + 5ms).code(), Errc::timeout);
    EXPECT_EQ(cv.wait_for(lk, 5ms, [] { return false; }).code(), Errc::timeout);
    EXPECT_TRUE(cv.wait_for(lk, 5ms, [] { return true; }));
    EXPECT_EQ(cv.wait(lk, Deadline::poll()).code(), Errc::timeout);
    EXPECT_TRUE(lk.owns_lock());
}

TEST(Condition, NotifyOne_WakesPredicateWaiter) {
    staticrt::test::Watchdog wd{10s};
    Mutex m;
    bool ready = false;
    bool seen = false;
    std::thread t([&] {
        std::unique_lock lk(m);
        ASSERT_TRUE(g_cond.wait(lk, Deadline::after(10s), [&] { return ready; }));
        seen = ready;
    });
    ASSERT_TRUE(staticrt::test::eventually([] { return g_cond.waiting() == 1; }));  // registered: notify_one must wake it
    {
        std::lock_guard lk(m);
        ready = true;
        EXPECT_TRUE(g_cond.notify_one(m));
    }
    t.join();
    EXPECT_TRUE(seen);
}

TEST(Condition, NotifyAll_WakesEveryWaiter) {
    staticrt::test::Watchdog wd{10s};
    Mutex m;
    Condition cv;
    bool go = false;
    int woke = 0;
    std::thread ts[4];
    for (auto& t : ts)
        t = std::thread([&] {
            m.lock();
            (void)cv.wait(m, Deadline::never(), [&] { return go; });
            ++woke;
            m.unlock();
        });
    for (;;) {  // until all four registered
        std::lock_guard lk(m);
        if (cv.waiting() == 4) break;
    }
    {
        std::lock_guard lk(m);
        go = true;
        EXPECT_TRUE(cv.notify_all(m));
    }
    for (auto& t : ts) t.join();
    EXPECT_EQ(woke, 4);
    EXPECT_EQ(cv.waiting(), 0u);
}

// Python's notify(n): n tokens, n wake-ups. If notify(n) woke fewer than n sleepers, a token
// would stay untaken and `taken` would never reach the count below (the waiters sleep without a
// deadline; the watchdog fails the test instead of hanging).
TEST(Condition, NotifyN_WakesNWaitersEachTakingAToken) {
    staticrt::test::Watchdog wd{20s};
    Mutex m;
    Condition cv;
    int tokens = 0;
    int taken = 0;
    std::thread ts[4];
    for (auto& t : ts)
        t = std::thread([&] {
            std::unique_lock lk(m);
            ASSERT_TRUE(cv.wait(lk, [&] { return tokens > 0; }));
            --tokens;
            ++taken;
        });
    const auto registered = [&](std::uint32_t n) {
        return staticrt::test::eventually([&] {
            std::lock_guard lk(m);
            return cv.waiting() == n;
        });
    };
    ASSERT_TRUE(registered(4));
    {
        std::lock_guard lk(m);
        tokens = 2;
        EXPECT_TRUE(cv.notify(m, 2));
    }
    ASSERT_TRUE(staticrt::test::eventually([&] {
        std::lock_guard lk(m);
        return taken == 2;
    }));
    ASSERT_TRUE(registered(2));  // the other two went back to sleep (their predicate is false)
    {
        std::lock_guard lk(m);
        EXPECT_TRUE(cv.notify(m, 0));  // wakes none; nothing to take anyway
        tokens = 2;
        EXPECT_TRUE(cv.notify(m, 5));  // more than are waiting: every waiter
    }
    for (auto& t : ts) t.join();
    EXPECT_EQ(taken, 4);
    EXPECT_EQ(tokens, 0);
    EXPECT_EQ(cv.waiting(), 0u);
}

TEST(Condition, NotifyN_WithoutLock_ReturnsNotOwner) {
    Mutex m;
    Condition cv;
    EXPECT_EQ(cv.notify(m, 3).code(), Errc::not_owner);
    EXPECT_EQ(cv.notify(m).code(), Errc::not_owner);
    std::unique_lock lk(m, std::defer_lock);
    EXPECT_EQ(cv.notify(lk, 0).code(), Errc::not_owner);
    lk.lock();
    EXPECT_TRUE(cv.notify(lk, 3));  // nobody waits: one relaxed load
}

TEST(Condition, PingPong_LosesNoWakeup) {
    staticrt::test::Watchdog wd{30s};
    Mutex m;
    Condition cv;
    int turn = 0;
    constexpr int kRounds = 2000;
    std::thread t([&] {
        for (int i = 0; i < kRounds; ++i) {
            std::unique_lock lk(m);
            ASSERT_TRUE(cv.wait(lk, [&] { return turn == 1; }));
            turn = 0;
            ASSERT_TRUE(cv.notify_one(lk));
        }
    });
    for (int i = 0; i < kRounds; ++i) {
        std::unique_lock lk(m);
        ASSERT_TRUE(cv.wait(lk, [&] { return turn == 0; }));
        turn = 1;
        ASSERT_TRUE(cv.notify_one(lk));
    }
    t.join();
}

// The condition is generic over its lock: the process module's robust ProcessMutex works too.
#include "staticrt/ipc/process_mutex.hpp"

TEST(ProcessCondition, WithProcessMutex_WaitNotifyAndNotOwner) {
    staticrt::test::Watchdog wd{10s};
    staticrt::ipc::ProcessMutex m;
    staticrt::ProcessCondition cv;
    EXPECT_EQ(cv.notify_one(m).code(), Errc::not_owner);
    bool ready = false;
    std::thread t([&] {
        std::unique_lock lk(m);
        EXPECT_TRUE(cv.wait(lk, Deadline::after(10s), [&] { return ready; }));
    });
    ASSERT_TRUE(staticrt::test::eventually([&] { return cv.waiting() == 1; }));
    {
        std::unique_lock lk(m);
        ready = true;
        EXPECT_TRUE(cv.notify_all(lk));
    }
    t.join();
}
