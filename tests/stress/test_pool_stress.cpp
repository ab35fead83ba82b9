// SPDX-License-Identifier: MIT
// ThreadPool stress: many tasks from several submitters, every future resolved exactly once;
// shutdown (drain and cancel) under load loses no future.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "staticrt/exec/thread_pool.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::ShutdownMode;

namespace {

using Pool = staticrt::ThreadPool<2, 1024, 256 * 1024, 64, 4096>;

TEST(PoolStress, TenMillionTasks_FourSubmitters_EveryFutureResolvedOnce) {
    staticrt::test::Watchdog wd{600s, "PoolStress.TenMillionTasks"};
    auto pool = std::make_unique<Pool>();
    ASSERT_TRUE(pool->start({}));
    constexpr int kSubmitters = 4;
    const long long total = staticrt::test::scaled(10'000'000, 4000);
    const long long per = total / kSubmitters;
    std::printf("tasks: %lld (%d submitters)\n", per * kSubmitters, kSubmitters);
    std::vector<std::atomic<std::uint8_t>> runs(static_cast<std::size_t>(per * kSubmitters));
    std::atomic<long long> sum{0};
    std::atomic<long long> got{0};
    std::vector<std::thread> threads;
    for (int s = 0; s < kSubmitters; ++s) {
        threads.emplace_back([&, s] {
            // Keep a window of futures in flight; consume them in submission order.
            constexpr std::size_t kWindow = 512;
            std::vector<staticrt::Future<long long>> window(kWindow);
            long long local = 0;
            for (long long i = 0; i < per; ++i) {
                const long long id = s * per + i;
                auto& slot = window[static_cast<std::size_t>(i) % kWindow];
                if (slot.valid()) {
                    auto v = slot.get();
                    ASSERT_TRUE(v);
                    local += *v;
                    got.fetch_add(1, std::memory_order_relaxed);
                }
                auto f = pool->submit(Deadline::never(), [&runs, id] {
                    runs[static_cast<std::size_t>(id)].fetch_add(1, std::memory_order_relaxed);
                    return id;
                });
                ASSERT_TRUE(f) << staticrt::to_string(f.code());
                slot = std::move(*f);
            }
            for (auto& f : window) {
                if (!f.valid()) continue;
                auto v = f.get();
                ASSERT_TRUE(v);
                local += *v;
                got.fetch_add(1, std::memory_order_relaxed);
            }
            sum.fetch_add(local);
        });
    }
    for (auto& t : threads) t.join();
    const long long n = per * kSubmitters;
    EXPECT_EQ(got.load(), n);
    EXPECT_EQ(sum.load(), n * (n - 1) / 2);
    std::size_t bad = 0;
    for (auto& r : runs) bad += r.load() != 1;
    EXPECT_EQ(bad, 0u);
    ASSERT_TRUE(pool->wait_idle());
    std::uint64_t ran = 0;
    for (std::size_t w = 0; w < pool->worker_count(); ++w) ran += pool->stats(w).tasks_run;
    EXPECT_EQ(ran, static_cast<std::uint64_t>(n));
}

// Home result slots under churn: 16 cells, 16 slots (every cell has a home slot, no free list),
// four submitters each holding up to three futures, freed in random order by get() or by
// dropping them, submitting with poll / short / no deadlines. Busy home slots make submitters
// send cells out empty and walk on or wait. Every accepted task runs once, every refused one
// never, every consumed value is its own, and the stats count tasks only.
TEST(PoolStress, HomeSlots_RandomHoldsAndDrops_EveryAcceptedTaskOnce) {
    staticrt::test::Watchdog wd{300s, "PoolStress.HomeSlots"};
    using Small = staticrt::ThreadPool<2, 16, 256 * 1024, 64, 16>;
    auto pool = std::make_unique<Small>();
    ASSERT_TRUE(pool->start({}));
    constexpr int kSubmitters = 4;
    const long long per = staticrt::test::scaled(200'000, 2000);
    std::vector<std::atomic<std::uint8_t>> runs(static_cast<std::size_t>(per * kSubmitters));
    std::atomic<long long> accepted{0}, refused{0}, checked{0};
    std::vector<std::thread> threads;
    for (int s = 0; s < kSubmitters; ++s) {
        threads.emplace_back([&, s] {
            std::uint64_t rng = 0x9e3779b97f4a7c15ull * static_cast<std::uint64_t>(s + 1);
            auto next = [&rng] {
                rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
                return rng;
            };
            staticrt::Future<long long> held[3];
            long long ids[3] = {};
            for (long long i = 0; i < per; ++i) {
                const long long id = s * per + i;
                auto& slot = held[next() % 3];
                auto& slot_id = ids[&slot - held];
                if (slot.valid()) {
                    if (next() % 4 == 0) {
                        slot.reset();  // dropped: the worker frees the slot when it writes
                    } else {
                        auto v = slot.get(Deadline::after(60s));
                        ASSERT_TRUE(v) << staticrt::to_string(v.code());
                        EXPECT_EQ(*v, slot_id);
                        checked.fetch_add(1, std::memory_order_relaxed);
                    }
                }
                const std::uint64_t kind = next() % 3;
                const Deadline d = kind == 0 ? Deadline::poll()
                                   : kind == 1 ? Deadline::after(std::chrono::microseconds(200))
                                               : Deadline::never();
                auto f = pool->submit(d, [&runs, id] {
                    runs[static_cast<std::size_t>(id)].fetch_add(1, std::memory_order_relaxed);
                    return id;
                });
                if (!f) {
                    EXPECT_TRUE(f.code() == Errc::exhausted || f.code() == Errc::full || f.code() == Errc::timeout)
                        << staticrt::to_string(f.code());
                    refused.fetch_add(1, std::memory_order_relaxed);
                    runs[static_cast<std::size_t>(id)].fetch_add(100, std::memory_order_relaxed);  // never to run
                    continue;
                }
                accepted.fetch_add(1, std::memory_order_relaxed);
                slot = std::move(*f);
                slot_id = id;
            }
            for (int k = 0; k < 3; ++k) {
                if (!held[k].valid()) continue;
                auto v = held[k].get(Deadline::after(60s));
                ASSERT_TRUE(v);
                EXPECT_EQ(*v, ids[k]);
            }
        });
    }
    for (auto& t : threads) t.join();
    ASSERT_TRUE(pool->wait_idle(Deadline::after(60s)));
    std::size_t bad = 0;
    for (auto& r : runs) bad += r.load() != 1 && r.load() != 100;
    EXPECT_EQ(bad, 0u);
    std::uint64_t ran = 0;
    for (std::size_t w = 0; w < pool->worker_count(); ++w) ran += pool->stats(w).tasks_run;
    EXPECT_EQ(ran, static_cast<std::uint64_t>(accepted.load()));
    EXPECT_EQ(accepted.load() + refused.load(), per * kSubmitters);
    std::printf("home slots: %lld accepted, %lld refused, %lld values checked\n", accepted.load(), refused.load(),
                checked.load());
}

void shutdown_under_load(ShutdownMode mode) {
    staticrt::test::Watchdog wd{300s, "PoolStress.ShutdownUnderLoad"};
    const int rounds = static_cast<int>(staticrt::test::scaled(40, 4));
    for (int round = 0; round < rounds; ++round) {
        auto pool = std::make_unique<Pool>();
        ASSERT_TRUE(pool->start({}));
        std::atomic<bool> stop{false};
        std::atomic<long long> resolved{0}, closed{0}, submitted{0}, refused{0};
        std::vector<std::thread> threads;
        for (int s = 0; s < 3; ++s) {
            threads.emplace_back([&] {
                std::vector<staticrt::Future<int>> mine;
                mine.reserve(4096);
                while (!stop.load(std::memory_order_relaxed) && mine.size() < 1000) {
                    auto f = pool->submit(Deadline::after(1s), [] {
                        volatile int x = 0;
                        for (int i = 0; i < 50; ++i) x = x + i;
                        return 1;
                    });
                    if (!f) {
                        EXPECT_TRUE(f.error() == Errc::closed || f.error() == Errc::timeout) << staticrt::to_string(f.code());
                        refused.fetch_add(1);
                        break;
                    }
                    submitted.fetch_add(1);
                    mine.push_back(std::move(*f));
                }
                for (auto& f : mine) {
                    auto v = f.get(Deadline::after(60s));
                    if (v) resolved.fetch_add(1);
                    else if (v.error() == Errc::closed) closed.fetch_add(1);
                    else ADD_FAILURE() << "future ended with " << staticrt::to_string(v.code());
                }
            });
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200 + 97 * round));
        EXPECT_TRUE(pool->shutdown(mode));
        stop.store(true);
        for (auto& t : threads) t.join();
        EXPECT_EQ(resolved.load() + closed.load(), submitted.load());
        if (mode == ShutdownMode::drain) {
            EXPECT_EQ(closed.load(), 0);
        }
    }
}

TEST(PoolStress, ShutdownDrainUnderLoad_EveryFutureResolves) { shutdown_under_load(ShutdownMode::drain); }
TEST(PoolStress, ShutdownCancelUnderLoad_EveryFutureResolvesOrReportsClosed) {
    shutdown_under_load(ShutdownMode::cancel);
}

TEST(PoolStress, MapRepeated_FromTwoCallers_IsExact) {
    staticrt::test::Watchdog wd{300s, "PoolStress.MapRepeated"};
    auto pool = std::make_unique<Pool>();
    ASSERT_TRUE(pool->start({}));
    const int rounds = static_cast<int>(staticrt::test::scaled(2000, 50));
    std::vector<std::thread> callers;
    for (int c = 0; c < 2; ++c) {
        callers.emplace_back([&] {
            std::vector<int> in(1000), out(1000);
            for (int r = 0; r < rounds; ++r) {
                for (int i = 0; i < 1000; ++i) in[static_cast<std::size_t>(i)] = i + r;
                ASSERT_TRUE(pool->map([](int x) { return 2 * x; }, std::span<const int>(in), std::span<int>(out),
                                      static_cast<std::size_t>(1 + r % 97)));
                for (int i = 0; i < 1000; ++i) ASSERT_EQ(out[static_cast<std::size_t>(i)], 2 * (i + r));
            }
        });
    }
    for (auto& t : callers) t.join();
}

}  // namespace

