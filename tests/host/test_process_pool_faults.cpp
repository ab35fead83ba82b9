// SPDX-License-Identifier: MIT
// ProcessPool under faults (issue 10, and the pool parts of issue 11): deadlines on map /
// map_shared / futures / shutdown, stalled workers (SIGSTOP, a looping function), a stray write
// into the control block (bounded restarts), a scribbled chunk count (reap() must not follow
// it), re-entrant map from a fork worker, signal dispositions of fork workers, cpus validation
// and worker_pid(). Linux host only (signals, /proc, memfd).
#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "proc_stat.hpp"
#include "ipc_test_support.hpp"
#include "staticrt/ipc/process_pool.hpp"
#include "staticrt/ipc/shared_segment.hpp"
#include "staticrt/platform/cpu.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::ipc::ProcessPoolOptions;
using staticrt::ipc::ProcessPool;
using staticrt::ipc::StartMethod;
namespace test = staticrt::test;
namespace detail = staticrt::detail;

namespace {

long long pf_square(long long x) noexcept { return x * x; }

// Blocks without using the CPU (like a function stuck on I/O).
long long pf_block_forever(long long) noexcept {
    for (;;) ::sleep(1000);
}

// Loops without end, using the CPU.
long long pf_spin_forever(long long) noexcept {
    for (;;) asm volatile("" ::: "memory");
}

std::string marker_path(const char* what, long pid) {
    return "/tmp/staticrt-pf-" + std::string(what) + "-" + std::to_string(pid);
}

// The first worker to take item 0 after the test armed the marker stops itself (SIGSTOP).
long long pf_stop_once(long long x) noexcept {
    if (x == 0 && ::unlink(marker_path("stop", ::getppid()).c_str()) == 0) ::raise(SIGSTOP);
    return 3 * x;
}

// Offset of a field of PoolControl from the start of the pool's segment.
template <class F>
std::size_t control_offset(F detail::PoolControl::*field) {
    static detail::PoolControl probe;  // zero-initialised static: only its layout is used
    return detail::kPoolHeaderBytes + static_cast<std::size_t>(reinterpret_cast<const char*>(&(probe.*field)) -
                                                               reinterpret_cast<const char*>(&probe));
}
std::size_t job_chunks_offset() {
    static detail::PoolControl probe;
    return detail::kPoolHeaderBytes +
           static_cast<std::size_t>(reinterpret_cast<const char*>(&probe.job.chunks) - reinterpret_cast<const char*>(&probe));
}

// This process's mapping of the pool segment (a memfd named "staticrt"), from /proc/self/maps.
unsigned char* own_pool_mapping() noexcept {
    FILE* f = std::fopen("/proc/self/maps", "r");
    if (f == nullptr) return nullptr;
    char line[512];
    unsigned long lo = 0;
    while (std::fgets(line, sizeof line, f) != nullptr) {
        if (std::strstr(line, "/memfd:staticrt") == nullptr) continue;
        lo = std::strtoul(line, nullptr, 16);
        break;
    }
    std::fclose(f);
    return reinterpret_cast<unsigned char*>(lo);
}

// The first worker to take item 0 after the test armed the marker writes a huge chunk count
// into the job (a buggy or hostile worker), then dies: the parent's reap() runs with it.
long long pf_scribble_chunks_once(long long x) noexcept {
    if (x == 0 && ::unlink(marker_path("scribble", ::getppid()).c_str()) == 0) {
        unsigned char* base = own_pool_mapping();
        if (base != nullptr) std::memcpy(base + job_chunks_offset(), "\xff\xff\xff\xff", 4);
        ::raise(SIGKILL);
    }
    return x + 1;
}

long long pf_getpid(long long) noexcept { return static_cast<long long>(::getpid()); }
long long pf_slow_getpid(long long) noexcept {
    ::usleep(20'000);
    return static_cast<long long>(::getpid());
}

long long pf_sigterm_is_default(long long) noexcept {
    struct sigaction sa {};
    ::sigaction(SIGTERM, nullptr, &sa);
    return sa.sa_handler == SIG_DFL ? 1 : 0;
}

ProcessPool<2>* g_reenter_pool = nullptr;
// Calls map on the pool whose worker runs it: the fork copy of g_reenter_pool.
long long pf_reenter(long long x) noexcept {
    if (g_reenter_pool == nullptr) return -1;
    long long in[1] = {x}, out[1] = {0};
    auto r = g_reenter_pool->map("pf_square", std::span<const long long>(in), std::span<long long>(out));
    return r ? 1000 : static_cast<long long>(r.code());
}

void on_sigterm(int) {}

}  // namespace

STATICRT_TEST_POOL_FN("pf_square", &pf_square);
STATICRT_TEST_POOL_FN("pf_block_forever", &pf_block_forever);
STATICRT_TEST_POOL_FN("pf_spin_forever", &pf_spin_forever);
STATICRT_TEST_POOL_FN("pf_stop_once", &pf_stop_once);
STATICRT_TEST_POOL_FN("pf_scribble_chunks_once", &pf_scribble_chunks_once);
STATICRT_TEST_POOL_FN("pf_getpid", &pf_getpid);
STATICRT_TEST_POOL_FN("pf_slow_getpid", &pf_slow_getpid);
STATICRT_TEST_POOL_FN("pf_sigterm_is_default", &pf_sigterm_is_default);
STATICRT_TEST_POOL_FN("pf_reenter", &pf_reenter);

namespace {

using staticrt::test::running;  // tests/support/proc_stat.hpp

// The squares map still works: the pool is usable.
void expect_usable(ProcessPool<2>& pool) {
    std::vector<long long> in(100), out(100, -1);
    std::iota(in.begin(), in.end(), 0);
    auto r = pool.map("pf_square", std::span<const long long>(in), std::span<long long>(out), {},
                      Deadline::after(60s));
    ASSERT_TRUE(r) << staticrt::to_string(r.code());
    EXPECT_EQ(r->completed, in.size());
    for (std::size_t i = 0; i < in.size(); ++i) ASSERT_EQ(out[i], in[i] * in[i]) << i;
}

// Returns once both workers of the pool run (two slow calls in flight answered by two pids):
// a worker still starting (slow under ASan) holds no chunk and would not be killed by a cancel.
void wait_both_up(ProcessPool<2>& pool) {
    for (;;) {
        auto a = pool.submit<long long>("pf_slow_getpid", 0LL);
        auto b = pool.submit<long long>("pf_slow_getpid", 0LL);
        ASSERT_TRUE(a && b);
        const long long pa = a->get(Deadline::after(60s)).value_or(-1);
        const long long pb = b->get(Deadline::after(60s)).value_or(-1);
        if (pa > 0 && pb > 0 && pa != pb) return;
    }
}

ProcessPoolOptions with(StartMethod m) {
    ProcessPoolOptions o;
    o.start_method = m;
    return o;
}

class PoolFaults : public ::testing::TestWithParam<StartMethod> {};

std::string method_name(const ::testing::TestParamInfo<StartMethod>& p) {
    return p.param == StartMethod::fork ? "Fork" : "Spawn";
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Methods, PoolFaults, ::testing::Values(StartMethod::spawn, StartMethod::fork), method_name);

// Issue 10 case 1 (deadline part): a map whose workers never finish returns Errc::timeout at
// its deadline; the workers inside it are killed and replaced; the pool stays usable.
TEST_P(PoolFaults, Map_StuckFunction_DeadlineTimeoutCancelsAndPoolStaysUsable) {
    test::Watchdog wd{60s};
    ProcessPool<2> pool;
    ASSERT_TRUE(pool.start(with(GetParam())));
    wait_both_up(pool);
    const auto before0 = pool.worker_pid(0), before1 = pool.worker_pid(1);
    std::vector<long long> in(8, 1), out(8, 0);
    auto r = pool.map("pf_block_forever", std::span<const long long>(in), std::span<long long>(out), {},
                      Deadline::after(300ms));
    EXPECT_EQ(r.code(), Errc::timeout);
    // Both workers held a chunk: killed (nothing may write after the return) and replaced.
    EXPECT_FALSE(running(before0));
    EXPECT_FALSE(running(before1));
    EXPECT_EQ(pool.live_workers(), 2u);
    expect_usable(pool);
}

// map_shared takes the same deadline.
TEST(PoolFaultsShared, MapShared_StuckFunction_DeadlineTimeoutPoolStaysUsable) {
    test::Watchdog wd{60s};
    struct Data {
        long long in[16];
        long long out[16];
    };
    staticrt::ipc::SharedSegment<Data> seg;
    const auto name = test::shm_name("pfshared");
    ASSERT_TRUE(seg.create(name.c_str()));
    ProcessPool<2> pool;
    ASSERT_TRUE(pool.start());
    auto r = pool.map_shared("pf_block_forever", seg, std::span<const long long>(seg->in),
                             std::span<long long>(seg->out), {}, Deadline::after(300ms));
    EXPECT_EQ(r.code(), Errc::timeout);
    for (int i = 0; i < 16; ++i) seg->in[i] = i;
    auto ok = pool.map_shared("pf_square", seg, std::span<const long long>(seg->in), std::span<long long>(seg->out), {},
                              Deadline::after(60s));
    ASSERT_TRUE(ok) << staticrt::to_string(ok.code());
    for (int i = 0; i < 16; ++i) EXPECT_EQ(seg->out[i], i * i);
    pool.shutdown();
    seg.destroy();
}

// Futures and shutdown: get(deadline) is a timeout with the handle still valid; shutdown with a
// deadline kills the stuck worker and says so (Errc::timeout); the pool can start again.
TEST_P(PoolFaults, FutureAndShutdown_StuckCall_TimeoutsThenCleanShutdown) {
    test::Watchdog wd{60s};
    ProcessPool<2> pool;
    ASSERT_TRUE(pool.start(with(GetParam())));
    auto f = pool.submit<long long>("pf_block_forever", 1LL);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->get(Deadline::after(100ms)).code(), Errc::timeout);
    EXPECT_TRUE(f->valid());
    EXPECT_EQ(pool.apply<long long>("pf_block_forever", 2LL, Deadline::after(100ms)).code(), Errc::timeout);
    EXPECT_EQ(pool.shutdown(Deadline::after(200ms)).code(), Errc::timeout);
    EXPECT_EQ(pool.live_workers(), 0u);
    EXPECT_FALSE(f->valid() && f->ready());
    f->reset();
    ASSERT_TRUE(pool.start(with(GetParam())));
    expect_usable(pool);
    EXPECT_TRUE(pool.shutdown(Deadline::after(30s)));  // idle workers stop by themselves
}

// Issue 10 case 1 (stall part): a SIGSTOPped worker holding a chunk is killed after
// stall_timeout, replaced, and its chunk retried: every item is right, one stall counted.
TEST_P(PoolFaults, Map_SigstoppedWorker_StallDetectedKilledReplacedRetried) {
    test::Watchdog wd{60s};
    ProcessPool<2> pool;
    ProcessPoolOptions o = with(GetParam());
    o.stall_timeout = 200ms;
    o.chunk = 1;
    ASSERT_TRUE(pool.start(o));
    const std::string marker = marker_path("stop", ::getpid());
    FILE* m = std::fopen(marker.c_str(), "w");
    ASSERT_NE(m, nullptr);
    std::fclose(m);
    std::vector<long long> in(32), out(32, -1);
    std::iota(in.begin(), in.end(), 0);
    auto r = pool.map("pf_stop_once", std::span<const long long>(in), std::span<long long>(out));
    ::unlink(marker.c_str());
    ASSERT_TRUE(r) << staticrt::to_string(r.code());
    EXPECT_EQ(r->stalled_workers, 1u);
    EXPECT_EQ(r->completed, in.size());
    EXPECT_EQ(r->failed, 0u);
    EXPECT_GE(r->retried_chunks, 1u);
    EXPECT_GE(r->worker_restarts, 1u);
    for (std::size_t i = 0; i < in.size(); ++i) ASSERT_EQ(out[i], 3 * in[i]) << i;
    EXPECT_EQ(pool.live_workers(), 2u);
}

// A looping pool function: each attempt stalls; after max_retries the call reports
// Errc::process_stalled and the map reports its items failed; the pool stays usable.
TEST_P(PoolFaults, LoopingFunction_ProcessStalledAfterRetries) {
    test::Watchdog wd{60s};
    ProcessPool<2> pool;
    ProcessPoolOptions o = with(GetParam());
    o.stall_timeout = 100ms;
    o.max_retries = 1;
    o.chunk = 2;
    ASSERT_TRUE(pool.start(o));
    EXPECT_EQ(pool.apply<long long>("pf_spin_forever", 1LL, Deadline::after(30s)).code(), Errc::process_stalled);
    std::vector<long long> in(4, 1), out(4, 0);
    bool ok[4] = {true, true, true, true};
    auto r = pool.map("pf_spin_forever", std::span<const long long>(in), std::span<long long>(out),
                      std::span<bool>(ok, 4), Deadline::after(30s));
    ASSERT_TRUE(r) << staticrt::to_string(r.code());
    EXPECT_EQ(r->failed, 4u);
    EXPECT_EQ(r->completed, 0u);
    EXPECT_EQ(r->stalled_workers, 4u);  // 2 chunks x (1 + max_retries) attempts
    for (bool b : ok) EXPECT_FALSE(b);
    expect_usable(pool);
}

// Issue 10 case 4: a stray write of the control block's stop word, then a worker death: the
// replacements exit at once; after max_start_failures tries (with back-off) the map reports
// Errc::corrupted instead of respawning forever.
TEST_P(PoolFaults, StopWordScribbled_BoundedRestarts_Corrupted) {
    test::Watchdog wd{60s};
    ProcessPool<2> pool;
    ProcessPoolOptions o = with(GetParam());
    o.max_start_failures = 3;
    o.liveness_interval = 10ms;
    ASSERT_TRUE(pool.start(o));
    // Find the pool's segment the way a stray writer in this process could: its memfd.
    int seg_fd = -1;
    DIR* d = ::opendir("/proc/self/fd");
    ASSERT_NE(d, nullptr);
    while (dirent* e = ::readdir(d)) {
        char path[300], link[256] = {};
        std::snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        if (::readlink(path, link, sizeof link - 1) > 0 && std::strncmp(link, "/memfd:staticrt", 15) == 0)
            seg_fd = std::atoi(e->d_name);
    }
    ::closedir(d);
    ASSERT_GE(seg_fd, 0) << "no memfd pool segment";
    struct stat st {};
    ASSERT_EQ(::fstat(seg_fd, &st), 0);
    void* map = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ | PROT_WRITE, MAP_SHARED, seg_fd, 0);
    ASSERT_NE(map, MAP_FAILED);
    const std::uint32_t one = 1;
    std::memcpy(static_cast<unsigned char*>(map) + control_offset(&detail::PoolControl::stop), &one, sizeof one);
    ::munmap(map, static_cast<std::size_t>(st.st_size));
    ASSERT_EQ(::kill(static_cast<pid_t>(pool.worker_pid(0)), SIGKILL), 0);
    std::vector<long long> in(16, 2), out(16, 0);
    auto r = pool.map("pf_square", std::span<const long long>(in), std::span<long long>(out));
    EXPECT_EQ(r.code(), Errc::corrupted);
    // 2 first starts, then at most max_start_failures tries per slot (+1 for a slot whose
    // worker came up before the stop word was seen).
    EXPECT_LE(pool.worker_starts(), 2u + 2u * (3u + 1u));
    EXPECT_EQ(pool.apply<long long>("pf_square", 3LL).code(), Errc::corrupted);
    pool.shutdown();
}

