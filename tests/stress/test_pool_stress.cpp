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
