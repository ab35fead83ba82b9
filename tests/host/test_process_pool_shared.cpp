// SPDX-License-Identifier: MIT
// ProcessPool: map_shared() over spans that live in a SharedSegment (no copy; workers map the
// segment by name), and submit() -> PoolFuture (async single calls in fixed slots).
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "ipc_test_support.hpp"
#include "staticrt/ipc/process_pool.hpp"
#include "staticrt/ipc/shared_segment.hpp"
#include "eventually.hpp"
#include "proc_stat.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::ipc::PoolFuture;
using staticrt::ipc::ProcessPoolOptions;
using staticrt::ipc::ProcessPool;
using staticrt::ipc::SharedSegment;
using staticrt::ipc::StartMethod;
namespace test = staticrt::test;

namespace {
long long shm_square(long long x) noexcept { return x * x; }
// ~50 us per item so that a kill lands inside a chunk.
long long shm_slow_plus_one(long long x) noexcept {
    test::busy_for_ns(50'000);
    return x + 1;
}
// Sleeps x milliseconds, returns x.
long long shm_sleep_ms(long long x) noexcept {
    staticrt::platform::sleep_for(std::chrono::milliseconds(x));
    return x;
}
// Raises the flag in the test process's "callflag" segment, then sleeps x ms.
struct StartFlag {
    std::atomic<int> started{0};
};
long long shm_flag_sleep_ms(long long x) noexcept {
    char name[64];
    std::snprintf(name, sizeof name, "staticrt-t%ld-callflag", static_cast<long>(::getppid()));
    staticrt::ipc::SharedSegment<StartFlag> flag;
    if (flag.open(name, Deadline::after(5s))) flag->started.store(1);
    staticrt::platform::sleep_for(std::chrono::milliseconds(x));
    return x;
}
struct Pair {
    int a, b;
};
long long shm_sum_pair(Pair p) noexcept { return static_cast<long long>(p.a) + p.b; }

constexpr std::size_t kItems = 100'000;
struct Data {
    long long in[kItems];
    long long out[kItems];
};

void fill(Data& d) {
    for (std::size_t i = 0; i < kItems; ++i) {
        d.in[i] = static_cast<long long>(i);
        d.out[i] = -1;
    }
}

}  // namespace

STATICRT_TEST_POOL_FN("shm_square", &shm_square);
STATICRT_TEST_POOL_FN("shm_slow_plus_one", &shm_slow_plus_one);
STATICRT_TEST_POOL_FN("shm_sleep_ms", &shm_sleep_ms);
STATICRT_TEST_POOL_FN("shm_sum_pair", &shm_sum_pair);
STATICRT_TEST_POOL_FN("shm_flag_sleep_ms", &shm_flag_sleep_ms);

// ------------------------------------------------------------------------------ map_shared
TEST(ProcessPoolShared, MapShared_SpawnWorkers_ResultsInPlace) {
    test::Watchdog wd{60s};
    ProcessPool<3> pool;
    ASSERT_TRUE(pool.start());
    const auto name = test::shm_name("map-spawn");
    SharedSegment<Data> seg;
    ASSERT_TRUE(seg.create(name.c_str()));
    fill(*seg);
    bool ok[kItems] = {};
    auto r = pool.map_shared("shm_square", seg, std::span<const long long>(seg->in), std::span<long long>(seg->out),
                             std::span<bool>(ok));
    ASSERT_TRUE(r) << staticrt::to_string(r.code());
    EXPECT_EQ(r->completed, kItems);
    EXPECT_EQ(r->failed, 0u);
    for (std::size_t i = 0; i < kItems; ++i) {
        ASSERT_TRUE(ok[i]) << i;
        ASSERT_EQ(seg->out[i], seg->in[i] * seg->in[i]) << i;
    }
    // A second map over part of the same segment (workers keep the mapping).
    for (std::size_t i = 0; i < 1000; ++i) seg->out[i] = -1;
    r = pool.map_shared("shm_square", seg, std::span<const long long>(seg->in + 10, 990),
                        std::span<long long>(seg->out + 10, 990));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->completed, 990u);
    EXPECT_EQ(seg->out[9], -1);
    EXPECT_EQ(seg->out[10], 100);
    EXPECT_EQ(seg->out[999], 999LL * 999);
    EXPECT_EQ(seg->out[1000], 1000LL * 1000);  // from the first map
    pool.shutdown();
}

