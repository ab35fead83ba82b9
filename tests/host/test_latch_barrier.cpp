// SPDX-License-Identifier: MIT
// Unit tests for staticrt::BasicLatch and BasicBarrier.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <set>
#include <thread>
#include <vector>

#include "staticrt/sync/barrier.hpp"
#include "staticrt/sync/latch.hpp"
#include "eventually.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Barrier;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::Latch;
using staticrt::Result;

TEST(Latch, CountDown_ToZero_ReleasesWaiters) {
    staticrt::test::Watchdog wd{10s};
    Latch l{3};
    EXPECT_FALSE(l.try_wait());
    EXPECT_EQ(l.wait(Deadline::poll()).code(), Errc::timeout);
    std::atomic<int> passed{0};
    std::thread t([&] { if (l.wait()) ++passed; });
    EXPECT_TRUE(l.count_down());
    EXPECT_TRUE(l.count_down(2));
    t.join();
    EXPECT_EQ(passed.load(), 1);
    EXPECT_TRUE(l.try_wait());
    EXPECT_TRUE(l.wait(Deadline::poll()));
}

TEST(Latch, CountDown_BeyondRemaining_ReturnsInvalidArgument) {
    Latch l{2};
    EXPECT_EQ(l.count_down(3).code(), Errc::invalid_argument);
    EXPECT_EQ(l.count(), 2u);
    EXPECT_TRUE(l.count_down(2));
    EXPECT_EQ(l.count_down().code(), Errc::invalid_argument);
    EXPECT_TRUE(l.count_down(0));
}

TEST(Latch, Wait_WhenNotZero_TimesOut) {
    Latch l{1};
    EXPECT_EQ(l.wait(Deadline::after(10ms)).code(), Errc::timeout);
    EXPECT_EQ(l.wait_for(1ms).code(), Errc::timeout);
}

TEST(Latch, ArriveAndWait_AllThreads_Pass) {
    staticrt::test::Watchdog wd{10s};
    Latch l{4};
    std::atomic<int> passed{0};
    std::thread ts[4];
    for (auto& t : ts) t = std::thread([&] { if (l.arrive_and_wait()) ++passed; });
    for (auto& t : ts) t.join();
    EXPECT_EQ(passed.load(), 4);
}

TEST(Latch, Init_NegativeOrTooLarge_ReturnsInvalidArgumentAndChangesNothing) {
    Latch l;  // count 0: already open
    EXPECT_TRUE(l.try_wait());
    EXPECT_EQ(l.init(-1).code(), Errc::invalid_argument);
    EXPECT_EQ(l.init(std::int64_t{staticrt::SyncCount::kMax} + 1).code(), Errc::invalid_argument);
    EXPECT_EQ(l.count(), 0u);
    const int user_value = 2;
    ASSERT_TRUE(l.init(user_value));
    EXPECT_EQ(l.count(), 2u);
    EXPECT_FALSE(l.try_wait());
    EXPECT_TRUE(l.count_down(2));
    EXPECT_TRUE(l.wait(Deadline::poll()));
}

TEST(Latch, CountDownToZero_WakesParkedWaiter) {
    staticrt::test::Watchdog wd{10s};
    Latch l;
    ASSERT_TRUE(l.init(1));
    Errc got = Errc::closed;
    std::thread t([&] { got = l.wait(Deadline::after(10s)).code(); });
    ASSERT_TRUE(staticrt::test::eventually([&] { return l.sleepers() == 1; }));  // parked: the wake path runs
    EXPECT_TRUE(l.count_down());
    t.join();
    EXPECT_EQ(got, Errc::ok);
    EXPECT_EQ(l.sleepers(), 0u);
}

TEST(Barrier, DefaultConstructed_WaitReturnsInvalidArgument) {
    Barrier b;
    EXPECT_EQ(b.parties(), 0u);
    EXPECT_EQ(b.wait(Deadline::poll()).code(), Errc::invalid_argument);
    EXPECT_EQ(b.wait().code(), Errc::invalid_argument);  // never blocks
    EXPECT_FALSE(b.broken());
}

TEST(Barrier, Init_ZeroNegativeOrTooLarge_ReturnsInvalidArgumentAndChangesNothing) {
    Barrier b;
    EXPECT_EQ(b.init(0).code(), Errc::invalid_argument);
    EXPECT_EQ(b.init(-4).code(), Errc::invalid_argument);
    EXPECT_EQ(b.init(std::int64_t{staticrt::SyncCount::kMax} + 1).code(), Errc::invalid_argument);
    EXPECT_EQ(b.parties(), 0u);
    Barrier c{3};
    EXPECT_EQ(c.init(-1).code(), Errc::invalid_argument);
    EXPECT_EQ(c.parties(), 3u);
}

