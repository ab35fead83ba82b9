// SPDX-License-Identifier: MIT
// Histogram on every target (64-bit atomics on armhf, mingw): mapping, percentiles, merge, snapshot.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "staticrt/diag/histogram.hpp"

namespace {
constinit staticrt::LatencyHistogram g_hist;
}

TEST_CASE("histogram: buckets bound their values, percentiles and merge") {
    using H = staticrt::LatencyHistogram;
    for (std::uint64_t v : {0ULL, 1ULL, 127ULL, 128ULL, 129ULL, 1000ULL, 123456789ULL, (1ULL << 39) + 7}) {
        const std::size_t b = H::bucket_of(v);
        CHECK(H::bucket_low(b) <= v);
        CHECK(H::bucket_high(b) >= v);
    }
    H a;
    for (std::uint64_t v = 1; v <= 1000; ++v) a.record(v * 1000);  // 1 us .. 1 ms
    H::Snapshot s;
    REQUIRE(a.snapshot(s));
    CHECK(s.count() == 1000);
    CHECK(s.min() == 1000);
    CHECK(s.max() == 1'000'000);
    CHECK(s.p50() >= 500'000);
    CHECK(s.p50() <= 500'000 + 500'000 / 64);
    CHECK(s.p99() >= 990'000);
    CHECK(s.p999() >= 999'000);
    CHECK(s.value_at_percentile(100) == 1'000'000);
    H::Snapshot t = s;
    t.merge(s);
    CHECK(t.count() == 2000);
    CHECK(t.p50() == s.p50());
}

TEST_CASE("histogram: snapshots from another thread are consistent") {
    using H = staticrt::LatencyHistogram;
    std::atomic<bool> done{false};
    std::atomic<int> bad{0};
    std::thread reader([&] {
        static H::Snapshot s;
        while (!done.load(std::memory_order_acquire)) {
            if (!g_hist.snapshot(s, 8)) continue;
            std::uint64_t sum = 0;
            for (std::size_t b = 0; b < H::kBuckets; ++b) sum += s.bucket_count(b);
            if (sum != s.count() || (s.count() > 0 && s.max() != s.count())) bad.fetch_add(1, std::memory_order_relaxed);
        }
    });
    for (std::uint64_t i = 1; i <= 20000; ++i) g_hist.record(i);  // max == count at every point
    done.store(true, std::memory_order_release);
    reader.join();
    CHECK(bad.load() == 0);
    CHECK(g_hist.count() == 20000);
}
