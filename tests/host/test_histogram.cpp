// SPDX-License-Identifier: MIT
// Histogram: bucket mapping, precision bound, percentiles, merge, overflow, snapshot consistency.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "staticrt/diag/histogram.hpp"

using staticrt::Histogram;

namespace {
using H = Histogram<>;
H g_h;  // usable as a global (constexpr constructor)
}  // namespace

TEST(Histogram, BucketOf_SmallValuesAreExact_BoundsContainTheValue) {
    for (std::uint64_t v = 0; v < 128; ++v) {
        EXPECT_EQ(H::bucket_of(v), v);
        EXPECT_EQ(H::bucket_low(v), v);
        EXPECT_EQ(H::bucket_high(v), v);
    }
    std::mt19937_64 rng(42);
    for (int i = 0; i < 200000; ++i) {
        const std::uint64_t v = rng() >> (rng() % 64);
        const std::size_t b = H::bucket_of(v);
        ASSERT_LT(b, H::kBuckets);
        if (v <= H::kMaxTracked) {
            ASSERT_LE(H::bucket_low(b), v) << v;
            ASSERT_GE(H::bucket_high(b), v) << v;
            // relative width of the bucket is below 1/64 (SubBits 7)
            ASSERT_LE((H::bucket_high(b) - H::bucket_low(b)) * 64, H::bucket_low(b)) << v;
        } else {
            ASSERT_EQ(b, H::kBuckets - 1);
        }
    }
}

TEST(Histogram, Buckets_AreContiguousAndMonotonic) {
    for (std::size_t b = 1; b < H::kBuckets; ++b) ASSERT_EQ(H::bucket_low(b), H::bucket_high(b - 1) + 1) << b;
    EXPECT_EQ(H::bucket_high(H::kBuckets - 1), H::kMaxTracked);
}

TEST(Histogram, Percentiles_MatchSortedSamplesWithinPrecision) {
    std::mt19937_64 rng(7);
    std::lognormal_distribution<double> dist(9.0, 1.5);  // ~8 us median, long tail
    std::vector<std::uint64_t> v;
    H h;
    for (int i = 0; i < 100000; ++i) {
        const auto x = static_cast<std::uint64_t>(dist(rng));
        v.push_back(x);
        h.record(x);
    }
    std::sort(v.begin(), v.end());
    H::Snapshot s;
    ASSERT_TRUE(h.snapshot(s));
    EXPECT_EQ(s.count(), v.size());
    EXPECT_EQ(s.min(), v.front());
    EXPECT_EQ(s.max(), v.back());
    for (double p : {1.0, 50.0, 90.0, 99.0, 99.9, 99.99}) {
        const std::size_t rank = static_cast<std::size_t>(std::ceil(p / 100.0 * v.size()));
        const std::uint64_t exact = v[rank - 1];
        const std::uint64_t got = s.value_at_percentile(p);
        EXPECT_GE(got, exact) << p;                    // highest equivalent value: never below
        EXPECT_LE(got, exact + exact / 64 + 1) << p;   // within one bucket's width
    }
    EXPECT_EQ(s.value_at_percentile(100.0), v.back());
    EXPECT_EQ(s.value_at_percentile(0.0), v.front());
    EXPECT_EQ(s.p50(), s.value_at_percentile(50.0));
}

TEST(Histogram, Empty_ReportsZeros) {
    H::Snapshot s;
    ASSERT_TRUE(g_h.snapshot(s));
    EXPECT_EQ(s.count(), 0u);
    EXPECT_EQ(s.p99(), 0u);
    EXPECT_EQ(s.max(), 0u);
    EXPECT_EQ(s.min(), 0u);
    EXPECT_EQ(s.mean(), 0.0);
}

TEST(Histogram, Merge_EqualsRecordingEverythingInOne) {
    H a, b, all;
    std::mt19937_64 rng(3);
    for (int i = 0; i < 5000; ++i) {
        const std::uint64_t x = rng() % 1'000'000;
        (i % 3 == 0 ? a : b).record(x);
        all.record(x);
    }
    H::Snapshot sa, sb, sall;
    ASSERT_TRUE(a.snapshot(sa));
    ASSERT_TRUE(b.snapshot(sb));
    ASSERT_TRUE(all.snapshot(sall));
    H::Snapshot m = sa;
    m.merge(sb);
    EXPECT_EQ(m.count(), sall.count());
    EXPECT_EQ(m.min(), sall.min());
    EXPECT_EQ(m.max(), sall.max());
    EXPECT_DOUBLE_EQ(m.mean(), sall.mean());
    for (std::size_t i = 0; i < H::kBuckets; ++i) ASSERT_EQ(m.bucket_count(i), sall.bucket_count(i));
    // merging into a live histogram gives the same
    a.merge(sb);
    H::Snapshot sa2;
    ASSERT_TRUE(a.snapshot(sa2));
    EXPECT_EQ(sa2.count(), sall.count());
    EXPECT_EQ(sa2.p99(), sall.p99());
    EXPECT_EQ(sa2.max(), sall.max());
}

TEST(Histogram, Overflow_CountedAndMaxExact) {
    H h;
    h.record(5);
    h.record(H::kMaxTracked + 12345);
    H::Snapshot s;
    ASSERT_TRUE(h.snapshot(s));
    EXPECT_EQ(s.overflow(), 1u);
    EXPECT_EQ(s.max(), H::kMaxTracked + 12345);
    EXPECT_EQ(s.value_at_percentile(100.0), H::kMaxTracked + 12345);
    EXPECT_EQ(s.bucket_count(H::kBuckets - 1), 1u);
}

TEST(Histogram, RecordSignedAndReset) {
    H h;
    h.record_signed(-50);
    h.record(10, 3);
    H::Snapshot s;
    ASSERT_TRUE(h.snapshot(s));
    EXPECT_EQ(s.count(), 4u);
    EXPECT_EQ(s.min(), 0u);
    EXPECT_EQ(s.bucket_count(10), 3u);
    h.reset();
    ASSERT_TRUE(h.snapshot(s));
    EXPECT_EQ(s.count(), 0u);
    EXPECT_EQ(s.max(), 0u);
}

TEST(Histogram, SmallShape_StillConsistent) {
    Histogram<3, 10> h;  // 8 exact + 7*4 buckets
    static_assert(Histogram<3, 10>::kBuckets == 8 + 7 * 4);
    for (std::uint64_t v = 0; v < 2000; ++v) h.record(v);
    Histogram<3, 10>::Snapshot s;
    ASSERT_TRUE(h.snapshot(s));
    EXPECT_EQ(s.count(), 2000u);
    EXPECT_EQ(s.overflow(), 2000u - 1024u);
    EXPECT_EQ(s.max(), 1999u);
}
