// SPDX-License-Identifier: MIT
// Queue stress: several producers and consumers, tagged items (producer << 40 | sequence).
// Checks that nothing is lost or duplicated (count, sum and xor), that each consumer sees
// each producer's items in increasing order (FIFO per producer), and close() under load.
// Iterations scale with STATICRT_STRESS_SCALE.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

#include "staticrt/queue/joinable_queue.hpp"
#include "staticrt/queue/mpmc_queue.hpp"
#include "staticrt/queue/scq_queue.hpp"
#include "staticrt/queue/spsc_queue.hpp"
#include "staticrt/queue/ticket_queue.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;

namespace {

constexpr int kShift = 40;

struct Totals {
    std::atomic<std::uint64_t> count{0}, sum{0}, xr{0};
    void add(std::uint64_t c, std::uint64_t s, std::uint64_t x) {
        count += c;
        sum += s;
        xr ^= x;
    }
};

/// P producers push `per` items each through push() (or try_push when `use_try`), C consumers
/// pop until closed; the last producer to finish closes the queue.
template <class Q>
void run_mpmc(int producers, int consumers, std::uint64_t per, bool use_try) {
    staticrt::test::Watchdog wd{std::chrono::seconds(240)};
    static Q q;  // large: keep it off the stack; reset by reconstructing
    q.~Q();
    ::new (&q) Q();
    Totals expected, got;
    std::atomic<int> producers_left{producers};
    std::vector<std::thread> ts;
    for (int p = 0; p < producers; ++p)
        ts.emplace_back([&, p] {
            std::uint64_t s = 0, x = 0;
            for (std::uint64_t i = 1; i <= per; ++i) {
                const std::uint64_t v = (static_cast<std::uint64_t>(p) << kShift) | i;
                if (use_try) {
                    while (!q.try_push(v)) std::this_thread::yield();
                } else {
                    ASSERT_TRUE(q.push(v));
                }
                s += v;
                x ^= v;
            }
            expected.add(per, s, x);
            if (producers_left.fetch_sub(1) == 1) q.close();
        });
    for (int c = 0; c < consumers; ++c)
        ts.emplace_back([&] {
            std::vector<std::uint64_t> last(static_cast<std::size_t>(producers), 0);
            std::uint64_t n = 0, s = 0, x = 0;
            for (;;) {
                auto r = q.pop();
                if (!r) {
                    EXPECT_EQ(r.code(), Errc::closed);
                    break;
                }
                const std::uint64_t v = *r;
                const auto p = static_cast<std::size_t>(v >> kShift);
                const std::uint64_t seq = v & ((std::uint64_t{1} << kShift) - 1);
                ASSERT_LT(p, last.size());
                ASSERT_GT(seq, last[p]) << "producer " << p << " out of order";
                last[p] = seq;
                ++n;
                s += v;
                x ^= v;
            }
            got.add(n, s, x);
        });
    for (auto& t : ts) t.join();
    EXPECT_EQ(got.count.load(), expected.count.load());
    EXPECT_EQ(got.count.load(), per * static_cast<std::uint64_t>(producers));
    EXPECT_EQ(got.sum.load(), expected.sum.load());
    EXPECT_EQ(got.xr.load(), expected.xr.load());
}

}  // namespace

TEST(QueueStress, Spsc_OneToOne_ExactOrderAndSum) {
    staticrt::test::Watchdog wd{std::chrono::seconds(240)};
    static staticrt::SpscQueue<std::uint64_t, 64> q;
    const auto n = static_cast<std::uint64_t>(staticrt::test::scaled(2'000'000));
    std::thread producer([&] {
        for (std::uint64_t i = 1; i <= n; ++i) {
            if (i % 3 == 0) {
                while (!q.try_push(i)) {}
            } else {
                ASSERT_TRUE(q.push(i));
            }
        }
        q.close();
    });
    std::uint64_t expect = 1;
    for (;;) {
        std::uint64_t v = 0;
        const auto r = (expect % 5 == 0) ? q.pop(v, Deadline::after(std::chrono::milliseconds(1))) : q.pop(v);
        if (!r) {
            if (r.code() == Errc::timeout) continue;
            EXPECT_EQ(r.code(), Errc::closed);
            break;
        }
        ASSERT_EQ(v, expect);
        ++expect;
    }
    EXPECT_EQ(expect, n + 1);
    producer.join();
}