// Issue 11 item 3: a worker writes a huge chunk count into the job, then dies; the parent's
// reap() must use its own count (before: it walked job.state[] far past the segment and
// crashed, or wrote past its own chunk-attempt table).
TEST_P(PoolFaults, ScribbledChunkCountThenDeath_ParentUsesItsOwnCount) {
    test::Watchdog wd{60s};
    ProcessPool<2> pool;
    ProcessPoolOptions o = with(GetParam());
    o.chunk = 4;
    ASSERT_TRUE(pool.start(o));
    const std::string marker = marker_path("scribble", ::getpid());
    FILE* m = std::fopen(marker.c_str(), "w");
    ASSERT_NE(m, nullptr);
    std::fclose(m);
    std::vector<long long> in(64), out(64, -1);
    std::iota(in.begin(), in.end(), 0);
    auto r = pool.map("pf_scribble_chunks_once", std::span<const long long>(in), std::span<long long>(out), {},
                      Deadline::after(30s));
    ::unlink(marker.c_str());
    ASSERT_TRUE(r) << staticrt::to_string(r.code());
    EXPECT_EQ(r->completed, in.size());
    EXPECT_GE(r->retried_chunks, 1u);
    for (std::size_t i = 0; i < in.size(); ++i) ASSERT_EQ(out[i], in[i] + 1) << i;
    expect_usable(pool);
}