TEST(ProcessPoolShared, MapShared_ForkWorkersSegmentCreatedLater_ResultsInPlace) {
    test::Watchdog wd{60s};
    ProcessPool<2> pool;
    ProcessPoolOptions o;
    o.start_method = StartMethod::fork;
    o.chunk = 777;
    ASSERT_TRUE(pool.start(o));
    const auto name = test::shm_name("map-fork");
    SharedSegment<Data> seg;
    ASSERT_TRUE(seg.create(name.c_str()));
    fill(*seg);
    auto r = pool.map_shared("shm_square", seg, std::span<const long long>(seg->in), std::span<long long>(seg->out));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->completed, kItems);
    for (std::size_t i = 0; i < kItems; ++i) ASSERT_EQ(seg->out[i], seg->in[i] * seg->in[i]) << i;
}

TEST(ProcessPoolShared, MapShared_InputAndOutputSameSpan_InPlaceUpdate) {
    test::Watchdog wd{60s};
    ProcessPool<2> pool;
    ASSERT_TRUE(pool.start());
    const auto name = test::shm_name("map-same");
    SharedSegment<Data> seg;
    ASSERT_TRUE(seg.create(name.c_str()));
    fill(*seg);
    auto r = pool.map_shared("shm_square", seg, std::span<const long long>(seg->in), std::span<long long>(seg->in));
    ASSERT_TRUE(r);
    for (std::size_t i = 0; i < kItems; ++i) ASSERT_EQ(seg->in[i], static_cast<long long>(i * i)) << i;
}

TEST(ProcessPoolShared, MapShared_SegmentRecreatedUnderSameName_WorkersMapTheNewOne) {
    test::Watchdog wd{60s};
    ProcessPool<2> pool;
    ASSERT_TRUE(pool.start());
    const auto name = test::shm_name("map-again");
    for (int round = 0; round < 3; ++round) {
        SharedSegment<Data> seg;
        ASSERT_TRUE(seg.create(name.c_str()));
        fill(*seg);
        seg->in[5] = 1000 + round;
        auto r = pool.map_shared("shm_square", seg, std::span<const long long>(seg->in), std::span<long long>(seg->out));
        ASSERT_TRUE(r);
        EXPECT_EQ(r->completed, kItems);
        EXPECT_EQ(seg->out[5], (1000LL + round) * (1000 + round)) << round;
        EXPECT_EQ(seg->out[kItems - 1], static_cast<long long>((kItems - 1) * (kItems - 1)));
    }
}

TEST(ProcessPoolShared, MapShared_BadArguments_InvalidArgument) {
    test::Watchdog wd{60s};
    ProcessPool<1> pool;
    const auto name = test::shm_name("map-bad");
    SharedSegment<Data> seg;
    ASSERT_TRUE(seg.create(name.c_str()));
    std::vector<long long> outside(10);
    const std::span<const long long> in(seg->in, 10);
    const std::span<long long> out(seg->out, 10);
    EXPECT_EQ(pool.map_shared("shm_square", seg, in, out).code(), Errc::invalid_argument);  // not started
    ASSERT_TRUE(pool.start());
    EXPECT_EQ(pool.map_shared("shm_square", seg, in, std::span<long long>(outside)).code(), Errc::invalid_argument);
    EXPECT_EQ(pool.map_shared("shm_square", seg, std::span<const long long>(outside), out).code(),
              Errc::invalid_argument);
    EXPECT_EQ(pool.map_shared("shm_square", seg, in, std::span<long long>(seg->out, 9)).code(), Errc::invalid_argument);
    EXPECT_EQ(pool.map_shared("nope", seg, in, out).code(), Errc::invalid_argument);
    // The last element may end exactly at the end of the segment, not beyond.
    EXPECT_TRUE(pool.map_shared("shm_square", seg, std::span<const long long>(seg->out + kItems - 1, 1),
                                std::span<long long>(seg->out + kItems - 1, 1)));
    SharedSegment<Data> closed;
    EXPECT_EQ(pool.map_shared("shm_square", closed, in, out).code(), Errc::invalid_argument);
    auto r = pool.map_shared("shm_square", seg, std::span<const long long>(), std::span<long long>());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->completed, 0u);
}

