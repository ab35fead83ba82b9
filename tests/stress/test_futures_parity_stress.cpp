// SPDX-License-Identifier: MIT
// Stress for the concurrent.futures parity paths: SharedFuture handles copied, read and dropped
// by several threads while the writer publishes (no slot leaked or freed twice: every round's
// slots come back), map_checked with random deadlines (every item either ran exactly once with
// its value or is marked Errc::timeout, never both, never neither), and shutdown_nowait racing
// submitters (every accepted future resolves, none hangs).
// Iterations scale with STATICRT_STRESS_SCALE.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <span>
#include <thread>
#include <vector>

#include "staticrt/exec/future.hpp"
#include "staticrt/exec/thread_pool.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::Error;
using staticrt::Result;

TEST(FuturesParityStress, SharedFuture_ManyReadersAndDrops_EverySlotComesBack) {
    staticrt::test::Watchdog wd{120s};
    static staticrt::ResultSlots<2> slots;
    for (int round = 0; round < staticrt::test::scaled(2000); ++round) {
        auto pf = slots.make<std::uint64_t>();
        ASSERT_TRUE(pf) << round;
        auto shared = pf->future.share();
        std::atomic<std::uint64_t> sum{0};
        std::vector<std::thread> readers;
        for (int r = 0; r < 3; ++r)
            readers.emplace_back([copy = shared, &sum, r]() mutable {
                if (r == 2) {  // drops its handle early, sometimes before the result
                    copy = staticrt::SharedFuture<std::uint64_t>{};
                    return;
                }
                auto v = copy.result();
                if (v) sum.fetch_add(*v);
            });
        std::thread writer([p = std::move(pf->promise), round]() mutable { (void)p.set_value(std::uint64_t(round)); });
        shared = staticrt::SharedFuture<std::uint64_t>{};  // the creator drops too
        writer.join();
        for (auto& t : readers) t.join();
        ASSERT_EQ(sum.load(), 2u * static_cast<std::uint64_t>(round));
    }
    // Both slots are free again.
    auto a = slots.make<int>();
    auto b = slots.make<int>();
    EXPECT_TRUE(a);
    EXPECT_TRUE(b);
}

TEST(FuturesParityStress, MapChecked_RandomDeadlines_EachItemRanOnceOrIsTimeout) {
    staticrt::test::Watchdog wd{120s};
    auto pool = std::make_unique<staticrt::ThreadPool<2, 64>>();
    ASSERT_TRUE(pool->start({}));
    std::mt19937 rng(12345);
    std::printf("seed 12345\n");
    constexpr std::size_t kN = 2000;
    static std::array<int, kN> in{};
    static std::array<int, kN> out{};
    static std::array<Error, kN> errors{};
    static std::array<std::atomic<int>, kN> runs{};
    for (std::size_t i = 0; i < kN; ++i) in[i] = static_cast<int>(i);
    for (int round = 0; round < staticrt::test::scaled(200); ++round) {
        for (auto& r : runs) r.store(0);
        out.fill(-1);
        const auto us = std::chrono::microseconds(rng() % 300);
        auto r = pool->map_checked(
            [](int x) -> Result<int> {
                runs[static_cast<std::size_t>(x)].fetch_add(1);
                if (x % 7 == 0) return staticrt::task_error(x);
                return x;
            },
            std::span<const int>(in), std::span<int>(out), std::span<Error>(errors), Deadline::after(us),
            1 + rng() % 16);
        ASSERT_TRUE(r || r.code() == Errc::timeout);
        for (std::size_t i = 0; i < kN; ++i) {
            const int n = runs[i].load();
            ASSERT_LE(n, 1) << i;
            if (n == 0) {
                ASSERT_EQ(errors[i].code, Errc::timeout) << i;
                ASSERT_EQ(r.code(), Errc::timeout);
            } else if (i % 7 == 0) {
                ASSERT_EQ(errors[i].code, Errc::task_failed) << i;
            } else {
                ASSERT_EQ(errors[i], Error{}) << i;
                ASSERT_EQ(out[i], static_cast<int>(i));
            }
        }
    }
}

TEST(FuturesParityStress, ShutdownNowait_RacingSubmitters_EveryAcceptedFutureResolves) {
    staticrt::test::Watchdog wd{120s};
    for (int round = 0; round < staticrt::test::scaled(50); ++round) {
        auto pool = std::make_unique<staticrt::ThreadPool<2, 64, staticrt::kDefaultPoolStackBytes, 64, 256>>();
        ASSERT_TRUE(pool->start({}));
        std::atomic<int> accepted{0}, resolved{0}, refused{0};
        std::vector<std::thread> subs;
        for (int s = 0; s < 2; ++s)
            subs.emplace_back([&] {
                for (int i = 0; i < 100; ++i) {
                    auto f = pool->submit(Deadline::after(10s), [i] { return i; });
                    if (!f) {
                        refused.fetch_add(1);
                        continue;
                    }
                    accepted.fetch_add(1);
                    auto v = f->get();
                    if (v ? *v == i : v.code() == Errc::closed) resolved.fetch_add(1);
                }
            });
        while (accepted.load() < 20) std::this_thread::yield();
        pool->shutdown_nowait(round % 2 ? staticrt::ShutdownMode::cancel : staticrt::ShutdownMode::drain);
        for (auto& t : subs) t.join();
        EXPECT_EQ(accepted.load(), resolved.load());
        EXPECT_EQ(accepted.load() + refused.load(), 200);
        pool.reset();  // the destructor joins
    }
}
