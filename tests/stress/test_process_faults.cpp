// Fault injection: kill -9 pool workers at random moments (200 times, scaled) while maps run;
// every item is computed exactly once into its result or reported failed, and the pool ends
// with all its workers alive. Also: owners that die holding a ProcessMutex, over and over.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <cstdio>
#include <mutex>
#include <numeric>
#include <random>
#include <thread>
#include <vector>

#include "../host/ipc_test_support.hpp"
#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/process_mutex.hpp"
#include "staticrt/ipc/process_pool.hpp"
#include "staticrt/ipc/shared_segment.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::ipc::PoolOptions;
using staticrt::ipc::ProcessPool;
namespace test = staticrt::test;

namespace {
long long busy_plus_seven(long long x) noexcept {
    const auto until = staticrt::Instant::now().ns() + 20'000;
    while (staticrt::Instant::now().ns() < until) {
    }
    return x + 7;
}

struct ChildHook {
    ChildHook() { (void)test::run_child_hook_from_cmdline(); }
};

class NoLeakedSegments : public ::testing::Environment {
public:
    void TearDown() override {
        const auto left = test::leaked_segments(::getpid());
        EXPECT_TRUE(left.empty()) << "leaked shared-memory segment: " << (left.empty() ? "" : left.front());
    }
};
[[maybe_unused]] ::testing::Environment* const g_env = ::testing::AddGlobalTestEnvironment(new NoLeakedSegments);

// True when pid runs (not a zombie that was killed already and waits to be reaped).
bool running(long pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE* f = std::fopen(path, "r");
    if (f == nullptr) return false;
    char buf[512] = {};
    const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    const char* close = std::strrchr(buf, ')');
    return close != nullptr && close[1] == ' ' && close[2] != 'Z';
}

void run_kill_storm(std::uint32_t max_retries) {
    test::Watchdog wd{300s, "kill storm"};
    const long kills_wanted = test::scaled(200, 5);
    const unsigned seed = std::random_device{}();
    std::printf("kill storm: %ld kills, max_retries %u, seed %u\n", kills_wanted, max_retries, seed);
    constexpr std::size_t kWorkers = 4;
    ProcessPool<kWorkers, 1u << 16> pool;
    PoolOptions o;
    o.chunk = 16;
    o.max_retries = max_retries;
    o.liveness_interval = 5ms;
    ASSERT_TRUE(pool.start(o));

    std::atomic<bool> stop{false};
    std::atomic<long> kills{0};
    std::thread killer([&] {
        std::mt19937 rng(seed);
        while (kills.load() < kills_wanted) {
            std::this_thread::sleep_for(std::chrono::microseconds(rng() % 3000));
            const auto pid = pool.worker_pid(rng() % kWorkers);
            if (pid > 0 && running(pid) && ::kill(static_cast<pid_t>(pid), SIGKILL) == 0) kills.fetch_add(1);
        }
        stop = true;
    });

    std::vector<long long> in(3000), out(in.size());
    std::iota(in.begin(), in.end(), 0);
    std::vector<char> ok_bytes(in.size());
    std::size_t maps = 0, failed_items = 0, restarts = 0, retried = 0;
    while (!stop.load()) {
        std::fill(out.begin(), out.end(), -1);
        bool ok[3000];
        auto r = pool.map("busy_plus_seven", std::span<const long long>(in), std::span<long long>(out),
                          std::span<bool>(ok, in.size()));
        ASSERT_TRUE(r) << staticrt::to_string(r.code());
        ASSERT_EQ(r->completed + r->failed, in.size());
        std::size_t failed = 0;
        for (std::size_t i = 0; i < in.size(); ++i) {
            if (ok[i]) ASSERT_EQ(out[i], in[i] + 7) << "item " << i << " map " << maps;
            else ++failed;
        }
        ASSERT_EQ(failed, r->failed);
        if (max_retries >= 1000) {
            ASSERT_EQ(r->failed, 0u);
        }
        failed_items += failed;
        restarts += r->worker_restarts;
        retried += r->retried_chunks;
        ++maps;
    }
    killer.join();
    std::printf("kill storm: %zu maps, %zu worker restarts, %zu chunks retried, %zu items failed\n", maps, restarts,
                retried, failed_items);
    // Let the pool notice the last kills, then every worker must be alive.
    std::vector<long long> one(1, 1), res(1);
    ASSERT_TRUE(pool.map("busy_plus_seven", std::span<const long long>(one), std::span<long long>(res)));
    ASSERT_TRUE(pool.map("busy_plus_seven", std::span<const long long>(one), std::span<long long>(res)));
    EXPECT_GE(restarts + 2, static_cast<std::size_t>(1));
    const auto d = Deadline::after(10s);
    while (pool.live_workers() != kWorkers && !d.expired()) {
        (void)pool.map("busy_plus_seven", std::span<const long long>(one), std::span<long long>(res));
    }
    EXPECT_EQ(pool.live_workers(), kWorkers);
    pool.shutdown();
}

struct Guarded {
    staticrt::ipc::ProcessMutex mutex;
    long long value = 0;
    long long recoveries = 0;
};

int die_holding(void* arg) noexcept {
    auto* g = static_cast<Guarded*>(arg);
    auto r = g->mutex.lock(Deadline::never());
    if (r.code() == Errc::owner_died) {
        ++g->recoveries;
        (void)g->mutex.mark_consistent();
    }
    ++g->value;
    return 0;  // dies holding the lock
}

}  // namespace

STATICRT_TEST_POOL_FN("busy_plus_seven", &busy_plus_seven);
__attribute__((init_priority(65000))) static const ChildHook g_child_hook;

TEST(ProcessFaults, KillStormDuringMap_WithRetries_EveryItemOnceAllWorkersLive) { run_kill_storm(1000); }

TEST(ProcessFaults, KillStormDuringMap_NoRetries_FailuresReportedAllWorkersLive) { run_kill_storm(0); }

TEST(ProcessFaults, OwnersDieHoldingRobustMutex_EachNextLockerRecovers) {
    if (test::kThreadSanitizer) GTEST_SKIP() << "TSan misreports the owner-died recovery of a robust mutex";
    test::Watchdog wd{120s};
    const auto name = test::shm_name("robust-storm");
    staticrt::ipc::SharedSegment<Guarded> seg;
    ASSERT_TRUE(seg.create(name.c_str()));
    const long n = test::scaled(100, 5);
    for (long i = 0; i < n; ++i) {
        staticrt::ipc::Process p;
        ASSERT_TRUE(p.start_fork(&die_holding, seg.get()));
        ASSERT_TRUE(p.join(Deadline::after(20s)));
    }
    auto r = seg->mutex.lock(Deadline::after(10s));
    ASSERT_EQ(r.code(), Errc::owner_died);
    ASSERT_TRUE(seg->mutex.mark_consistent());
    EXPECT_EQ(seg->value, n);
    EXPECT_EQ(seg->recoveries, n - 1);
    seg->mutex.unlock();
    seg.destroy();
}