// Issue 10 case 5: a fork worker calling map on its own pool gets invalid_argument (like a
// spawn worker), and does not run the parent's SIGTERM handler.
TEST(PoolFaultsFork, ReentrantMapFromForkWorker_InvalidArgument_SignalsReset) {
    test::Watchdog wd{60s};
    struct sigaction sa {}, old {};
    sa.sa_handler = &on_sigterm;
    ASSERT_EQ(::sigaction(SIGTERM, &sa, &old), 0);
    {
        ProcessPool<2> pool;
        g_reenter_pool = &pool;
        ASSERT_TRUE(pool.start(with(StartMethod::fork)));
        std::vector<long long> in(16, 5), out(16, 0);
        auto r = pool.map("pf_reenter", std::span<const long long>(in), std::span<long long>(out), {},
                          Deadline::after(30s));
        ASSERT_TRUE(r) << staticrt::to_string(r.code());
        for (long long v : out) EXPECT_EQ(v, static_cast<long long>(Errc::invalid_argument));
        EXPECT_EQ(pool.apply<long long>("pf_sigterm_is_default", 0LL, Deadline::after(30s)).value_or(-1), 1);
        expect_usable(pool);
        g_reenter_pool = nullptr;
    }
    ::sigaction(SIGTERM, &old, nullptr);
}

// What-to-build 7: cpus validated like ThreadPool; worker_pid(i) set when start() returns,
// and it is the process that runs the work.
TEST_P(PoolFaults, Start_BadCpuRefused_WorkerPidKnownAtStart) {
    test::Watchdog wd{60s};
    ProcessPool<2> pool;
    ProcessPoolOptions o = with(GetParam());
    const auto bad = staticrt::platform::CpuSet::single(staticrt::platform::kMaxCpus - 1);
    o.cpus = &bad;
    EXPECT_EQ(pool.start(o).code(), Errc::no_such_cpu);
    EXPECT_EQ(pool.live_workers(), 0u);
    ASSERT_TRUE(pool.start(with(GetParam())));
    const long long p0 = pool.worker_pid(0), p1 = pool.worker_pid(1);
    EXPECT_NE(p0, 0);
    EXPECT_NE(p1, 0);
    EXPECT_NE(p0, p1);
    for (int k = 0; k < 8; ++k) {
        const long long who = pool.apply<long long>("pf_getpid", 0LL, Deadline::after(30s)).value_or(-1);
        EXPECT_TRUE(who == p0 || who == p1) << who;
    }
}
