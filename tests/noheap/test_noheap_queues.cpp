// SPDX-License-Identifier: MIT
// No heap: every queue operation, blocking ones included, allocates nothing.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <thread>

#include "counting_alloc.hpp"
#include "staticrt/queue/joinable_queue.hpp"
#include "staticrt/queue/mpmc_queue.hpp"
#include "staticrt/queue/scq_queue.hpp"
#include "staticrt/queue/spsc_queue.hpp"

using staticrt::Deadline;

namespace {
staticrt::SpscQueue<std::uint64_t, 64> g_spsc;
staticrt::MpmcQueue<std::uint64_t, 64> g_mpmc;
staticrt::JoinableQueue<std::uint64_t, 64> g_join;
staticrt::MpmcQueue<std::uint64_t, 8, staticrt::WaitScope::process_shared> g_shared;
staticrt::ScqQueue<std::uint64_t, 64> g_scq;
staticrt::ScqQueue<std::uint64_t, 8, staticrt::WaitScope::process_shared> g_scq_shared;

template <class Q>
void exercise(Q& q) {
    std::array<std::uint64_t, 8> buf{1, 2, 3, 4, 5, 6, 7, 8};
    for (int round = 0; round < 100; ++round) {
        ASSERT_TRUE(q.try_push(1));
        ASSERT_TRUE(q.push(2));
        ASSERT_TRUE(q.push(3, Deadline::poll()));
        ASSERT_TRUE(q.try_emplace(4u));
        std::uint64_t v = 0;
        ASSERT_TRUE(q.try_pop(v));
        ASSERT_TRUE(q.pop());
        ASSERT_TRUE(q.pop(v, Deadline::after(std::chrono::milliseconds(1))));
        ASSERT_TRUE(q.pop(Deadline::poll()));
        ASSERT_EQ(q.pop(Deadline::after(std::chrono::microseconds(50))).code(), staticrt::Errc::timeout);
        if constexpr (requires { q.try_push_n(std::span<const std::uint64_t>(buf)); }) {
            ASSERT_EQ(q.try_push_n(std::span<const std::uint64_t>(buf)), 8u);
            ASSERT_EQ(q.try_pop_n(std::span<std::uint64_t>(buf)), 8u);
        }
        (void)q.size_approx();
    }
}
}  // namespace

TEST(NoHeapQueues, SteadyState_AllOperations_ZeroAllocations) {
    staticrt::test::AllocationCounter c;
    exercise(g_spsc);
    exercise(g_mpmc);
    exercise(g_shared);
    exercise(g_scq);
    exercise(g_scq_shared);
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(g_join.push(static_cast<std::uint64_t>(i)));
        ASSERT_TRUE(g_join.pop());
        ASSERT_TRUE(g_join.task_done());
    }
    ASSERT_TRUE(g_join.join(Deadline::poll()));
    ASSERT_EQ(g_join.task_done().code(), staticrt::Errc::over_release);
    EXPECT_EQ(c.count(), 0u);
}

TEST(NoHeapQueues, BlockingHandOffAcrossThreads_ZeroAllocationsInQueueCalls) {
    static staticrt::MpmcQueue<std::uint64_t, 4> q;
    std::thread consumer;  // thread creation allocates: start it before counting
    std::atomic<std::size_t> consumer_allocs{0};
    std::atomic<bool> ready{false};
    consumer = std::thread([&] {
        ready = true;
        staticrt::test::AllocationCounter c;
        for (int i = 0; i < 10000; ++i) ASSERT_TRUE(q.pop());
        consumer_allocs = c.count();
    });
    while (!ready) std::this_thread::yield();
    staticrt::test::AllocationCounter c;
    for (int i = 0; i < 10000; ++i) ASSERT_TRUE(q.push(static_cast<std::uint64_t>(i)));
    q.close();
    const std::size_t producer_allocs = c.count();
    consumer.join();
    EXPECT_EQ(producer_allocs, 0u);
    EXPECT_EQ(consumer_allocs.load(), 0u);
}