TEST(ProcessPoolShared, MapShared_WorkerKilledMidMap_ReplacedAndChunkRetried) {
    test::Watchdog wd{60s};
    ProcessPool<2> pool;
    ProcessPoolOptions o;
    o.chunk = 20;
    o.liveness_interval = 5ms;
    ASSERT_TRUE(pool.start(o));
    const auto name = test::shm_name("map-kill");
    SharedSegment<Data> seg;
    ASSERT_TRUE(seg.create(name.c_str()));
    fill(*seg);
    constexpr std::size_t n = 2000;
    bool ok[n] = {};
    std::atomic<bool> killed{false};
    std::thread killer = test::kill_later(pool, 0, 5ms, killed);
    auto r = pool.map_shared("shm_slow_plus_one", seg, std::span<const long long>(seg->in, n),
                             std::span<long long>(seg->out, n), std::span<bool>(ok));
    killer.join();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->completed, n);
    EXPECT_EQ(r->failed, 0u);
    ASSERT_TRUE(killed.load());
    EXPECT_GE(r->worker_restarts, 1u);
    for (std::size_t i = 0; i < n; ++i) {
        ASSERT_TRUE(ok[i]) << i;
        ASSERT_EQ(seg->out[i], seg->in[i] + 1) << i;
    }
    EXPECT_EQ(seg->out[n], -1);  // beyond the span: untouched
    EXPECT_EQ(pool.live_workers(), 2u);
}

TEST(ProcessPoolShared, MapShared_NoRetries_KilledChunkReportedFailedRestUntouchedOrDone) {
    test::Watchdog wd{60s};
    ProcessPool<1> pool;
    ProcessPoolOptions o;
    o.chunk = 100;
    o.max_retries = 0;
    o.liveness_interval = 5ms;
    ASSERT_TRUE(pool.start(o));
    const auto name = test::shm_name("map-kill0");
    SharedSegment<Data> seg;
    ASSERT_TRUE(seg.create(name.c_str()));
    fill(*seg);
    constexpr std::size_t n = 400;
    bool ok[n] = {};
    std::atomic<bool> killed{false};
    std::thread killer([&] {
        // Kill once the worker has written the first item of chunk 0: that chunk is in flight.
        const auto d = Deadline::after(20s);
        while (std::atomic_ref<long long>(seg->out[0]).load() == -1 && !d.expired()) std::this_thread::yield();
        if (test::sigkill_worker(pool, 0)) killed = true;
    });
    auto r = pool.map_shared("shm_slow_plus_one", seg, std::span<const long long>(seg->in, n),
                             std::span<long long>(seg->out, n), std::span<bool>(ok));
    killer.join();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->completed + r->failed, n);
    std::size_t failed = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (ok[i]) ASSERT_EQ(seg->out[i], seg->in[i] + 1) << i;
        else ++failed;
    }
    EXPECT_EQ(failed, r->failed);
    ASSERT_TRUE(killed.load());
    EXPECT_EQ(r->retried_chunks, 0u);  // no retries: a killed chunk is never given again
    EXPECT_EQ(failed % 100, 0u);       // whole chunks (exactly one: test_process_pool_retries.cpp)
    EXPECT_EQ(pool.live_workers(), 1u);
}

// ------------------------------------------------------------------------------ submit
TEST(ProcessPoolSubmit, Submit_Get_ReturnsResult) {
    test::Watchdog wd{60s};
    ProcessPool<2> pool;
    ASSERT_TRUE(pool.start());
    auto f = pool.submit<long long>("shm_square", 12LL);
    ASSERT_TRUE(f);
    EXPECT_TRUE(f->valid());
    auto v = f->get(Deadline::after(20s));
    ASSERT_TRUE(v) << staticrt::to_string(v.code());
    EXPECT_EQ(*v, 144);
    EXPECT_FALSE(f->valid());
    EXPECT_EQ(f->get(Deadline::poll()).code(), Errc::invalid_argument);  // consumed
    auto p = pool.submit<long long>("shm_sum_pair", Pair{40, 2});
    ASSERT_TRUE(p);
    EXPECT_EQ(p->get().value_or(-1), 42);
    auto a = pool.apply<long long>("shm_square", 7LL);
    ASSERT_TRUE(a);
    EXPECT_EQ(*a, 49);
}

