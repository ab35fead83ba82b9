// SPDX-License-Identifier: MIT
// staticrt/diag/histogram.hpp — a fixed-size, log-linear latency histogram (HdrHistogram-like).
//
// Histogram<SubBits, RangeBits> counts unsigned 64-bit values (nanoseconds, by convention) in
// buckets whose width grows with the value: values below 2^SubBits are exact; above, every power
// of two is split into 2^(SubBits-1) equal buckets, so a reported value is within
// 1 / 2^(SubBits-1) of the true one (default SubBits = 7: 1.6 %, about two significant digits).
// Values at or above 2^RangeBits (default 2^40 ns, about 18 minutes) fall in the last bucket and
// are counted in overflow(); max() stays exact. No heap: the counters are a member array
// (default 2240 counters, 17.5 KiB).
//
// Thread roles: ONE recording thread (record(), merge(), reset()) and any number of readers
// (snapshot(), count()). record() is wait-free: a relaxed load + store per field, bracketed by a
// sequence counter (a seqlock). snapshot() copies the counters and retries while a record
// overlapped the copy, so a snapshot is consistent: its count() equals the sum of its buckets and
// its min/max/sum belong to the same set of samples. A reader can starve only while the recorder
// records without pause; snapshot() bounds its retries and reports Errc::would_block then.
//
// Snapshots are plain values: mergeable (merge()), queryable (value_at_percentile(), p50/p99/p999,
// min/max/mean) and safe to copy between threads.
//
// Memory ordering: [hist.begin]/[hist.end] (recorder) and [hist.read]/[hist.recheck] (reader) form
// a seqlock; see docs/memory-ordering.md, "Histogram".
//
//   staticrt::Histogram<> h;                      // recorder thread: h.record(late_ns);
//   staticrt::Histogram<>::Snapshot s;            // any thread:
//   if (h.snapshot(s)) std::printf("p99 %llu ns\n", (unsigned long long)s.p99());
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "staticrt/result.hpp"

namespace staticrt {

namespace detail {
[[nodiscard]] constexpr unsigned hist_bit_width(std::uint64_t v) noexcept {
    unsigned n = 0;
    while (v != 0) {
        v >>= 1;
        ++n;
    }
    return n;
}
}  // namespace detail

template <unsigned SubBits = 7, unsigned RangeBits = 40>
class Histogram {
    static_assert(SubBits >= 2 && SubBits <= 16, "Histogram SubBits must be in 2..16 (7 gives ~1.6 % precision)");
    static_assert(RangeBits > SubBits && RangeBits <= 63,
                  "Histogram RangeBits must exceed SubBits and be at most 63 (40 covers ~18 minutes of ns)");

public:
    static constexpr unsigned kSubBits = SubBits;
    static constexpr unsigned kRangeBits = RangeBits;
    static constexpr std::size_t kHalf = std::size_t{1} << (SubBits - 1);
    /// Number of buckets: 2^SubBits exact ones, then 2^(SubBits-1) per power of two up to 2^RangeBits.
    static constexpr std::size_t kBuckets = (std::size_t{1} << SubBits) + (RangeBits - SubBits) * kHalf;
    /// Largest value kept in its own bucket; larger values land in the last bucket (overflow()).
    static constexpr std::uint64_t kMaxTracked = (std::uint64_t{1} << RangeBits) - 1;

    /// Bucket of a value (values above kMaxTracked map to the last bucket).
    [[nodiscard]] static constexpr std::size_t bucket_of(std::uint64_t v) noexcept {
        if (v > kMaxTracked) v = kMaxTracked;
        if (v < (std::uint64_t{1} << SubBits)) return static_cast<std::size_t>(v);
        const unsigned width = detail::hist_bit_width(v);  // > SubBits
        const unsigned shift = width - SubBits;            // >= 1
        const std::size_t sub = static_cast<std::size_t>(v >> shift);  // in [kHalf, 2 kHalf)
        return (std::size_t{1} << SubBits) + (shift - 1) * kHalf + (sub - kHalf);
    }
    /// Smallest value of a bucket.
    [[nodiscard]] static constexpr std::uint64_t bucket_low(std::size_t b) noexcept {
        if (b < (std::size_t{1} << SubBits)) return b;
        const std::size_t k = b - (std::size_t{1} << SubBits);
        const unsigned shift = static_cast<unsigned>(k / kHalf) + 1;
        return static_cast<std::uint64_t>(kHalf + k % kHalf) << shift;
    }
    /// Largest value of a bucket.
    [[nodiscard]] static constexpr std::uint64_t bucket_high(std::size_t b) noexcept {
        if (b < (std::size_t{1} << SubBits)) return b;
        const std::size_t k = b - (std::size_t{1} << SubBits);
        const unsigned shift = static_cast<unsigned>(k / kHalf) + 1;
        return bucket_low(b) + ((std::uint64_t{1} << shift) - 1);
    }

    /// A consistent copy of a histogram: plain data, mergeable, queryable.
    class Snapshot {
    public:
        constexpr Snapshot() noexcept = default;

