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