namespace {
staticrt::TaskLatency g_stress_latency[2];
staticrt::TaskLatencySnapshot g_stress_snap;
}  // namespace

TEST(PoolStress, TaskLatencyOn_TwoSubmittersAndAReader_EveryTaskRunsOnceAndIsRecordedOnce) {
    staticrt::test::Watchdog wd{600s, "PoolStress.TaskLatencyOn"};
    auto pool = std::make_unique<Pool>();
    staticrt::ThreadPoolOptions o;
    o.task_latency = g_stress_latency;
    o.task_latency_count = 2;
    o.spin_ns = 2'000;  // short: workers park and wake often, so the idle counters move too
    ASSERT_TRUE(pool->start(o));
    constexpr int kSubmitters = 2;
    const long long per = staticrt::test::scaled(1'000'000, 2000);
    std::vector<std::atomic<std::uint8_t>> runs(static_cast<std::size_t>(per * kSubmitters));
    std::atomic<bool> stop{false};
    std::atomic<long long> snapshots{0};
    // A reader takes merged snapshots while the workers record: each is consistent (its count is
    // the sum of its buckets, as the histogram promises) and counts never go backwards.
    std::thread reader([&] {
        static staticrt::TaskLatencySnapshot s;
        std::uint64_t last = 0;
        while (!stop.load()) {
            if (pool->task_latency(s)) {
                std::uint64_t in_buckets = 0;
                for (std::size_t b = 0; b < staticrt::LatencyHistogram::kBuckets; ++b) in_buckets += s.run.bucket_count(b);
                EXPECT_EQ(in_buckets, s.run.count());
                EXPECT_GE(s.run.count(), last);
                last = s.run.count();
                snapshots.fetch_add(1);
            }
            (void)pool->stats(0);
            std::this_thread::yield();
        }
    });
    std::vector<std::thread> threads;
    for (int t = 0; t < kSubmitters; ++t) {
        threads.emplace_back([&, t] {
            for (long long i = 0; i < per; ++i) {
                const auto k = static_cast<std::size_t>(t * per + i);
                ASSERT_TRUE(pool->submit_detached([&runs, k] { runs[k].fetch_add(1, std::memory_order_relaxed); }));
            }
        });
    }
    for (auto& th : threads) th.join();
    ASSERT_TRUE(pool->wait_idle(Deadline::after(300s)));
    stop.store(true);
    reader.join();
    ASSERT_TRUE(pool->shutdown());
    for (std::size_t k = 0; k < runs.size(); ++k) ASSERT_EQ(runs[k].load(), 1) << "task " << k;
    ASSERT_TRUE(pool->task_latency(g_stress_snap));
    EXPECT_EQ(g_stress_snap.queue_wait.count(), static_cast<std::uint64_t>(per * kSubmitters));
    EXPECT_EQ(g_stress_snap.run.count(), static_cast<std::uint64_t>(per * kSubmitters));
    std::uint64_t ran = 0, sleeps = 0, wakes = 0;
    for (std::size_t w = 0; w < 2; ++w) {
        const auto s = pool->stats(w);
        ran += s.tasks_run;
        sleeps += s.sleeps;
        wakes += s.wakes;
        EXPECT_EQ(g_stress_latency[w].run.count(), s.tasks_run);
        EXPECT_LE(s.spin_ns, s.idle_ns);  // spinning is part of idle (both final after the join)
    }
    EXPECT_EQ(ran, static_cast<std::uint64_t>(per * kSubmitters));
    EXPECT_GE(wakes, sleeps);  // every park ended (shutdown woke the last ones)
    std::printf("tasks %lld, snapshots %lld, sleeps %llu\n", per * kSubmitters, snapshots.load(),
                static_cast<unsigned long long>(sleeps));
}