TEST(QueueStress, Spsc_Batches_ExactOrder) {
    staticrt::test::Watchdog wd{std::chrono::seconds(240)};
    static staticrt::SpscQueue<std::uint64_t, 32> q;
    const auto n = static_cast<std::uint64_t>(staticrt::test::scaled(1'000'000));
    std::thread producer([&] {
        std::uint64_t buf[7];
        std::uint64_t next = 1;
        while (next <= n) {
            std::size_t k = 0;
            for (; k < 7 && next + k <= n; ++k) buf[k] = next + k;
            next += q.try_push_n(std::span<const std::uint64_t>(buf, k));
        }
    });
    std::uint64_t expect = 1;
    std::uint64_t out[5];
    while (expect <= n) {
        const std::size_t k = q.try_pop_n(std::span<std::uint64_t>(out));
        for (std::size_t i = 0; i < k; ++i) ASSERT_EQ(out[i], expect++);
    }
    producer.join();
}

TEST(QueueStress, Mpmc_4Producers4Consumers_NothingLostFifoPerProducer) {
    run_mpmc<staticrt::MpmcQueue<std::uint64_t, 64>>(4, 4, staticrt::test::scaled(250'000), false);
}

TEST(QueueStress, Mpmc_TinyCapacity_3Producers2Consumers) {
    run_mpmc<staticrt::MpmcQueue<std::uint64_t, 2>>(3, 2, staticrt::test::scaled(100'000), false);
}

TEST(QueueStress, Mpmc_TryPushWithBlockingPop_NothingLost) {
    run_mpmc<staticrt::MpmcQueue<std::uint64_t, 16>>(2, 3, staticrt::test::scaled(200'000), true);
}

namespace {
template <class Q>
void close_under_load() {
    staticrt::test::Watchdog wd{std::chrono::seconds(120)};
    for (int round = 0; round < staticrt::test::scaled(20); ++round) {
        Q q;
        Totals accepted, got;
        std::vector<std::thread> ts;
        for (int p = 0; p < 3; ++p)
            ts.emplace_back([&, p] {
                std::uint64_t n = 0, s = 0, x = 0;
                for (std::uint64_t i = 1;; ++i) {
                    const std::uint64_t v = (static_cast<std::uint64_t>(p) << kShift) | i;
                    const auto r = q.push(v);
                    if (!r) {
                        EXPECT_EQ(r.code(), Errc::closed);
                        break;
                    }
                    ++n;
                    s += v;
                    x ^= v;
                }
                accepted.add(n, s, x);
            });
        for (int c = 0; c < 2; ++c)
            ts.emplace_back([&] {
                std::uint64_t n = 0, s = 0, x = 0;
                while (auto r = q.pop()) {
                    ++n;
                    s += *r;
                    x ^= *r;
                }
                got.add(n, s, x);
            });
        std::this_thread::sleep_for(std::chrono::milliseconds(2 + round % 5));
        q.close();
        for (auto& t : ts) t.join();
        ASSERT_EQ(got.count.load(), accepted.count.load());
        ASSERT_EQ(got.sum.load(), accepted.sum.load());
        ASSERT_EQ(got.xr.load(), accepted.xr.load());
    }
}
}  // namespace

TEST(QueueStress, Mpmc_CloseUnderLoad_AcceptedEqualsPopped) { close_under_load<staticrt::MpmcQueue<std::uint64_t, 8>>(); }

TEST(QueueStress, Scq_4Producers4Consumers_NothingLostFifoPerProducer) {
    run_mpmc<staticrt::ScqQueue<std::uint64_t, 64>>(4, 4, staticrt::test::scaled(250'000), false);
}

TEST(QueueStress, ScqCompact_4Producers4Consumers_NothingLostFifoPerProducer) {
    run_mpmc<staticrt::CompactScqQueue<std::uint64_t, 64>>(4, 4, staticrt::test::scaled(250'000), false);
}

TEST(QueueStress, Scq_TinyCapacity_3Producers2Consumers) {
    run_mpmc<staticrt::ScqQueue<std::uint64_t, 2>>(3, 2, staticrt::test::scaled(100'000), false);
}

TEST(QueueStress, Scq_CapacityOne_2Producers2Consumers) {
    run_mpmc<staticrt::ScqQueue<std::uint64_t, 1>>(2, 2, staticrt::test::scaled(50'000), false);
}

TEST(QueueStress, Scq_TryPushWithBlockingPop_NothingLost) {
    run_mpmc<staticrt::ScqQueue<std::uint64_t, 16>>(2, 3, staticrt::test::scaled(200'000), true);
}

TEST(QueueStress, Scq_CloseUnderLoad_AcceptedEqualsPopped) { close_under_load<staticrt::ScqQueue<std::uint64_t, 8>>(); }

TEST(QueueStress, Ticket_6Producers6Consumers_NothingLostFifoPerProducer) {
    run_mpmc<staticrt::TicketQueue<std::uint64_t, 64>>(6, 6, staticrt::test::scaled(150'000), false);
}

TEST(QueueStress, TicketAlways_4Producers4Consumers_NothingLostFifoPerProducer) {
    run_mpmc<staticrt::detail::TicketRing<std::uint64_t, 16, staticrt::detail::OsWaitPolicy,
                                          staticrt::WaitScope::process_private, 0>>(4, 4, staticrt::test::scaled(150'000), false);
}

TEST(QueueStress, TicketAlways_CapacityOne_3Producers3Consumers) {
    run_mpmc<staticrt::detail::TicketRing<std::uint64_t, 1, staticrt::detail::OsWaitPolicy,
                                          staticrt::WaitScope::process_private, 0>>(3, 3, staticrt::test::scaled(50'000), false);
}

TEST(QueueStress, Ticket_CloseUnderLoad_AcceptedEqualsPopped) { close_under_load<staticrt::TicketQueue<std::uint64_t, 8>>(); }

TEST(QueueStress, Joinable_ProducersWorkersJoin_AllDone) {
    // Exact: every item is processed exactly once (a seen-counter per item), task_done() is
    // called once per push, and join() returns only after the last task_done() of its round:
    // at its return every item of the round is marked and counted (the workers mark and count
    // BEFORE task_done(), which happens-before join() returns). Several rounds, so join() parks
    // and is woken more than once.
    staticrt::test::Watchdog wd{std::chrono::seconds(120)};
    static staticrt::JoinableQueue<std::uint64_t, 32> q;
    constexpr int kProducers = 2, kRounds = 4;
    const auto per = static_cast<std::uint64_t>(staticrt::test::scaled(12'500)) + 1;  // per producer and round
    const std::uint64_t per_round = kProducers * per;
    std::vector<std::atomic<std::uint8_t>> seen(kRounds * per_round);
    std::atomic<std::uint64_t> finished{0}, done_ok{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < 3; ++w)
        workers.emplace_back([&] {
            while (auto r = q.pop()) {
                ASSERT_LT(*r, seen.size());
                seen[*r].fetch_add(1, std::memory_order_relaxed);
                finished.fetch_add(1, std::memory_order_relaxed);
                if (q.task_done()) done_ok.fetch_add(1, std::memory_order_relaxed);
            }
        });
    for (int round = 0; round < kRounds; ++round) {
        std::vector<std::thread> producers;
        for (int p = 0; p < kProducers; ++p)
            producers.emplace_back([&, p] {
                const std::uint64_t base = round * per_round + p * per;
                for (std::uint64_t i = 0; i < per; ++i) ASSERT_TRUE(q.push(base + i));
            });
        for (auto& t : producers) t.join();
        ASSERT_TRUE(q.join());
        // [test.join] the relaxed counters are read after join(): [join.done]/[join.wait] order them.
        ASSERT_EQ(finished.load(std::memory_order_relaxed), (round + 1) * per_round) << "join() returned early";
        EXPECT_EQ(q.unfinished(), 0u);
        std::uint64_t missing = 0, twice = 0;
        for (std::uint64_t k = round * per_round; k < (round + 1) * per_round; ++k) {
            const auto n = seen[k].load(std::memory_order_relaxed);
            missing += n == 0;
            twice += n > 1;
        }
        ASSERT_EQ(missing, 0u) << "round " << round;
        ASSERT_EQ(twice, 0u) << "round " << round;
    }
    q.close();
    for (auto& t : workers) t.join();
    EXPECT_EQ(done_ok.load(), kRounds * per_round);  // every task_done() succeeded, once per push
    EXPECT_EQ(finished.load(), kRounds * per_round);
    EXPECT_EQ(q.task_done().code(), Errc::over_release);  // one more than pushed is refused
}
