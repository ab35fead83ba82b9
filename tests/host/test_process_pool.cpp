// SPDX-License-Identifier: MIT
// ProcessPool: map through spawned and forked workers, batches larger than the arena, bad
// arguments, and a worker killed mid-map (replaced; its chunk retried or reported failed).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <numeric>
#include <thread>
#include <vector>

#include "ipc_test_support.hpp"
#include "staticrt/ipc/process_pool.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::ipc::ProcessPoolOptions;
using staticrt::ipc::ProcessPool;
using staticrt::ipc::StartMethod;
namespace test = staticrt::test;

namespace {
long long square(long long x) noexcept { return x * x; }
// ~50 us of work per item so that a kill lands inside a chunk.
long long slow_triple(long long x) noexcept {
    test::busy_for_ns(50'000);
    return 3 * x;
}
}  // namespace

STATICRT_TEST_POOL_FN("square", &square);
STATICRT_TEST_POOL_FN("slow_triple", &slow_triple);

TEST(ProcessPool, MapSquares1To10_Spawn_PythonResult) {
    test::Watchdog wd{60s};
    ProcessPool<4> pool;
    ASSERT_TRUE(pool.start());
    EXPECT_EQ(pool.live_workers(), 4u);
    std::vector<long long> in(10), out(10);
    std::iota(in.begin(), in.end(), 1);
    auto r = pool.map("square", std::span<const long long>(in), std::span<long long>(out));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->completed, 10u);
    EXPECT_EQ(r->failed, 0u);
    EXPECT_EQ(out, (std::vector<long long>{1, 4, 9, 16, 25, 36, 49, 64, 81, 100}));
    auto one = pool.apply<long long>("square", 12LL);
    ASSERT_TRUE(one);
    EXPECT_EQ(*one, 144);
    pool.shutdown();
    EXPECT_EQ(pool.live_workers(), 0u);
}

TEST(ProcessPool, Map_ForkMoreItemsThanArena_AllInBatches) {
    test::Watchdog wd{60s};
    ProcessPool<2, 4096> pool;  // 4 KiB arena: 255 items per batch
    ProcessPoolOptions o;
    o.start_method = StartMethod::fork;
    ASSERT_TRUE(pool.start(o));
    std::vector<long long> in(10000), out(10000, -1);
    std::iota(in.begin(), in.end(), 0);
    auto r = pool.map("square", std::span<const long long>(in), std::span<long long>(out));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->completed, in.size());
    for (std::size_t i = 0; i < in.size(); ++i) ASSERT_EQ(out[i], in[i] * in[i]) << i;
}

TEST(ProcessPool, Map_BadArguments_InvalidArgument) {
    test::Watchdog wd{60s};
    ProcessPool<1> pool;
    std::vector<long long> in(3), out(2);
    EXPECT_EQ(pool.map("square", std::span<const long long>(in), std::span<long long>(in)).code(),
              Errc::invalid_argument);  // not started
    ASSERT_TRUE(pool.start());
    EXPECT_EQ(pool.start().code(), Errc::invalid_argument);
    EXPECT_EQ(pool.map("square", std::span<const long long>(in), std::span<long long>(out)).code(),
              Errc::invalid_argument);
    EXPECT_EQ(pool.map("nope", std::span<const long long>(in), std::span<long long>(in)).code(),
              Errc::invalid_argument);
    auto r = pool.map("square", std::span<const long long>(), std::span<long long>());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->completed, 0u);
}

TEST(ProcessPool, WorkerKilledMidMap_ReplacedAndChunkRetried) {
    test::Watchdog wd{60s};
    ProcessPool<2> pool;
    ProcessPoolOptions o;
    o.chunk = 20;
    ASSERT_TRUE(pool.start(o));
    std::vector<long long> in(2000), out(2000, -1);
    std::iota(in.begin(), in.end(), 0);
    bool ok[2000] = {};
    std::atomic<bool> killed{false};
    std::thread killer = test::kill_later(pool, 0, 5ms, killed);
    auto r = pool.map("slow_triple", std::span<const long long>(in), std::span<long long>(out), std::span<bool>(ok));
    killer.join();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->completed + r->failed, in.size());
    EXPECT_EQ(r->failed, 0u);  // one death, two retries allowed
    ASSERT_TRUE(killed.load());
    EXPECT_GE(r->worker_restarts, 1u);
    std::printf("killed=%d restarts=%zu retried=%zu\n", killed ? 1 : 0, r->worker_restarts, r->retried_chunks);
    for (std::size_t i = 0; i < in.size(); ++i) {
        ASSERT_TRUE(ok[i]) << i;
        ASSERT_EQ(out[i], 3 * in[i]) << i;
    }
    EXPECT_EQ(pool.live_workers(), 2u);
}

TEST(ProcessPool, NoRetries_KilledChunkReportedFailed) {
    test::Watchdog wd{60s};
    ProcessPool<1> pool;
    ProcessPoolOptions o;
    o.chunk = 100;
    o.max_retries = 0;
    ASSERT_TRUE(pool.start(o));
    std::vector<long long> in(400), out(400, -1);
    std::iota(in.begin(), in.end(), 0);
    bool ok[400] = {};
    std::atomic<bool> killed{false};
    std::thread killer = test::kill_later(pool, 0, 2ms, killed);  // inside the first chunk
    auto r = pool.map("slow_triple", std::span<const long long>(in), std::span<long long>(out), std::span<bool>(ok));
    killer.join();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->completed + r->failed, in.size());
    std::size_t failed = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (ok[i]) ASSERT_EQ(out[i], 3 * in[i]) << i;
        else ++failed;
    }
    EXPECT_EQ(failed, r->failed);
    ASSERT_TRUE(killed.load());
    EXPECT_EQ(r->retried_chunks, 0u);  // no retries: a killed chunk is never given again
    EXPECT_EQ(failed % 100, 0u);       // whole chunks fail (the deterministic version: test_process_pool_retries.cpp)
    EXPECT_EQ(pool.live_workers(), 1u);
}