TEST(ProcessPoolSubmit, Submit_ManyInFlight_AllResultsReadyEventually) {
    test::Watchdog wd{60s};
    ProcessPool<2> pool;
    ProcessPoolOptions o;
    o.start_method = StartMethod::fork;
    ASSERT_TRUE(pool.start(o));
    for (int round = 0; round < 20; ++round) {
        PoolFuture<long long> fs[staticrt::ipc::kMaxPoolCalls];
        for (std::size_t i = 0; i < staticrt::ipc::kMaxPoolCalls; ++i) {
            auto f = pool.submit<long long>("shm_square", static_cast<long long>(i + round));
            ASSERT_TRUE(f) << i;
            fs[i] = std::move(*f);
        }
        for (std::size_t i = 0; i < staticrt::ipc::kMaxPoolCalls; ++i) {
            const long long x = static_cast<long long>(i + round);
            ASSERT_EQ(fs[i].get(Deadline::after(20s)).value_or(-1), x * x) << i;
        }
    }
}

TEST(ProcessPoolSubmit, Submit_AllSlotsHeld_ExhaustedUntilOneIsFreed) {
    test::Watchdog wd{60s};
    ProcessPool<1> pool;
    ASSERT_TRUE(pool.start());
    PoolFuture<long long> fs[staticrt::ipc::kMaxPoolCalls];
    for (auto& f : fs) {
        auto r = pool.submit<long long>("shm_square", 3LL);
        ASSERT_TRUE(r);
        f = std::move(*r);
    }
    EXPECT_EQ(pool.submit<long long>("shm_square", 3LL).code(), Errc::exhausted);
    ASSERT_EQ(fs[5].get(Deadline::after(20s)).value_or(-1), 9);  // get() frees its slot
    auto again = pool.submit<long long>("shm_square", 4LL);
    ASSERT_TRUE(again);
    EXPECT_EQ(pool.submit<long long>("shm_square", 3LL).code(), Errc::exhausted);
    fs[6].reset();  // a reset handle frees its slot too (once its call ended)
    for (auto& f : fs) (void)f.wait(Deadline::after(20s));
    auto third = pool.submit<long long>("shm_square", 5LL);
    ASSERT_TRUE(third);
    EXPECT_EQ(again->get(Deadline::after(20s)).value_or(-1), 16);
    EXPECT_EQ(third->get(Deadline::after(20s)).value_or(-1), 25);
}

TEST(ProcessPoolSubmit, Get_BeforeDone_TimeoutThenResult) {
    test::Watchdog wd{60s};
    ProcessPool<1> pool;
    ASSERT_TRUE(pool.start());
    auto f = pool.submit<long long>("shm_sleep_ms", 300LL);
    ASSERT_TRUE(f);
    EXPECT_FALSE(f->ready());
    EXPECT_EQ(f->get(Deadline::after(10ms)).code(), Errc::timeout);
    EXPECT_TRUE(f->valid());  // a timed-out get keeps the handle
    EXPECT_EQ(f->get_for(20s).value_or(-1), 300);
}

TEST(ProcessPoolSubmit, Ready_AfterCompletion_True) {
    test::Watchdog wd{60s};
    ProcessPool<1> pool;
    ASSERT_TRUE(pool.start());
    auto f = pool.submit<long long>("shm_square", 5LL);
    ASSERT_TRUE(f);
    ASSERT_TRUE(f->wait(Deadline::after(20s)));
    EXPECT_TRUE(f->ready());
    EXPECT_EQ(f->get(Deadline::poll()).value_or(-1), 25);
    EXPECT_FALSE(f->ready());  // consumed
}

TEST(ProcessPoolSubmit, Submit_BadArguments_InvalidArgument) {
    test::Watchdog wd{60s};
    ProcessPool<1> pool;
    EXPECT_EQ(pool.submit<long long>("shm_square", 1LL).code(), Errc::invalid_argument);  // not started
    ASSERT_TRUE(pool.start());
    EXPECT_EQ(pool.submit<long long>("nope", 1LL).code(), Errc::invalid_argument);
    PoolFuture<long long> empty;
    EXPECT_FALSE(empty.valid());
    EXPECT_FALSE(empty.ready());
    EXPECT_EQ(empty.get(Deadline::poll()).code(), Errc::invalid_argument);
}