        [[nodiscard]] std::uint64_t count() const noexcept { return m_count; }
        [[nodiscard]] std::uint64_t overflow() const noexcept { return m_overflow; }
        /// Exact smallest / largest recorded value (0 when empty).
        [[nodiscard]] std::uint64_t min() const noexcept { return m_count == 0 ? 0 : m_min; }
        [[nodiscard]] std::uint64_t max() const noexcept { return m_max; }
        /// Exact mean (sum / count, sum saturating at 2^64-1); 0 when empty.
        [[nodiscard]] double mean() const noexcept {
            return m_count == 0 ? 0.0 : static_cast<double>(m_sum) / static_cast<double>(m_count);
        }
        [[nodiscard]] std::uint64_t bucket_count(std::size_t b) const noexcept { return b < kBuckets ? m_buckets[b] : 0; }

        /// The value at or below which `percentile` % of the samples lie: the highest value of the
        /// bucket holding that rank, never above max() (so p100 is exactly max()). 0 when empty;
        /// percentile is clamped to [0, 100].
        [[nodiscard]] std::uint64_t value_at_percentile(double percentile) const noexcept {
            if (m_count == 0) return 0;
            if (!(percentile > 0.0)) return min();
            if (percentile >= 100.0) return m_max;
            // rank = ceil(p/100 * count), at least 1
            const double exact = percentile / 100.0 * static_cast<double>(m_count);
            std::uint64_t rank = static_cast<std::uint64_t>(exact);
            if (static_cast<double>(rank) < exact) ++rank;
            if (rank == 0) rank = 1;
            std::uint64_t seen = 0;
            for (std::size_t b = 0; b < kBuckets; ++b) {
                seen += m_buckets[b];
                if (seen >= rank) {
                    const std::uint64_t high = bucket_high(b);
                    const std::uint64_t v = high < m_max ? high : m_max;
                    return v < min() ? min() : v;
                }
            }
            return m_max;
        }
        [[nodiscard]] std::uint64_t p50() const noexcept { return value_at_percentile(50.0); }
        [[nodiscard]] std::uint64_t p99() const noexcept { return value_at_percentile(99.0); }
        [[nodiscard]] std::uint64_t p999() const noexcept { return value_at_percentile(99.9); }

        /// Adds another snapshot's samples to this one (histograms of equal shape only).
        void merge(const Snapshot& other) noexcept {
            for (std::size_t b = 0; b < kBuckets; ++b) m_buckets[b] += other.m_buckets[b];
            if (other.m_count != 0) {
                if (m_count == 0 || other.m_min < m_min) m_min = other.m_min;
                if (other.m_max > m_max) m_max = other.m_max;
            }
            m_count += other.m_count;
            m_overflow += other.m_overflow;
            m_sum = sat_add(m_sum, other.m_sum);
        }
        /// Adds one value (for building a snapshot without a Histogram).
        void add(std::uint64_t v, std::uint64_t n = 1) noexcept {
            if (n == 0) return;
            m_buckets[bucket_of(v)] += n;
            if (m_count == 0 || v < m_min) m_min = v;
            if (v > m_max) m_max = v;
            m_count += n;
            if (v > kMaxTracked) m_overflow += n;
            m_sum = sat_add(m_sum, v * n);  // may wrap for absurd inputs; sum only feeds mean()
        }

    private:
        friend class Histogram;
        static constexpr std::uint64_t sat_add(std::uint64_t a, std::uint64_t b) noexcept {
            return a > std::numeric_limits<std::uint64_t>::max() - b ? std::numeric_limits<std::uint64_t>::max() : a + b;
        }
        std::uint64_t m_buckets[kBuckets] = {};
        std::uint64_t m_count = 0;
        std::uint64_t m_overflow = 0;
        std::uint64_t m_min = 0;
        std::uint64_t m_max = 0;
        std::uint64_t m_sum = 0;
    };

    // ---- lifetime: not copyable (take a snapshot()), usable as a global
    constexpr Histogram() noexcept = default;
    Histogram(const Histogram&) = delete;
    Histogram& operator=(const Histogram&) = delete;

    // ---- recorder thread only
    /// Counts one value. Wait-free; recorder thread only.
    void record(std::uint64_t v, std::uint64_t n = 1) noexcept {
        if (n == 0) return;
        begin_write();
        bump(m_buckets[bucket_of(v)], n);
        const std::uint64_t c = m_count.load(std::memory_order_relaxed);  // [hist.data] relaxed: own field
        if (c == 0 || v < m_min.load(std::memory_order_relaxed)) m_min.store(v, std::memory_order_relaxed);
        if (v > m_max.load(std::memory_order_relaxed)) m_max.store(v, std::memory_order_relaxed);
        if (v > kMaxTracked) bump(m_overflow, n);
        m_sum.store(Snapshot::sat_add(m_sum.load(std::memory_order_relaxed), v * n), std::memory_order_relaxed);
        m_count.store(c + n, std::memory_order_relaxed);
        end_write();
    }
    /// Records a signed value clamped at 0 (e.g. lateness that may come out negative).
    void record_signed(std::int64_t v) noexcept { record(v < 0 ? 0 : static_cast<std::uint64_t>(v)); }

