// SPDX-License-Identifier: MIT
// Histogram stress: one recorder, one snapshotting reader. Every snapshot is consistent (count ==
// sum of buckets, max == the largest value recorded so far at that count) and nothing is lost.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "staticrt/diag/histogram.hpp"
#include "staticrt/platform/arch.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::test::scaled;

TEST(HistogramStress, RecorderAndSnapshotter_SnapshotsConsistent_NothingLost) {
    staticrt::test::Watchdog wd{300s, "Histogram stress"};
    using H = staticrt::Histogram<5, 30>;  // small shape: more copies per second
    static H h;
    const std::uint64_t n = static_cast<std::uint64_t>(scaled(2'000'000, 20'000));
    std::atomic<bool> done{false};
    std::uint64_t good = 0, busy = 0;
    std::thread reader([&] {
        static H::Snapshot s;
        std::uint64_t last = 0;
        while (!done.load(std::memory_order_acquire)) {
            if (!h.snapshot(s, 4)) {
                ++busy;
                continue;
            }
            std::uint64_t sum = 0;
            for (std::size_t b = 0; b < H::kBuckets; ++b) sum += s.bucket_count(b);
            ASSERT_EQ(sum, s.count());
            ASSERT_GE(s.count(), last);  // monotonic
            last = s.count();
            // value i is recorded as (i % 1000) + i / 1000: max after c samples is known exactly
            if (s.count() > 0) {
                const std::uint64_t i = s.count() - 1;
                std::uint64_t expect_max = 0;
                for (std::uint64_t k = (i >= 999 ? i - 999 : 0); k <= i; ++k)
                    expect_max = std::max(expect_max, k % 1000 + k / 1000);
                ASSERT_EQ(s.max(), expect_max) << s.count();
                ASSERT_EQ(s.min(), 0u);
            }
            ++good;
        }
    });
    for (std::uint64_t i = 0; i < n; ++i) {
        h.record(i % 1000 + i / 1000);
        // A recorder that never pauses starves a seqlock reader (snapshot() then reports
        // would_block, counted as `busy`); real recorders pause between samples. Pause briefly.
        if ((i & 511) == 511)
            for (int k = 0; k < 2000; ++k) staticrt::platform::cpu_relax();
    }
    done.store(true, std::memory_order_release);
    reader.join();
    H::Snapshot s;
    ASSERT_TRUE(h.snapshot(s));
    EXPECT_EQ(s.count(), n);
    std::printf("histogram stress: %llu consistent snapshots, %llu gave up (recorder busy)\n",
                static_cast<unsigned long long>(good), static_cast<unsigned long long>(busy));
    EXPECT_GT(good, 0u);
}