TEST(ProcessPoolSubmit, WorkerKilledDuringCall_RetriedOnReplacement) {
    test::Watchdog wd{60s};
    ProcessPool<1> pool;
    ProcessPoolOptions o;
    o.liveness_interval = 5ms;
    ASSERT_TRUE(pool.start(o));
    auto f = pool.submit<long long>("shm_sleep_ms", 200LL);
    ASSERT_TRUE(f);
    std::atomic<bool> killed{false};
    std::thread killer = test::kill_later(pool, 0, 50ms, killed);
    auto v = f->get(Deadline::after(20s));
    killer.join();
    ASSERT_TRUE(v) << staticrt::to_string(v.code());
    EXPECT_EQ(*v, 200);
    EXPECT_EQ(pool.live_workers(), 1u);
}

TEST(ProcessPoolSubmit, WorkerKilledDuringCall_NoRetries_ProcessDied) {
    test::Watchdog wd{60s};
    ProcessPool<1> pool;
    ProcessPoolOptions o;
    o.max_retries = 0;
    o.liveness_interval = 5ms;
    ASSERT_TRUE(pool.start(o));
    const auto flag_name = test::shm_name("callflag");
    SharedSegment<StartFlag> flag;
    ASSERT_TRUE(flag.create(flag_name.c_str()));
    auto f = pool.submit<long long>("shm_flag_sleep_ms", 2000LL);
    ASSERT_TRUE(f);
    // Wait until the worker runs the call (it raises the flag, then sleeps), then kill it.
    const auto t0 = staticrt::Instant::now().ns();
    const auto d = Deadline::after(20s);
    while (flag->started.load() == 0 && !d.expired()) std::this_thread::sleep_for(1ms);
    ASSERT_EQ(flag->started.load(), 1);
    ASSERT_EQ(::kill(static_cast<pid_t>(pool.worker_pid(0)), SIGKILL), 0);
    auto v = f->get(Deadline::after(20s));
    EXPECT_EQ(v.code(), Errc::process_died);
    EXPECT_LT(staticrt::Instant::now().ns() - t0, 1'900'000'000);  // not the call's 2 s: it died
    EXPECT_FALSE(f->valid());
    // The slot is recycled and the replacement worker serves new calls.
    EXPECT_EQ(pool.apply<long long>("shm_square", 9LL).value_or(-1), 81);
    EXPECT_EQ(pool.live_workers(), 1u);
}

TEST(ProcessPoolSubmit, SubmitDuringMap_BothComplete) {
    test::Watchdog wd{60s};
    ProcessPool<2> pool;
    ASSERT_TRUE(pool.start());
    auto f = pool.submit<long long>("shm_square", 11LL);
    ASSERT_TRUE(f);
    std::vector<long long> in(5000), out(5000);
    for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<long long>(i);
    auto r = pool.map("shm_square", std::span<const long long>(in), std::span<long long>(out));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->completed, in.size());
    EXPECT_EQ(out[4999], 4999LL * 4999);
    EXPECT_EQ(f->get(Deadline::after(20s)).value_or(-1), 121);
}

TEST(ProcessPoolSubmit, WorkerKilledWhileIdle_ReplacedByNextSubmitAndMap) {
    test::Watchdog wd{60s};
    ProcessPool<2> pool;
    ProcessPoolOptions o;
    o.liveness_interval = 5ms;
    ASSERT_TRUE(pool.start(o));
    for (std::size_t victim = 0; victim < 2; ++victim) {
        while (pool.worker_pid(victim) == 0) std::this_thread::sleep_for(1ms);
        const auto old_pid = pool.worker_pid(victim);
        ASSERT_EQ(::kill(static_cast<pid_t>(old_pid), SIGKILL), 0);
        ASSERT_TRUE(test::eventually([&] { return !test::running(static_cast<long>(old_pid)); }));  // dead (or a zombie)
        std::this_thread::sleep_for(10ms);  // a duration the pool measures: its last liveness look is now old
        if (victim == 0) {
            EXPECT_EQ(pool.apply<long long>("shm_square", 3LL).value_or(-1), 9);  // a call that never waits 5 ms
        } else {
            long long in[4] = {1, 2, 3, 4}, out[4] = {};
            auto r = pool.map("shm_square", std::span<const long long>(in), std::span<long long>(out));
            ASSERT_TRUE(r);
            EXPECT_EQ(r->worker_restarts, 1u);
            EXPECT_EQ(out[3], 16);
        }
        EXPECT_EQ(pool.live_workers(), 2u) << "victim " << victim;
        const auto d = Deadline::after(10s);
        while (pool.worker_pid(victim) == 0 && !d.expired()) std::this_thread::sleep_for(1ms);
        EXPECT_NE(pool.worker_pid(victim), old_pid);
    }
}
