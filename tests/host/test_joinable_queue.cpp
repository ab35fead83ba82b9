// SPDX-License-Identifier: MIT
// JoinableQueue: task_done()/join() like Python's queue.Queue.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "staticrt/queue/joinable_queue.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;

TEST(JoinableQueue, Join_WhenNothingPut_ReturnsAtOnce) {
    staticrt::JoinableQueue<int, 4> q;
    EXPECT_TRUE(q.join(Deadline::poll()));
}

TEST(JoinableQueue, TaskDone_MoreThanItems_IsOverRelease) {
    staticrt::JoinableQueue<int, 4> q;
    EXPECT_EQ(q.task_done().code(), Errc::over_release);
    ASSERT_TRUE(q.push(1));
    EXPECT_EQ(*q.pop(), 1);
    EXPECT_TRUE(q.task_done());
    EXPECT_EQ(q.task_done().code(), Errc::over_release);
}

TEST(JoinableQueue, Join_WithUnfinishedItem_TimesOut) {
    staticrt::test::Watchdog wd{10s};
    staticrt::JoinableQueue<int, 4> q;
    ASSERT_TRUE(q.push(1));
    EXPECT_EQ(q.join(Deadline::poll()).code(), Errc::timeout);
    EXPECT_EQ(*q.pop(), 1);
    EXPECT_EQ(q.join(Deadline::after(10ms)).code(), Errc::timeout);  // taken, not done
    EXPECT_EQ(q.unfinished(), 1u);
    EXPECT_TRUE(q.task_done());
    EXPECT_TRUE(q.join(Deadline::poll()));
}

TEST(JoinableQueue, FailedPush_DoesNotCountAsUnfinished) {
    staticrt::JoinableQueue<int, 1> q;
    ASSERT_TRUE(q.try_push(1));
    EXPECT_FALSE(q.try_push(2));
    EXPECT_EQ(q.push(2, Deadline::poll()).code(), Errc::timeout);
    EXPECT_EQ(q.unfinished(), 1u);
    q.close();
    EXPECT_EQ(q.push(3).code(), Errc::closed);
    EXPECT_EQ(q.unfinished(), 1u);
}

TEST(JoinableQueue, Join_WorkersFinishEverything_ReturnsAfterLastTaskDone) {
    staticrt::test::Watchdog wd{30s};
    staticrt::JoinableQueue<int, 8> q;
    std::atomic<int> processed{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < 3; ++w)
        workers.emplace_back([&] {
            for (;;) {
                auto r = q.pop();
                if (!r) break;
                processed.fetch_add(1, std::memory_order_relaxed);
                EXPECT_TRUE(q.task_done());
            }
        });
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(q.push(i));
    ASSERT_TRUE(q.join());
    EXPECT_EQ(processed.load(), 1000);  // join() happens-after every task_done()
    q.close();
    for (auto& t : workers) t.join();
}
