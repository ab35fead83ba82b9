// SPDX-License-Identifier: MIT
// JoinableQueue stress: producers whose pushes block, time out and are refused by close() while
// consumers pop, call task_done() and joiners call join(). The count must stay exact: every
// successful push is matched by exactly one accepted task_done(), no task_done() is refused
// (over_release) before close, join() never returns while a placed item is unfinished, and at
// the end unfinished() == 0 with accepted task_done() == pushes that returned ok.
// Iterations scale with STATICRT_STRESS_SCALE.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <thread>
#include <vector>

#include "staticrt/queue/joinable_queue.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;

TEST(JoinablePlacementStress, BlockedTimedOutAndClosedPushes_CountStaysExact) {
    staticrt::test::Watchdog wd{120s};
    for (int round = 0; round < staticrt::test::scaled(4); ++round) {
        staticrt::JoinableQueue<std::uint32_t, 4> q;
        std::atomic<std::uint64_t> pushed_ok{0}, timed_out{0}, refused{0}, done_ok{0}, over{0};
        std::atomic<std::uint64_t> popped{0}, done_attempts{0};
        std::atomic<bool> stop_joiners{false};
        std::atomic<std::uint64_t> bad_join{0};
        std::vector<std::thread> threads;
        constexpr int kProducers = 3, kPerProducer = 4000;
        for (int p = 0; p < kProducers; ++p)
            threads.emplace_back([&, p] {
                for (int i = 0; i < kPerProducer; ++i) {
                    // Mix: block forever, short timeouts (often expire on the small queue), polls.
                    const Deadline d = (i % 3 == 0)   ? Deadline::never()
                                       : (i % 3 == 1) ? Deadline::after(std::chrono::microseconds(50))
                                                      : Deadline::poll();
                    const auto r = q.push(static_cast<std::uint32_t>(p << 24 | i), d);
                    if (r) pushed_ok.fetch_add(1);
                    else if (r.code() == Errc::timeout) timed_out.fetch_add(1);
                    else if (r.code() == Errc::closed) refused.fetch_add(1);
                    else ADD_FAILURE() << "unexpected push error";
                }
            });
        for (int c = 0; c < 2; ++c)
            threads.emplace_back([&] {
                for (;;) {
                    auto v = q.pop();
                    if (!v) break;  // closed and drained
                    popped.fetch_add(1);
                    done_attempts.fetch_add(1);  // before task_done(): a join that returns saw it
                    if (q.task_done()) done_ok.fetch_add(1);
                    else over.fetch_add(1);
                }
            });
        // Joiners: whenever join() returns ok, no item placed before it may be unfinished; the
        // observable check: task_done() calls begun >= pushes that had returned ok before the join began.
        threads.emplace_back([&] {
            while (!stop_joiners.load()) {
                const std::uint64_t before = pushed_ok.load();
                if (q.join(Deadline::after(1ms))) {
                    if (done_attempts.load() < before) bad_join.fetch_add(1);
                }
            }
        });
        // Close while producers are still pushing (some pushes blocked) on every second round.
        if (round % 2 == 1) {
            while (pushed_ok.load() < kProducers * kPerProducer / 4) std::this_thread::yield();
            q.close();
        }
        for (int p = 0; p < kProducers; ++p) threads[static_cast<std::size_t>(p)].join();
        q.close();
        threads[kProducers].join();
        threads[kProducers + 1].join();
        stop_joiners.store(true);
        threads.back().join();
        EXPECT_EQ(pushed_ok + timed_out + refused, std::uint64_t{kProducers} * kPerProducer);
        EXPECT_EQ(popped.load(), pushed_ok.load());
        EXPECT_EQ(done_ok.load(), pushed_ok.load());
        EXPECT_EQ(over.load(), 0u);
        EXPECT_EQ(bad_join.load(), 0u);
        EXPECT_EQ(q.unfinished(), 0u);
        EXPECT_TRUE(q.join(Deadline::poll()));
        EXPECT_EQ(q.task_done().code(), Errc::over_release);
    }
}
