// SPDX-License-Identifier: MIT
// PeriodicTask stress: a fast task (50 us period) with readers taking stats and histogram
// snapshots concurrently; every release accounted for (runs + skipped), histogram == runs.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "staticrt/exec/periodic.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::test::scaled;

TEST(PeriodicStress, FastTaskConcurrentReaders_EveryReleaseAccounted) {
    staticrt::test::Watchdog wd{300s, "periodic stress"};
    static staticrt::PeriodicTask<256 * 1024> task;
    staticrt::PeriodicOptions o;
    o.period = 50us;
    o.max_runs = static_cast<std::uint64_t>(scaled(20000, 500));
    std::atomic<std::uint64_t> ran{0};
    ASSERT_TRUE(task.start([&ran] { ran.fetch_add(1, std::memory_order_relaxed); }, o));
    std::atomic<bool> done{false};
    std::uint64_t snaps = 0;
    std::thread reader([&] {
        static staticrt::LatencyHistogram::Snapshot s;
        while (!done.load(std::memory_order_acquire)) {
            const auto st = task.stats();
            EXPECT_LE(st.runs, o.max_runs);
            if (task.lateness(s, 16)) {
                std::uint64_t sum = 0;
                for (std::size_t b = 0; b < staticrt::LatencyHistogram::kBuckets; ++b) sum += s.bucket_count(b);
                EXPECT_EQ(sum, s.count());
                ++snaps;
            }
            std::this_thread::yield();
        }
    });
    ASSERT_TRUE(task.join());
    done.store(true, std::memory_order_release);
    reader.join();
    const auto st = task.stats();
    EXPECT_EQ(st.runs, ran.load());
    EXPECT_EQ(st.runs + st.skipped, st.releases);
    EXPECT_GE(st.releases, o.max_runs);
    staticrt::LatencyHistogram::Snapshot s;
    ASSERT_TRUE(task.lateness(s));
    EXPECT_EQ(s.count(), st.runs);
    std::printf("periodic stress: %llu runs, %llu skipped, %llu overruns, %llu snapshots (loaded machine)\n",
                (unsigned long long)st.runs, (unsigned long long)st.skipped, (unsigned long long)st.overruns,
                (unsigned long long)snaps);
}
