// SPDX-License-Identifier: MIT
// No-heap tests for the real-time components: Histogram record/snapshot/merge.
#include <gtest/gtest.h>

#include "counting_alloc.hpp"
#include "staticrt/diag/histogram.hpp"

using staticrt::test::AllocationCounter;

namespace {
staticrt::LatencyHistogram g_hist;
staticrt::LatencyHistogram::Snapshot g_snap;
}  // namespace

TEST(NoHeap, Histogram_RecordSnapshotMerge_AllocatesNothing) {
    AllocationCounter c;
    for (std::uint64_t v = 0; v < 10000; ++v) g_hist.record(v * 37);
    ASSERT_TRUE(g_hist.snapshot(g_snap));
    g_snap.merge(g_snap);
    g_hist.merge(g_snap);
    (void)g_snap.p999();
    g_hist.reset();
    EXPECT_EQ(c.count(), 0u);
}

#include <atomic>
#include <thread>

#include "staticrt/sync/pi_mutex.hpp"

namespace {
staticrt::PiMutex g_pi;
}

TEST(NoHeap, PiMutex_UncontendedAndParkedPaths_AllocateNothing) {
    std::atomic<int> step{0};
    std::thread t([&] {  // created before counting
        while (step.load() != 1) std::this_thread::yield();
        g_pi.lock();  // parks in the kernel: main holds it
        g_pi.unlock();
        step.store(2);
    });
    AllocationCounter c;
    g_pi.lock();
    (void)g_pi.lock(staticrt::Deadline::poll());
    step.store(1);
    while (!g_pi.has_waiters()) std::this_thread::yield();
    g_pi.unlock();
    while (step.load() != 2) std::this_thread::yield();
    EXPECT_EQ(c.count(), 0u);
    t.join();
}

#include "staticrt/exec/periodic.hpp"

namespace {
staticrt::PeriodicTask<256 * 1024> g_periodic;
}

// The steady state (sleep to the release, run, account, record lateness) allocates nothing.
// Thread start itself may make glibc's one TLS-vector allocation (see test_noheap_sync.cpp),
// so counting starts after the task runs.
TEST(NoHeap, PeriodicTask_SteadyStateRuns_AllocateNothing) {
    static std::atomic<std::uint64_t> runs{0};
    staticrt::PeriodicOptions o;
    o.period = std::chrono::microseconds(200);
    ASSERT_TRUE(g_periodic.start([] { runs.fetch_add(1, std::memory_order_relaxed); }, o));
    while (runs.load() < 5) std::this_thread::yield();
    AllocationCounter c;
    while (runs.load() < 40) std::this_thread::yield();
    ASSERT_TRUE(g_periodic.lateness(g_snap));
    const auto st = g_periodic.stats();
    const std::size_t allocs = c.count();
    ASSERT_TRUE(g_periodic.stop());
    EXPECT_EQ(allocs, 0u);
    EXPECT_GE(st.runs, 39u);  // the 40th may still be completing
}
