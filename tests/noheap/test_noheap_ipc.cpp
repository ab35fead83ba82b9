// SPDX-License-Identifier: MIT
// No-heap checks of the process / shared-memory side: after start-up (entries registered),
// shared-memory create/open/unlink, spawn/fork/program starts and joins (posix_spawn without
// file actions allocates nothing in glibc), ProcessMutex, SharedValue, LogRing and ProcessPool
// start/map/shutdown allocate nothing in the calling process.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <mutex>

#include "ipc_test_support.hpp"
#include "counting_alloc.hpp"
#include "staticrt/ipc/log_ring.hpp"
#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/process_mutex.hpp"
#include "staticrt/ipc/process_pool.hpp"
#include "staticrt/ipc/shared_segment.hpp"
#include "staticrt/ipc/shared_value.hpp"
#include "staticrt/platform/shared_memory.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::test::AllocationCounter;
namespace test = staticrt::test;

namespace {
int entry_exit_three(int, const char* const*) noexcept { return 3; }
int fork_exit_four(void*) noexcept { return 4; }
long long doubled(long long x) noexcept { return 2 * x; }

// Names built before counting (std::string allocates).
char g_name_a[64], g_name_b[64], g_name_c[64];
void make_names() {
    std::snprintf(g_name_a, sizeof g_name_a, "%s", test::shm_name("nh-a").c_str());
    std::snprintf(g_name_b, sizeof g_name_b, "%s", test::shm_name("nh-b").c_str());
    std::snprintf(g_name_c, sizeof g_name_c, "%s", test::shm_name("nh-c").c_str());
}
}  // namespace

STATICRT_TEST_ENTRY("exit_three", &entry_exit_three);
STATICRT_TEST_POOL_FN("doubled", &doubled);
__attribute__((init_priority(65000))) static const test::ChildHook g_child_hook;

TEST(NoHeapIpc, SharedMemoryCreateOpenUnlink_ZeroAllocations) {
    make_names();
    AllocationCounter c;
    {
        staticrt::platform::SharedMemory a, b;
        ASSERT_TRUE(a.create(g_name_a, 4096));
        ASSERT_TRUE(b.open(g_name_a));
        EXPECT_EQ(b.open(g_name_b).code(), Errc::invalid_argument);
        ASSERT_TRUE(staticrt::platform::SharedMemory::unlink(g_name_a));
    }
    EXPECT_EQ(c.count(), 0u);
}

TEST(NoHeapIpc, ProcessStartsAndJoins_ZeroAllocations) {
    test::Watchdog wd{60s};
    static const char* const sh_args[] = {"-c", "exit 0", nullptr};
    AllocationCounter c;
    {
        staticrt::ipc::Process p, q, r;
        ASSERT_TRUE(p.start("exit_three"));
        ASSERT_TRUE(q.start_fork(&fork_exit_four, nullptr));
        ASSERT_TRUE(r.start_program("/bin/sh", sh_args));
        ASSERT_TRUE(p.join(Deadline::after(20s)));
        ASSERT_TRUE(q.join(Deadline::after(20s)));
        ASSERT_TRUE(r.join(Deadline::after(20s)));
        EXPECT_EQ(p.exit_code().value_or(-100), 3);
        EXPECT_EQ(q.exit_code().value_or(-100), 4);
        EXPECT_EQ(r.exit_code().value_or(-100), 0);
        staticrt::ipc::Process d;
        ASSERT_TRUE(d.start("exit_three", nullptr, staticrt::ipc::ProcessOptions{true}));
        ASSERT_TRUE(d.join(Deadline::after(20s)));
    }
    EXPECT_EQ(c.count(), 0u);
}

TEST(NoHeapIpc, SharedValueMutexLogRing_ZeroAllocations) {
    make_names();
    AllocationCounter c;
    {
        staticrt::ipc::SharedValue<long> v;
        ASSERT_TRUE(v.create(g_name_b, 1));
        (void)v.fetch_add(2);
        {
            std::lock_guard g(v.get_lock());
            v.value() += 3;
        }
        EXPECT_EQ(v.load(), 6);
        staticrt::ipc::SharedSegment<staticrt::ipc::LogRing<64, 64>> ring;
        ASSERT_TRUE(ring.create(g_name_c));
        EXPECT_TRUE(ring->write("a line"));
        std::size_t n = 0;
        n = ring->drain([](void*, const char*, std::size_t) noexcept {}, nullptr);
        EXPECT_EQ(n, 1u);
    }
    EXPECT_EQ(c.count(), 0u);
}

TEST(NoHeapIpc, ProcessPoolStartMapShutdown_ZeroAllocations) {
    test::Watchdog wd{60s};
    static long long in[100], out[100];
    for (int i = 0; i < 100; ++i) in[i] = i;
    AllocationCounter c;
    {
        staticrt::ipc::ProcessPool<2, 8192> pool;
        ASSERT_TRUE(pool.start());
        auto r = pool.map("doubled", std::span<const long long>(in), std::span<long long>(out));
        ASSERT_TRUE(r);
        EXPECT_EQ(r->completed, 100u);
        pool.shutdown();
    }
    EXPECT_EQ(c.count(), 0u);
    EXPECT_EQ(out[99], 198);
}

namespace {
struct NoHeapMapData {
    long long in[1000];
    long long out[1000];
};
}  // namespace

TEST(NoHeapIpc, ProcessPoolMapSharedSubmitGet_ZeroAllocations) {
    test::Watchdog wd{60s};
    staticrt::ipc::ProcessPool<2, 8192> pool;  // start-up: the workers and the segment
    ASSERT_TRUE(pool.start());
    make_names();
    staticrt::ipc::SharedSegment<NoHeapMapData> seg;
    ASSERT_TRUE(seg.create(g_name_c));
    for (int i = 0; i < 1000; ++i) seg->in[i] = i;
    AllocationCounter c;
    {
        for (int round = 0; round < 3; ++round) {
            auto r = pool.map_shared("doubled", seg, std::span<const long long>(seg->in), std::span<long long>(seg->out));
            ASSERT_TRUE(r);
            EXPECT_EQ(r->completed, 1000u);
        }
        staticrt::ipc::PoolFuture<long long> fs[4];
        for (int i = 0; i < 4; ++i) {
            auto f = pool.submit<long long>("doubled", static_cast<long long>(i));
            ASSERT_TRUE(f);
            fs[i] = std::move(*f);
        }
        for (int i = 0; i < 4; ++i) EXPECT_EQ(fs[i].get(Deadline::after(20s)).value_or(-1), 2 * i);
        EXPECT_TRUE(fs[0].wait(Deadline::poll()).code() == Errc::invalid_argument);
        auto a = pool.apply<long long>("doubled", 21LL);
        EXPECT_EQ(a.value_or(-1), 42);
        pool.shutdown();
    }
    EXPECT_EQ(c.count(), 0u);
    EXPECT_EQ(seg->out[999], 1998);
    seg.destroy();
}
