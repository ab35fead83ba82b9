// SPDX-License-Identifier: MIT
// ThreadPool and futures: zero heap allocations after start() — submit, map, parallel_for,
// wait_idle, futures, shutdown.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <span>

#include "counting_alloc.hpp"
#include "staticrt/exec/future.hpp"
#include "staticrt/exec/thread_pool.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;

namespace {

staticrt::ThreadPool<2, 256, staticrt::kDefaultPoolStackBytes, 64, 256> g_pool;
int g_in[4096];
long g_out[4096];
std::atomic<long> g_sum{0};

TEST(NoHeapPool, SubmitMapWaitShutdown_AfterStart_AllocateNothing) {
    staticrt::test::Watchdog wd{60s};
    ASSERT_TRUE(g_pool.start({}));
    for (int i = 0; i < 4096; ++i) g_in[i] = i;
    // Warm up (first use of each path) outside the counted region is not needed: nothing allocates.
    staticrt::test::AllocationCounter counter;
    for (int round = 0; round < 50; ++round) {
        auto f = g_pool.submit([](int a, int b) { return a + b; }, round, 1);
        ASSERT_TRUE(f);
        auto v = f->get();
        ASSERT_TRUE(v);
        EXPECT_EQ(*v, round + 1);
        auto t = g_pool.try_submit([] { return 2; });
        ASSERT_TRUE(t);
        EXPECT_TRUE(t->wait(Deadline::after(10s)));
        t->reset();
        auto u = g_pool.submit(Deadline::after(10s), []() -> staticrt::Result<long> { return 3L; });
        ASSERT_TRUE(u);
        EXPECT_EQ(*u->get(), 3L);
        ASSERT_TRUE(g_pool.submit_detached([] { g_sum.fetch_add(1); }));
        ASSERT_TRUE(g_pool.map([](int x) { return static_cast<long>(x) * x; }, std::span<const int>(g_in),
                               std::span<long>(g_out)));
        ASSERT_TRUE(g_pool.parallel_for(0, 4096, [](std::size_t i) { g_out[i] += 1; }, 64));
        ASSERT_TRUE(g_pool.wait_idle(Deadline::after(10s)));
    }
    auto pending = g_pool.submit([] { return 5; });
    ASSERT_TRUE(pending);
    (void)g_pool.stats(0);
    ASSERT_TRUE(g_pool.shutdown(staticrt::ShutdownMode::cancel));
    (void)pending->get();
    EXPECT_EQ(g_pool.submit([] { return 1; }).code(), Errc::closed);
    EXPECT_EQ(counter.count(), 0u);
    EXPECT_EQ(g_sum.load(), 50);
    EXPECT_EQ(g_out[4095], 4095L * 4095 + 1);
}

staticrt::ThreadPool<2, 64, staticrt::kDefaultPoolStackBytes, 64, 64> g_timed_pool;
staticrt::TaskLatency g_latency[2];
staticrt::TaskLatencySnapshot g_latency_snap;
std::atomic<long> g_timed_runs{0};

TEST(NoHeapPool, TaskLatencyAndIdleStats_AfterStart_AllocateNothing) {
    staticrt::test::Watchdog wd{60s};
    staticrt::ThreadPoolOptions o;
    o.task_latency = g_latency;
    o.task_latency_count = 2;
    ASSERT_TRUE(g_timed_pool.start(o));
    staticrt::test::AllocationCounter counter;
    for (int round = 0; round < 20; ++round) {
        for (int i = 0; i < 32; ++i) ASSERT_TRUE(g_timed_pool.submit_detached([] { g_timed_runs.fetch_add(1); }));
        auto f = g_timed_pool.submit([](int a) { return a; }, round);
        ASSERT_TRUE(f);
        EXPECT_EQ(*f->get(), round);
        ASSERT_TRUE(g_timed_pool.wait_idle(Deadline::after(10s)));
        ASSERT_TRUE(g_timed_pool.task_latency(g_latency_snap));
        const auto s0 = g_timed_pool.stats(0);  // spin/sleep counters and the thread CPU clock
        const auto s1 = g_timed_pool.stats(1);
        EXPECT_EQ(g_latency_snap.run.count(), s0.tasks_run + s1.tasks_run);
    }
    ASSERT_TRUE(g_timed_pool.shutdown());
    EXPECT_EQ(counter.count(), 0u);
    EXPECT_EQ(g_latency_snap.queue_wait.count(), 20u * 33u);
    EXPECT_EQ(g_timed_runs.load(), 20 * 32);
}

TEST(NoHeapPool, ResultSlots_MakeSetGet_AllocateNothing) {
    static staticrt::ResultSlots<8> slots;
    staticrt::test::AllocationCounter counter;
    for (int i = 0; i < 100; ++i) {
        auto pf = slots.make<int>();
        ASSERT_TRUE(pf);
        (void)pf->promise.set_value(i);
        EXPECT_EQ(*pf->future.get(), i);
    }
    EXPECT_EQ(counter.count(), 0u);
}

}  // namespace