namespace {

/// Four submitters, four workers on the machine's CPUs (more workers than CPUs on a 2-core
/// machine), lulls long enough for the workers to park (spin budget 2 us), half the tasks with a
/// Future: every task runs exactly once and every future resolves, under `policy`.
void wake_policy_storm(staticrt::WakePolicy policy, const char* name) {
    staticrt::test::Watchdog wd{300s, name};
    using WakePool = staticrt::ThreadPool<4, 256, 256 * 1024, 64, 1024>;
    auto pool = std::make_unique<WakePool>();
    staticrt::ThreadPoolOptions o;
    o.wake = policy;
    o.spin_ns = 2'000;
    ASSERT_TRUE(pool->start(o));
    constexpr int kSubmitters = 4;
    const int per = static_cast<int>(staticrt::test::scaled(20'000, 500));
    auto ran = std::make_unique<std::atomic<int>[]>(static_cast<std::size_t>(kSubmitters * per));
    std::atomic<long long> bad{0};
    std::vector<std::thread> ts;
    for (int s = 0; s < kSubmitters; ++s) {
        ts.emplace_back([&, s] {
            std::uint32_t rng = 0x9e3779b9u * static_cast<std::uint32_t>(s + 1);
            for (int i = 0; i < per; ++i) {
                const int id = s * per + i;
                rng = rng * 1664525u + 1013904223u;
                if ((rng >> 28) == 0) std::this_thread::sleep_for(std::chrono::microseconds((rng >> 8) % 60));
                if ((i & 1) == 0) {
                    if (!pool->submit_detached(Deadline::never(), [&ran, id] { ran[id].fetch_add(1); })) bad.fetch_add(1);
                } else {
                    auto f = pool->submit(Deadline::never(), [&ran, id] { return ran[id].fetch_add(1) + 1; });
                    if (!f) {
                        bad.fetch_add(1);
                    } else if (auto v = f->get(); !v || *v != 1) {
                        bad.fetch_add(1);
                    }
                }
            }
        });
    }
    for (auto& t : ts) t.join();
    ASSERT_TRUE(pool->wait_idle());
    EXPECT_EQ(bad.load(), 0);
    long long wrong = 0;
    for (int i = 0; i < kSubmitters * per; ++i) wrong += ran[static_cast<std::size_t>(i)].load() != 1 ? 1 : 0;
    EXPECT_EQ(wrong, 0);
    std::uint64_t wakes = 0;
    for (std::size_t w = 0; w < 4; ++w) wakes += pool->stats(w).wakes;
    EXPECT_GT(wakes, 0u) << "no worker ever parked and was woken: the storm did not test the wake-up";
    ASSERT_TRUE(pool->shutdown());
    for (std::size_t w = 0; w < 4; ++w) EXPECT_EQ(pool->stats(w).thread, 0u);
}

}  // namespace

TEST(PoolStress, NearSubmitterWake_FourSubmittersWithLulls_EveryTaskOnce) {
    wake_policy_storm(staticrt::WakePolicy::near_submitter, "PoolStress.NearSubmitterWake");
}

TEST(PoolStress, LongestParkedWake_FourSubmittersWithLulls_EveryTaskOnce) {
    wake_policy_storm(staticrt::WakePolicy::longest_parked, "PoolStress.LongestParkedWake");
}
