// SPDX-License-Identifier: MIT
// The timeout-and-close storm, over ScqQueue, TicketQueue and MpmcQueue: many producers and consumers, every
// push and pop with a random short deadline (or none, or a poll), and a close() at a random
// moment. Afterwards every item whose push succeeded was popped exactly once, and no item whose
// push failed was popped at all (per-item counters). A push or pop that gives up (deadline,
// close) must leave the queue consistent: a lost item shows as a count of 0, a duplicate as 2,
// and a leaked cell in the rounds without a close as a queue that takes fewer than N elements
// once every thread has left (the fill check).
// Bounded run time: each round stops at a fixed item budget or at its close.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "staticrt/queue/mpmc_queue.hpp"
#include "staticrt/queue/scq_queue.hpp"
#include "staticrt/queue/ticket_queue.hpp"
#include "watchdog.hpp"

using staticrt::Deadline;
using staticrt::Errc;

namespace {

constexpr int kShift = 32;

Deadline random_deadline(std::mt19937& rng, bool allow_never = true) {
    switch (rng() % 4) {
        case 0: return Deadline::poll();
        case 1: return allow_never ? Deadline::never() : Deadline::after(std::chrono::milliseconds(1));
        default: return Deadline::after(std::chrono::microseconds(rng() % 200));
    }
}

template <class Q>
void storm(int producers, int consumers, int rounds, bool close) {
    staticrt::test::Watchdog wd{std::chrono::seconds(180)};
    const std::uint64_t per = static_cast<std::uint64_t>(staticrt::test::scaled(4'000, 200));
    for (int round = 0; round < rounds; ++round) {
        const unsigned seed = std::random_device{}();
        SCOPED_TRACE("seed " + std::to_string(seed) + " round " + std::to_string(round));
        auto q = std::make_unique<Q>();
        // accepted[p][i]: written by producer p only (read after join); popped[p][i]: counters.
        std::vector<std::vector<char>> accepted(static_cast<std::size_t>(producers), std::vector<char>(per, 0));
        std::vector<std::unique_ptr<std::atomic<std::uint32_t>[]>> popped;
        for (int p = 0; p < producers; ++p) popped.emplace_back(new std::atomic<std::uint32_t>[per]());
        std::atomic<int> bad_error{0}, out_of_range{0}, producers_done{0};
        std::atomic<std::uint64_t> total_popped{0};
        std::vector<std::thread> ts;
        for (int p = 0; p < producers; ++p)
            ts.emplace_back([&, p] {
                std::mt19937 rng(seed + 1000u * static_cast<unsigned>(p));
                for (std::uint64_t i = 0; i < per; ++i) {
                    const std::uint64_t v = (static_cast<std::uint64_t>(p) << kShift) | i;
                    bool ok;
                    Errc code = Errc::timeout;
                    if (rng() % 5 == 0) {
                        ok = q->try_push(v);
                    } else {
                        const auto r = q->push(v, random_deadline(rng));
                        ok = static_cast<bool>(r);
                        if (!ok) code = r.code();
                    }
                    if (ok) {
                        accepted[static_cast<std::size_t>(p)][i] = 1;
                    } else if (code == Errc::closed) {
                        break;
                    } else if (code != Errc::timeout) {
                        bad_error.fetch_add(1);
                    }
                }
                producers_done.fetch_add(1);
            });
        for (int c = 0; c < consumers; ++c)
            ts.emplace_back([&, c] {
                std::mt19937 rng(seed + 7u + 1000u * static_cast<unsigned>(producers + c));
                for (;;) {
                    // Without a close: leave once every producer is done; the main thread takes
                    // what is left.
                    if (!close && producers_done.load() == producers) break;
                    std::uint64_t v = 0;
                    bool ok;
                    Errc code = Errc::timeout;
                    if (rng() % 5 == 0) {
                        ok = q->try_pop(v);
                        // try_pop cannot tell closed from empty: ask a polling pop once closed.
                        if (!ok && q->closed()) {
                            const auto r = q->pop(v, Deadline::poll());
                            ok = static_cast<bool>(r);
                            if (!ok && r.code() == Errc::closed) break;
                        }
                    } else {
                        const auto r = q->pop(v, random_deadline(rng, close));  // no close: nothing ends a never
                        ok = static_cast<bool>(r);
                        if (!ok) code = r.code();
                        if (!ok && code == Errc::closed) break;
                        if (!ok && code != Errc::timeout) bad_error.fetch_add(1);
                    }
                    if (!ok) continue;
                    const auto p = static_cast<std::size_t>(v >> kShift);
                    const std::uint64_t i = v & ((std::uint64_t{1} << kShift) - 1);
                    if (p >= static_cast<std::size_t>(producers) || i >= per) {
                        out_of_range.fetch_add(1);
                        continue;
                    }
                    popped[p][i].fetch_add(1, std::memory_order_relaxed);
                    total_popped.fetch_add(1, std::memory_order_relaxed);
                }
            });
        // The closer: at a random moment (possibly after every producer finished).
        std::mt19937 rng(seed);
        const std::uint64_t wait_items = rng() % (per * static_cast<std::uint64_t>(producers));
        while (total_popped.load(std::memory_order_relaxed) < wait_items && producers_done.load() != producers)
            std::this_thread::yield();
        if (close) q->close();
        for (auto& t : ts) t.join();
        if (!close) {
            // Single-threaded now: take the rest, then the queue must hold exactly N again (a
            // push or pop that gave up must not have kept a cell), then close.
            std::uint64_t v = 0;
            while (q->try_pop(v)) {
                const auto p = static_cast<std::size_t>(v >> kShift);
                const std::uint64_t i = v & ((std::uint64_t{1} << kShift) - 1);
                if (p < static_cast<std::size_t>(producers) && i < per) popped[p][i].fetch_add(1);
                else out_of_range.fetch_add(1);
            }
            std::size_t room = 0;
            while (q->try_push(std::uint64_t{0})) ++room;
            EXPECT_EQ(room, Q::capacity());
            for (std::size_t k = 0; k < room; ++k) ASSERT_TRUE(q->try_pop(v));
            q->close();
        }
        ASSERT_EQ(bad_error.load(), 0);
        ASSERT_EQ(out_of_range.load(), 0);
        for (int p = 0; p < producers; ++p)
            for (std::uint64_t i = 0; i < per; ++i) {
                const auto pp = static_cast<std::size_t>(p);
                const std::uint32_t n = popped[pp][i].load();
                const std::uint32_t want = accepted[pp][i] != 0 ? 1u : 0u;
                ASSERT_EQ(n, want) << "producer " << p << " item " << i << (want ? " (pushed)" : " (push failed)");
            }
        EXPECT_EQ(q->size_approx(), 0u);
        std::uint64_t v = 0;
        EXPECT_FALSE(q->try_pop(v));
        EXPECT_EQ(q->pop(v, Deadline::poll()).code(), Errc::closed);
    }
}

}  // namespace

TEST(QueueStorm, Scq_TimeoutsAndClose_6Producers6Consumers_ExactlyOnce) {
    storm<staticrt::ScqQueue<std::uint64_t, 8>>(6, 6, static_cast<int>(staticrt::test::scaled(12, 3)), true);
}

TEST(QueueStorm, ScqCompact_TimeoutsAndClose_6Producers6Consumers_ExactlyOnce) {
    storm<staticrt::CompactScqQueue<std::uint64_t, 16>>(6, 6, static_cast<int>(staticrt::test::scaled(12, 3)), true);
}

TEST(QueueStorm, Scq_TimeoutsAndClose_CapacityOne_ExactlyOnce) {
    storm<staticrt::ScqQueue<std::uint64_t, 1>>(4, 4, static_cast<int>(staticrt::test::scaled(8, 2)), true);
}

TEST(QueueStorm, Scq_TimeoutsOnly_NoCellLeaked_ExactlyOnce) {
    storm<staticrt::ScqQueue<std::uint64_t, 4>>(5, 5, static_cast<int>(staticrt::test::scaled(6, 2)), false);
}

// TicketQueue as shipped (tickets only when CASes collide) and with every never-deadline call
// taking a ticket, so that ticket producers wait on full cells and leave at the close.
template <class T, std::size_t N>
using TicketAlways = staticrt::detail::TicketRing<T, N, staticrt::detail::OsWaitPolicy, staticrt::WaitScope::process_private, 0>;

TEST(QueueStorm, Ticket_TimeoutsAndClose_6Producers6Consumers_ExactlyOnce) {
    storm<staticrt::TicketQueue<std::uint64_t, 8>>(6, 6, static_cast<int>(staticrt::test::scaled(6, 2)), true);
}

TEST(QueueStorm, TicketAlways_TimeoutsAndClose_6Producers6Consumers_ExactlyOnce) {
    storm<TicketAlways<std::uint64_t, 8>>(6, 6, static_cast<int>(staticrt::test::scaled(8, 2)), true);
}

TEST(QueueStorm, TicketAlways_TimeoutsAndClose_CapacityOne_ExactlyOnce) {
    storm<TicketAlways<std::uint64_t, 1>>(4, 4, static_cast<int>(staticrt::test::scaled(8, 2)), true);
}

TEST(QueueStorm, TicketAlways_TimeoutsOnly_NoCellLeaked_ExactlyOnce) {
    storm<TicketAlways<std::uint64_t, 4>>(5, 5, static_cast<int>(staticrt::test::scaled(6, 2)), false);
}

TEST(QueueStorm, Mpmc_TimeoutsAndClose_6Producers6Consumers_ExactlyOnce) {
    storm<staticrt::MpmcQueue<std::uint64_t, 8>>(6, 6, static_cast<int>(staticrt::test::scaled(6, 2)), true);
}

// SCQ's index ring alone under real threads: 2 indices in a ring of 4 entries, each thread takes
// one and puts it back as fast as it can. Every entry is passed again and again by dequeuers of
// later cycles while an older index still sits in it; an index written behind a dequeuer that
// already passed its position would be lost for good. Afterwards both indices are there, once.
TEST(QueueStorm, ScqIndexRing_Churn4Threads_EveryIndexKept) {
    staticrt::test::Watchdog wd{std::chrono::seconds(120)};
    using Ring = staticrt::detail::ScqIndexRing<2, staticrt::detail::OsWaitPolicy>;
    for (int round = 0; round < static_cast<int>(staticrt::test::scaled(20, 2)); ++round) {
        auto ring = std::make_unique<Ring>();
        ASSERT_EQ(ring->enqueue(0), Ring::Enq::ok);
        ASSERT_EQ(ring->enqueue(1), Ring::Enq::ok);
        std::atomic<int> bad{0};
        std::vector<std::thread> ts;
        for (int t = 0; t < 4; ++t)
            ts.emplace_back([&] {
                for (int k = 0; k < 20'000; ++k) {
                    const std::uint32_t i = ring->dequeue();
                    if (i == Ring::kEmpty) continue;
                    if (i >= 2 || ring->enqueue(i) != Ring::Enq::ok) bad.fetch_add(1);
                }
            });
        for (auto& t : ts) t.join();
        ASSERT_EQ(bad.load(), 0);
        const std::uint64_t limit = ring->tail_position() + 1;
        int seen[2] = {0, 0};
        for (std::uint32_t i; (i = ring->dequeue(limit)) != Ring::kEmpty;) {
            ASSERT_LT(i, 2u);
            ++seen[i];
        }
        ASSERT_EQ(seen[0], 1) << "round " << round;
        ASSERT_EQ(seen[1], 1) << "round " << round;
    }
}
