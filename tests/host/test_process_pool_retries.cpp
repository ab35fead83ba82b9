// SPDX-License-Identifier: MIT
// ProcessPool retries, deterministically: a pool function stalls forever on its first call (a flag
// in a shared segment says "stall once"); the test waits until the worker reports it is stalled
// inside the chunk, kills it, and then requires exactly what max_retries promises:
//   max_retries 0: that chunk (and only it) is reported failed, nothing is retried;
//   max_retries 2: the chunk is retried once on the replacement worker and every item is done.
// No sleep decides the outcome: the kill lands while the chunk is provably in flight.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <new>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "ipc_test_support.hpp"
#include "staticrt/ipc/process_pool.hpp"
#include "staticrt/platform/shared_memory.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::platform::WaitScope;
using staticrt::ipc::ProcessPoolOptions;
using staticrt::ipc::ProcessPool;
namespace platform = staticrt::platform;
namespace test = staticrt::test;

namespace {

struct StallBoard {
    std::atomic<std::uint32_t> armed;    // 1: the next call stalls (and disarms)
    std::atomic<std::uint32_t> stalled;  // 1: a worker is stalled inside a call
};

std::string stall_name(long long pid) { return "staticrt-t" + std::to_string(pid) + "-stall"; }

// Runs in a worker process; the board belongs to the worker's parent (the test process).
long long stall_once_triple(long long x) noexcept {
    static platform::SharedMemory board_mem;
    static const bool opened =
        static_cast<bool>(board_mem.open(stall_name(staticrt::ipc::Process::parent_pid()).c_str()));
    if (!opened) return -1;
    auto* b = static_cast<StallBoard*>(board_mem.data());
    std::uint32_t one = 1;
    // acq_rel: pairs with the test's release store of `armed`; only one call ever stalls.
    if (b->armed.compare_exchange_strong(one, 0, std::memory_order_acq_rel)) {
        b->stalled.store(1, std::memory_order_release);  // pairs with the test's acquire wait
        platform::wake_all(b->stalled, WaitScope::process_shared);
        for (;;) platform::sleep_for(1s);  // until killed
    }
    return 3 * x;
}

struct Board {
    platform::SharedMemory mem;
    StallBoard* b = nullptr;
    Board() {
        const auto name = stall_name(::getpid());
        if (!mem.create(name.c_str(), sizeof(StallBoard))) return;
        b = new (mem.data()) StallBoard{};
        b->stalled.store(0, std::memory_order_relaxed);
        b->armed.store(1, std::memory_order_release);  // pairs with the worker's acq_rel exchange
    }
    ~Board() { (void)platform::SharedMemory::unlink(stall_name(::getpid()).c_str()); }
    // Waits until a worker is stalled inside a call.
    bool wait_stalled() {
        const auto d = Deadline::after(30s);
        while (b->stalled.load(std::memory_order_acquire) == 0) {
            if (d.expired()) return false;
            (void)platform::wait(b->stalled, 0, d, WaitScope::process_shared);
        }
        return true;
    }
};

}  // namespace

// What every test shares: the board, a one-worker pool, and a thread that kills the worker once
// a call is provably stalled inside it.
class ProcessPoolRetries : public ::testing::Test {
protected:
    test::Watchdog wd{120s};
    Board board;
    ProcessPool<1> pool;
    std::atomic<bool> killed{false};