    /// Adds a snapshot's samples (e.g. another thread's histogram). Recorder thread only.
    void merge(const Snapshot& s) noexcept {
        if (s.m_count == 0) return;
        begin_write();
        for (std::size_t b = 0; b < kBuckets; ++b)
            if (s.m_buckets[b] != 0) bump(m_buckets[b], s.m_buckets[b]);
        const std::uint64_t c = m_count.load(std::memory_order_relaxed);
        if (c == 0 || s.m_min < m_min.load(std::memory_order_relaxed)) m_min.store(s.m_min, std::memory_order_relaxed);
        if (s.m_max > m_max.load(std::memory_order_relaxed)) m_max.store(s.m_max, std::memory_order_relaxed);
        bump(m_overflow, s.m_overflow);
        m_sum.store(Snapshot::sat_add(m_sum.load(std::memory_order_relaxed), s.m_sum), std::memory_order_relaxed);
        m_count.store(c + s.m_count, std::memory_order_relaxed);
        end_write();
    }

    /// Forgets every sample. Recorder thread only.
    void reset() noexcept {
        begin_write();
        for (auto& b : m_buckets) b.store(0, std::memory_order_relaxed);
        m_count.store(0, std::memory_order_relaxed);
        m_overflow.store(0, std::memory_order_relaxed);
        m_min.store(0, std::memory_order_relaxed);
        m_max.store(0, std::memory_order_relaxed);
        m_sum.store(0, std::memory_order_relaxed);
        end_write();
    }

    // ---- any thread
    /// Copies a consistent snapshot into `out`. Errc::would_block when `max_tries` copies in a row
    /// overlapped a record() (the recorder never paused); `out` is then unspecified.
    [[nodiscard]] Result<void> snapshot(Snapshot& out, unsigned max_tries = 1000) const noexcept {
        for (unsigned t = 0; t < max_tries; ++t) {
            // [hist.read] acquire: pairs with [hist.end]; the data of every completed record is visible.
            const std::uint32_t s1 = m_seq.load(std::memory_order_acquire);
            if ((s1 & 1U) != 0) continue;  // a record is in progress
            for (std::size_t b = 0; b < kBuckets; ++b) out.m_buckets[b] = m_buckets[b].load(std::memory_order_relaxed);
            out.m_count = m_count.load(std::memory_order_relaxed);
            out.m_overflow = m_overflow.load(std::memory_order_relaxed);
            out.m_min = m_min.load(std::memory_order_relaxed);
            out.m_max = m_max.load(std::memory_order_relaxed);
            out.m_sum = m_sum.load(std::memory_order_relaxed);
            // [hist.recheck] acquire fence: orders the data loads above before the re-load of the
            // sequence; pairs with the release fence in [hist.begin]: if any loaded value came from
            // a record that began after s1, the re-load sees the odd (or later) sequence.
            std::atomic_thread_fence(std::memory_order_acquire);
            if (m_seq.load(std::memory_order_relaxed) == s1) return ok();
        }
        return unexpected(Errc::would_block);
    }
    /// A snapshot by value (retries as snapshot(out) does; empty on Errc::would_block).
    [[nodiscard]] Snapshot snapshot_or_empty() const noexcept {
        Snapshot s;
        if (!snapshot(s)) s = Snapshot{};
        return s;
    }
    /// Samples recorded so far (a relaxed read; exact for the recorder thread).
    [[nodiscard]] std::uint64_t count() const noexcept { return m_count.load(std::memory_order_relaxed); }

private:
    void begin_write() noexcept {
        const std::uint32_t s = m_seq.load(std::memory_order_relaxed);  // own field
        m_seq.store(s + 1, std::memory_order_relaxed);
        // [hist.begin] release fence: the odd sequence is ordered before every data store of this
        // record; pairs with the reader's [hist.recheck] acquire fence.
        std::atomic_thread_fence(std::memory_order_release);
    }
    void end_write() noexcept {
        // [hist.end] release: publishes this record's data with the even sequence; pairs with [hist.read].
        m_seq.store(m_seq.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    }
    static void bump(std::atomic<std::uint64_t>& a, std::uint64_t n) noexcept {
        // [hist.data] relaxed load+store: single writer, so no read-modify-write is needed.
        a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }

    std::atomic<std::uint32_t> m_seq{0};  ///< odd while a record is in progress
    std::atomic<std::uint64_t> m_count{0};
    std::atomic<std::uint64_t> m_overflow{0};
    std::atomic<std::uint64_t> m_min{0};
    std::atomic<std::uint64_t> m_max{0};
    std::atomic<std::uint64_t> m_sum{0};
    std::atomic<std::uint64_t> m_buckets[kBuckets] = {};
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
              "Histogram needs lock-free 64-bit atomics (armv7-a and later have them)");

/// The default latency histogram: ns values, 1.6 % precision, up to ~18 minutes.
using LatencyHistogram = Histogram<>;

}  // namespace staticrt
