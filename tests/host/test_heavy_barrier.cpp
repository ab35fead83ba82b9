// SPDX-License-Identifier: MIT
// platform::heavy_barrier(): availability on this Linux host (membarrier PRIVATE_EXPEDITED,
// kernel >= 4.14) and a Dekker hand-off that pairs it with light_barrier().
#include <gtest/gtest.h>

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "staticrt/platform/memory.hpp"
#include "watchdog.hpp"

namespace platform = staticrt::platform;

// ctest runs each test in a process of its own, so nothing in this one has waited or woken yet:
// the answer must come from the load-time registration (memory.cpp), not from a first call.
// Resolved lazily, the registration waited for an RCU grace period inside the first wake of a
// fresh ThreadPool's workers (the first parallel map ran 5-10x slower on 16 cores).
TEST(HeavyBarrier, ResolvedAtLoad_BeforeAnyCall) {
    EXPECT_TRUE(platform::heavy_barrier_resolved());
}

// A fork() child keeps the parent's cached "available" answer, so it must also keep the kernel
// registration: heavy_barrier() ignores the syscall's result, and an unregistered child's
// PRIVATE_EXPEDITED would fail with EPERM and leave every waiter in it without its barrier.
TEST(HeavyBarrier, ForkChild_InheritsRegistration) {
    if (!platform::heavy_barrier_available()) GTEST_SKIP() << "no membarrier";
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        const long r = ::syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
        ::_exit(r == 0 && platform::heavy_barrier_available() ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(HeavyBarrier, Available_Linux6_True) {
    // The CI hosts run Linux 6.x; under qemu-user the target suite covers the fallback.
    EXPECT_TRUE(platform::heavy_barrier_available());
    EXPECT_TRUE(platform::heavy_barrier_available());  // cached answer is stable
}

TEST(HeavyBarrier, ConcurrentFirstCalls_SameAnswer) {
    const bool first = platform::heavy_barrier_available();
    std::atomic<int> disagreements{0};
    std::thread a([&] { if (platform::heavy_barrier_available() != first) ++disagreements; });
    std::thread b([&] { if (platform::heavy_barrier_available() != first) ++disagreements; });
    a.join();
    b.join();
    EXPECT_EQ(disagreements.load(), 0);
}

// Store-buffer litmus: fast thread "x = 1; light; r1 = y", slow thread "y = 1; heavy; r2 = x".
// With the asymmetric barrier r1 == 0 && r2 == 0 is forbidden.
TEST(HeavyBarrier, StoreBufferLitmus_NeverBothZero) {
    if (!platform::heavy_barrier_available()) GTEST_SKIP() << "no membarrier";
    staticrt::test::Watchdog wd{std::chrono::seconds(120)};
    const long long rounds = staticrt::test::scaled(2000, 50);
    std::atomic<int> x{0}, y{0}, r1{0}, r2{0};
    std::atomic<long long> go{0}, done{0};
    int both_zero = 0;
    std::thread fast([&] {
        for (long long i = 1; i <= rounds; ++i) {
            while (go.load(std::memory_order_acquire) != i) {}
            x.store(1, std::memory_order_relaxed);
            platform::light_barrier();
            r1.store(y.load(std::memory_order_relaxed), std::memory_order_relaxed);
            done.fetch_add(1, std::memory_order_acq_rel);
        }
    });
    for (long long i = 1; i <= rounds; ++i) {
        x.store(0, std::memory_order_relaxed);
        y.store(0, std::memory_order_relaxed);
        go.store(i, std::memory_order_release);
        y.store(1, std::memory_order_relaxed);
        platform::heavy_barrier();
        r2.store(x.load(std::memory_order_relaxed), std::memory_order_relaxed);
        while (done.load(std::memory_order_acquire) != i) {}
        if (r1.load(std::memory_order_relaxed) == 0 && r2.load(std::memory_order_relaxed) == 0) ++both_zero;
    }
    fast.join();
    EXPECT_EQ(both_zero, 0);
}