    // Starts the pool (`chunk` 0: the pool's own choice).
    void start(std::uint32_t max_retries, std::size_t chunk = 0) {
        ASSERT_NE(board.b, nullptr);
        ProcessPoolOptions o;
        o.chunk = chunk;
        o.max_retries = max_retries;
        o.liveness_interval = 5ms;
        ASSERT_TRUE(pool.start(o));
    }
    // Runs call() while the killer waits for the stall and kills the worker; `killed` says
    // whether it did.
    template <class Call>
    auto with_kill(Call&& call) {
        std::thread killer([&] {
            if (board.wait_stalled() && test::sigkill_worker(pool, 0)) killed = true;
        });
        auto r = call();
        killer.join();
        return r;
    }
    // map() over 0..399 with the killer; `in`, `out` and `ok` keep the items and results.
    auto map_with_kill() {
        std::iota(in.begin(), in.end(), 0);
        return with_kill([&] {
            return pool.map("stall_once_triple", std::span<const long long>(in), std::span<long long>(out),
                            std::span<bool>(ok));
        });
    }
    std::vector<long long> in = std::vector<long long>(400);
    std::vector<long long> out = std::vector<long long>(400, -1);
    bool ok[400] = {};
};

STATICRT_TEST_POOL_FN("stall_once_triple", &stall_once_triple);

TEST_F(ProcessPoolRetries, Map_NoRetries_KilledChunkFailsAloneNothingRetried) {
    ASSERT_NO_FATAL_FAILURE(start(0, 100));
    auto r = map_with_kill();
    ASSERT_TRUE(killed.load());
    ASSERT_TRUE(r) << staticrt::to_string(r.code());
    EXPECT_EQ(r->failed, 100u);  // the chunk in flight, not retried
    EXPECT_EQ(r->completed, 300u);
    EXPECT_EQ(r->retried_chunks, 0u);
    EXPECT_GE(r->worker_restarts, 1u);
    std::size_t failed = 0, first_failed = in.size();
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (ok[i]) {
            ASSERT_EQ(out[i], 3 * in[i]) << i;
        } else {
            if (failed++ == 0) first_failed = i;
        }
    }
    EXPECT_EQ(failed, 100u);
    EXPECT_EQ(first_failed % 100, 0u);  // one whole chunk
    for (std::size_t i = first_failed; i < first_failed + 100 && i < in.size(); ++i) EXPECT_FALSE(ok[i]) << i;
    EXPECT_EQ(pool.live_workers(), 1u);
}

TEST_F(ProcessPoolRetries, Map_TwoRetries_KilledChunkRetriedOnceEveryItemDone) {
    ASSERT_NO_FATAL_FAILURE(start(2, 100));
    auto r = map_with_kill();
    ASSERT_TRUE(killed.load());
    ASSERT_TRUE(r) << staticrt::to_string(r.code());
    EXPECT_EQ(r->failed, 0u);
    EXPECT_EQ(r->completed, 400u);
    EXPECT_EQ(r->retried_chunks, 1u);
    EXPECT_GE(r->worker_restarts, 1u);
    for (std::size_t i = 0; i < in.size(); ++i) {
        ASSERT_TRUE(ok[i]) << i;
        ASSERT_EQ(out[i], 3 * in[i]) << i;
    }
    EXPECT_EQ(pool.live_workers(), 1u);
}

TEST_F(ProcessPoolRetries, Submit_NoRetries_KilledCallReportsProcessDied) {
    ASSERT_NO_FATAL_FAILURE(start(0));
    auto f = pool.submit<long long>("stall_once_triple", 5LL);
    ASSERT_TRUE(f);
    auto v = with_kill([&] { return f->get(Deadline::after(60s)); });
    ASSERT_TRUE(killed.load());
    EXPECT_EQ(v.code(), Errc::process_died);
    // The replacement worker answers the next call.
    EXPECT_EQ(pool.apply<long long>("stall_once_triple", 7LL).value_or(-1), 21);
    EXPECT_EQ(pool.live_workers(), 1u);
}

TEST_F(ProcessPoolRetries, Submit_TwoRetries_KilledCallAnsweredByTheReplacement) {
    ASSERT_NO_FATAL_FAILURE(start(2));
    auto f = pool.submit<long long>("stall_once_triple", 5LL);
    ASSERT_TRUE(f);
    auto v = with_kill([&] { return f->get(Deadline::after(60s)); });
    ASSERT_TRUE(killed.load());
    ASSERT_TRUE(v) << staticrt::to_string(v.code());
    EXPECT_EQ(*v, 15);
}
