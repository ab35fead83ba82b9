// SPDX-License-Identifier: MIT
// No-heap tests: every synchronisation primitive, Task and Thread (start/join included) make
// zero heap allocations after construction, on their uncontended and their parked paths.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

#include "counting_alloc.hpp"
#include "eventually.hpp"
#include "staticrt/sync.hpp"
#include "staticrt/task.hpp"
#include "staticrt/thread.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::test::AllocationCounter;

namespace {
constexpr std::size_t kStack = 256 * 1024;
staticrt::Thread<kStack> g_t1;
staticrt::Thread<kStack> g_t2;

staticrt::Mutex g_mutex;
staticrt::Condition g_cond;
staticrt::Semaphore g_sem{0};
staticrt::BoundedSemaphore g_bsem{2};
staticrt::Event g_event;
staticrt::Latch g_latch{2};
staticrt::Barrier g_barrier{2};
}  // namespace

TEST(NoHeap, Task_ConstructMoveInvokeReset_AllocatesNothing) {
    AllocationCounter c;
    int hits = 0;
    staticrt::Task<32> a = [&hits] { ++hits; };
    staticrt::Task<64> b = std::move(a);
    b();
    b.reset();
    EXPECT_EQ(hits, 1);
    EXPECT_EQ(c.count(), 0u);
}

TEST(NoHeap, UncontendedPaths_AllocateNothing) {
    staticrt::Mutex m;
    staticrt::Condition cv;
    staticrt::Semaphore s{1};
    staticrt::BoundedSemaphore bs{1};
    staticrt::Event e;
    staticrt::Latch l{1};
    staticrt::Barrier b{1};
    AllocationCounter c;
    {
        std::unique_lock lk(m);
        EXPECT_TRUE(cv.notify_all(lk));
        EXPECT_EQ(cv.wait(lk, Deadline::after(1ms)).code(), staticrt::Errc::timeout);
    }
    EXPECT_TRUE(m.lock(Deadline::poll()));
    EXPECT_TRUE(m.release());
    EXPECT_EQ(m.release().code(), staticrt::Errc::not_owner);
    EXPECT_TRUE(s.acquire());
    EXPECT_EQ(s.acquire(Deadline::after(1ms)).code(), staticrt::Errc::timeout);
    EXPECT_TRUE(s.release());
    EXPECT_TRUE(bs.acquire());
    EXPECT_TRUE(bs.release());
    EXPECT_EQ(bs.release().code(), staticrt::Errc::over_release);
    e.set();
    EXPECT_TRUE(e.wait());
    e.clear();
    EXPECT_EQ(e.wait(Deadline::after(1ms)).code(), staticrt::Errc::timeout);
    EXPECT_TRUE(l.arrive_and_wait());
    EXPECT_TRUE(b.wait());
    EXPECT_EQ(c.count(), 0u);
}

TEST(NoHeap, ParkedPaths_AllocateNothing) {
    staticrt::Event begin;
    // The threads are started before counting: see ThreadStartJoin below for start/join itself.
    ASSERT_TRUE(g_t1.start([&begin] {
        (void)begin.wait();
        for (int i = 0; i < 200; ++i) {
            std::unique_lock lk(g_mutex);
            (void)g_cond.notify_one(lk);
        }
        (void)g_sem.acquire();  // parks until the main thread releases
        (void)g_bsem.acquire();
        (void)g_event.wait();   // parks until set
        (void)g_latch.arrive_and_wait();
        (void)g_barrier.wait();
        (void)g_bsem.release();
    }, {.name = "noheap-1"}));
    ASSERT_TRUE(g_t2.start([&begin] {
        (void)begin.wait();
        for (int i = 0; i < 200; ++i) {
            std::unique_lock lk(g_mutex);
            (void)g_cond.wait(lk, Deadline::after(100us));
        }
    }));
    AllocationCounter c;
    begin.set();
    ASSERT_TRUE(staticrt::test::eventually([] { return g_sem.sleepers() == 1; }));  // parked in acquire()
    ASSERT_TRUE(g_sem.release());
    ASSERT_TRUE(staticrt::test::eventually([] { return g_event.sleepers() == 1; }));  // parked in wait()
    g_event.set();
    EXPECT_TRUE(g_latch.arrive_and_wait());
    EXPECT_TRUE(g_barrier.wait());
    ASSERT_TRUE(g_t1.join());
    ASSERT_TRUE(g_t2.join());
    EXPECT_EQ(c.count(), 0u);
}

// staticrt's own start/join path allocates nothing (the Task is inline, the stack and the
// control block are in the Thread object). glibc's pthread_create, however, callocs the new
// thread's dynamic TLS vector (elf/dl-tls.c allocate_dtv) for every caller-provided stack:
// one allocation per start, freed at join. That is the C library, at thread start (start-up
// work, not steady state); this test pins it to at most one per start so anything more fails.
TEST(NoHeap, ThreadStartJoin_AllocatesAtMostTheCLibrarysTlsVector) {
    ASSERT_TRUE(g_t1.start([] {}));  // warm-up: lazily initialised C library state
    ASSERT_TRUE(g_t1.join());
    constexpr int kStarts = 10;
    AllocationCounter c;
    int runs = 0;
    for (int i = 0; i < kStarts; ++i) {
        ASSERT_TRUE(g_t1.start([&runs] { ++runs; }, {.name = "noheap-start"}));
        ASSERT_TRUE(g_t1.join());
    }
    EXPECT_EQ(runs, kStarts);
    EXPECT_LE(c.count(), static_cast<std::size_t>(kStarts));
    std::printf("Thread start/join: %zu allocations in %d starts (C library)\n", c.count(), kStarts);
}