TEST(Barrier, Init_RunTimeParties_WorksLikeConstructed) {
    staticrt::test::Watchdog wd{20s};
    Barrier b;
    int actions = 0;
    const int user_parties = 2;
    ASSERT_TRUE(b.init(user_parties,
                       [](void* ctx) -> Result<void> {
                           ++*static_cast<int*>(ctx);
                           return staticrt::ok();
                       },
                       &actions));
    EXPECT_EQ(b.parties(), 2u);
    std::uint32_t ia = 99, ib = 99;
    std::thread t([&] { ia = b.wait(Deadline::after(10s)).value_or(99u); });
    ib = b.wait(Deadline::after(10s)).value_or(99u);
    t.join();
    EXPECT_EQ(ia + ib, 1u);  // indices 0 and 1
    EXPECT_EQ(actions, 1);
}

TEST(Barrier, Wait_ReturnsDistinctIndicesAndRunsActionOnce) {
    staticrt::test::Watchdog wd{20s};
    static std::atomic<int> actions{0};
    Barrier b{4, [](void*) -> Result<void> {
                  ++actions;
                  return staticrt::ok();
              }};
    EXPECT_EQ(b.parties(), 4u);
    constexpr int kRounds = 50;
    std::atomic<int> index_sum{0};
    std::atomic<int> errors{0};
    std::thread ts[4];
    for (auto& t : ts)
        t = std::thread([&] {
            for (int r = 0; r < kRounds; ++r) {
                auto i = b.wait();
                if (!i) ++errors;
                else index_sum += static_cast<int>(*i);
            }
        });
    for (auto& t : ts) t.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(index_sum.load(), kRounds * (0 + 1 + 2 + 3));
    EXPECT_EQ(actions.load(), kRounds);
    EXPECT_FALSE(b.broken());
    EXPECT_EQ(b.n_waiting(), 0u);
}

TEST(Barrier, Wait_WhenDeadlinePasses_TimesOutAndBreaksForOthers) {
    staticrt::test::Watchdog wd{20s};
    Barrier b{3};
    Errc other = Errc::ok;
    std::thread t([&] { other = b.wait().code(); });
    while (b.n_waiting() != 1) std::this_thread::yield();
    EXPECT_EQ(b.wait(Deadline::after(10ms)).code(), Errc::timeout);
    t.join();
    EXPECT_EQ(other, Errc::broken);
    EXPECT_TRUE(b.broken());
    EXPECT_EQ(b.wait(Deadline::poll()).code(), Errc::broken);
    b.reset();
    EXPECT_FALSE(b.broken());
    Barrier one{1};
    auto i = one.wait(Deadline::poll());
    ASSERT_TRUE(i);
    EXPECT_EQ(*i, 0u);
}

TEST(Barrier, Abort_BreaksWaiters) {
    staticrt::test::Watchdog wd{20s};
    Barrier b{2};
    Errc code = Errc::ok;
    std::thread t([&] { code = b.wait().code(); });
    while (b.n_waiting() != 1) std::this_thread::yield();
    b.abort();
    t.join();
    EXPECT_EQ(code, Errc::broken);
    EXPECT_EQ(b.wait().code(), Errc::broken);
}

TEST(Barrier, Reset_WhileWaiting_BreaksWaitersThenWorksAgain) {
    staticrt::test::Watchdog wd{20s};
    Barrier b{2};
    Errc code = Errc::ok;
    std::thread t([&] { code = b.wait().code(); });
    while (b.n_waiting() != 1) std::this_thread::yield();
    b.reset();
    t.join();
    EXPECT_EQ(code, Errc::broken);
    EXPECT_FALSE(b.broken());
    std::thread u([&] { EXPECT_TRUE(b.wait(Deadline::after(10s))); });
    EXPECT_TRUE(b.wait(Deadline::after(10s)));
    u.join();
}

TEST(Barrier, Action_WhenFailing_BreaksBarrierAndReportsError) {
    staticrt::test::Watchdog wd{20s};
    Barrier b{2, [](void*) -> Result<void> { return unexpected(Errc::exhausted); }};
    Errc a = Errc::ok, c = Errc::ok;
    std::thread t([&] { a = b.wait().code(); });
    c = b.wait().code();
    t.join();
    // one of them ran the action and gets its error; the other is told the barrier broke
    EXPECT_TRUE((a == Errc::exhausted && c == Errc::broken) || (a == Errc::broken && c == Errc::exhausted));
    EXPECT_TRUE(b.broken());
}

TEST(Barrier, Action_ReceivesContext) {
    int calls = 0;
    Barrier b{1, [](void* ctx) -> Result<void> {
                  ++*static_cast<int*>(ctx);
                  return staticrt::ok();
              },
              &calls};
    EXPECT_TRUE(b.wait());
    EXPECT_TRUE(b.wait());
    EXPECT_EQ(calls, 2);
}
