// SPDX-License-Identifier: MIT
// The paths added for Python parity allocate nothing after start(): result()/done()/failed()/
// error(), SharedFuture copies and waits, map_checked / parallel_for_checked, map with a
// deadline, check_stalls, shutdown with a deadline and shutdown_nowait, JoinableQueue's
// placement-counted push.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <span>

#include "counting_alloc.hpp"
#include "staticrt/exec/future.hpp"
#include "staticrt/exec/thread_pool.hpp"
#include "staticrt/queue/joinable_queue.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::Error;
using staticrt::Result;

namespace {

staticrt::ThreadPool<2, 256, staticrt::kDefaultPoolStackBytes, 64, 256> g_pool;
staticrt::ThreadPool<1, 16, staticrt::kDefaultPoolStackBytes, 64, 16> g_pool2;
int g_in[1024];
long g_out[1024];
Error g_err[1024];

TEST(NoHeapFuturesParity, ObserversSharedCheckedDeadlinesShutdown_AllocateNothing) {
    staticrt::test::Watchdog wd{60s};
    staticrt::ThreadPoolOptions o;
    o.stall_timeout_ns = 1'000'000'000;
    ASSERT_TRUE(g_pool.start(o));
    ASSERT_TRUE(g_pool2.start({}));
    for (int i = 0; i < 1024; ++i) g_in[i] = i;
    staticrt::test::AllocationCounter counter;
    for (int round = 0; round < 20; ++round) {
        auto f = g_pool.submit([]() -> Result<int> { return staticrt::task_error(3); });
        ASSERT_TRUE(f);
        EXPECT_EQ(f->result().code(), Errc::task_failed);
        EXPECT_TRUE(f->done());
        EXPECT_TRUE(f->failed());
        EXPECT_FALSE(f->cancelled());
        EXPECT_EQ(f->error().code, Errc::task_failed);
        auto g = g_pool.submit([] { return 8; });
        ASSERT_TRUE(g);
        staticrt::SharedFuture<int> s = g->share();
        staticrt::SharedFuture<int> s2 = s;
        EXPECT_EQ(*s.result(), 8);
        EXPECT_EQ(*s2.result(), 8);
        auto r = g_pool.map_checked([](int x) -> Result<long> { return x % 2 ? Result<long>(staticrt::task_error(1)) : Result<long>(long{x}); },
                                    std::span<const int>(g_in), std::span<long>(g_out), std::span<Error>(g_err));
        ASSERT_TRUE(r);
        EXPECT_EQ(r->failed, 512u);
        auto p = g_pool.parallel_for_checked(0, 1024, [](std::size_t) -> Result<void> { return staticrt::ok(); },
                                             std::span<Error>(), Deadline::after(10s));
        ASSERT_TRUE(p);
        EXPECT_EQ(g_pool.map([](int x) { return static_cast<long>(x); }, std::span<const int>(g_in),
                             std::span<long>(g_out), 0, Deadline::poll())
                      .code(),
                  Errc::timeout);
        (void)g_pool.check_stalls();
        ASSERT_TRUE(g_pool.wait_idle(Deadline::after(10s)));
    }
    staticrt::JoinableQueue<int, 1> q;
    ASSERT_TRUE(q.push(1));
    EXPECT_EQ(q.push(2, Deadline::poll()).code(), Errc::timeout);
    EXPECT_TRUE(q.task_done());
    EXPECT_TRUE(q.join(Deadline::poll()));
    g_pool2.shutdown_nowait();
    ASSERT_TRUE(g_pool2.shutdown(staticrt::ShutdownMode::drain, Deadline::after(10s)));
    ASSERT_TRUE(g_pool.shutdown(staticrt::ShutdownMode::drain, Deadline::after(10s)));
    EXPECT_EQ(counter.count(), 0u);
}

}  // namespace
