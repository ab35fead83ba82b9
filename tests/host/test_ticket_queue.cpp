// SPDX-License-Identifier: MIT
// TicketQueue: behaviour beyond the shared bounded-queue contract (test_spsc_queue.cpp) and the
// MPMC cases it shares with MpmcQueue and ScqQueue (test_mpmc_queue.cpp): ticket holders that
// wait on their own cell, ticket producers that leave at close() and the consumers that skip
// the positions they left. `Always` is the queue with every never-deadline call taking a ticket
// (CasTries = 0), so that these paths run without depending on CAS collisions.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "staticrt/queue/ticket_queue.hpp"
#include "eventually.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;

namespace {
template <class T, std::size_t N>
using Always = staticrt::detail::TicketRing<T, N, staticrt::detail::OsWaitPolicy, staticrt::WaitScope::process_private, 0>;
constinit staticrt::TicketQueue<int, 16> g_ticket;
}  // namespace

TEST(TicketQueue, Constinit_ZeroInitialisedGlobal_Works) {
    ASSERT_TRUE(g_ticket.try_push(7));
    EXPECT_EQ(g_ticket.size_approx(), 1u);
    EXPECT_EQ(*g_ticket.pop(), 7);
    EXPECT_TRUE(g_ticket.empty_approx());
}

TEST(TicketQueue, TicketConsumers_EachGetsOneElement_InTicketOrder) {
    staticrt::test::Watchdog wd{20s};
    Always<int, 4> q;
    std::atomic<int> got[3] = {-1, -1, -1};
    std::vector<std::thread> ts;
    for (int i = 0; i < 3; ++i) {
        ts.emplace_back([&, i] {
            auto r = q.pop();
            got[i] = r ? *r : -2;
        });
        // One at a time: consumer i holds ticket i before the next one starts.
        ASSERT_TRUE(staticrt::test::eventually([&] { return q.waiting_consumers() == static_cast<std::uint32_t>(i + 1); }));
    }
    EXPECT_EQ(q.size_approx(), 0u);  // the head is ahead of the tail: nothing inside
    for (int v = 10; v < 13; ++v) ASSERT_TRUE(q.try_push(v));
    for (auto& t : ts) t.join();
    EXPECT_EQ(got[0].load(), 10);
    EXPECT_EQ(got[1].load(), 11);
    EXPECT_EQ(got[2].load(), 12);
    EXPECT_EQ(q.size_approx(), 0u);
}

TEST(TicketQueue, Close_TicketProducersOnFullQueue_LeaveWithClosed_ConsumersSkipTheirPositions) {
    staticrt::test::Watchdog wd{20s};
    Always<int, 1> q;
    ASSERT_TRUE(q.try_push(100));  // full: every later position waits for this one's pop
    std::atomic<int> closed{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < 3; ++i) {
        ts.emplace_back([&, i] {
            const auto r = q.push(i);
            if (!r && r.code() == Errc::closed) closed.fetch_add(1);
        });
    }
    ASSERT_TRUE(staticrt::test::eventually([&] { return q.waiting_producers() == 3; }));
    q.close();
    for (auto& t : ts) t.join();
    EXPECT_EQ(closed.load(), 3);
    EXPECT_EQ(q.departed_producers(), 3u);
    // The element before the close is still there; then the three left positions are skipped.
    auto r = q.pop();
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, 100);
    EXPECT_EQ(q.pop().code(), Errc::closed);
    EXPECT_EQ(q.pop(Deadline::poll()).code(), Errc::closed);
    int v = 0;
    EXPECT_FALSE(q.try_pop(v));
    EXPECT_EQ(q.size_approx(), 0u);
}

TEST(TicketQueue, Close_PollingConsumer_SkipsLeftPositions_AndGetsLaterElements) {
    staticrt::test::Watchdog wd{20s};
    // Capacity 2, both cells full. Ticket producer A waits at position 2 (cell 0), B at 3
    // (cell 1). Pop position 0: A writes position 2. Close: B leaves. A poll then takes 1 and
    // 2, skips 3 and reports closed.
    Always<int, 2> q;
    ASSERT_TRUE(q.try_push(0));
    ASSERT_TRUE(q.try_push(1));
    std::atomic<int> a_result{0}, b_result{0};
    std::thread a([&] { a_result = q.push(2) ? 1 : -1; });
    ASSERT_TRUE(staticrt::test::eventually([&] { return q.waiting_producers() == 1; }));
    std::thread b([&] {
        const auto r = q.push(3);
        b_result = r ? 1 : (r.code() == Errc::closed ? -1 : -2);
    });
    ASSERT_TRUE(staticrt::test::eventually([&] { return q.waiting_producers() == 2; }));
    int v = -1;
    ASSERT_TRUE(q.try_pop(v));
    EXPECT_EQ(v, 0);
    // try_pop() must wake A (a ticket holder waiting for exactly that cell).
    EXPECT_TRUE(staticrt::test::eventually([&] { return a_result.load() != 0; }, 10s)) << "A was not woken";
    q.close();
    a.join();
    EXPECT_EQ(a_result.load(), 1);
    b.join();
    EXPECT_EQ(b_result.load(), -1);
    EXPECT_EQ(q.departed_producers(), 1u);
    ASSERT_TRUE(q.pop(v, Deadline::poll()));
    EXPECT_EQ(v, 1);
    ASSERT_TRUE(q.pop(v, Deadline::poll()));
    EXPECT_EQ(v, 2);
    EXPECT_EQ(q.pop(v, Deadline::poll()).code(), Errc::closed);
    EXPECT_EQ(q.size_approx(), 0u);
}

TEST(TicketQueue, Close_TicketConsumersPastTheTail_AllEndClosed) {
    staticrt::test::Watchdog wd{20s};
    Always<int, 2> q;
    std::atomic<int> closed{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; ++i) {  // more waiting consumers than cells: tickets two laps ahead
        ts.emplace_back([&] {
            const auto r = q.pop();
            if (!r && r.code() == Errc::closed) closed.fetch_add(1);
        });
    }
    ASSERT_TRUE(staticrt::test::eventually([&] { return q.waiting_consumers() == 4; }));
    ASSERT_TRUE(q.try_push(5));  // position 0: one ticket holder gets it
    q.close();
    for (auto& t : ts) t.join();
    EXPECT_EQ(closed.load(), 3);
    EXPECT_EQ(q.size_approx(), 0u);
}

TEST(TicketQueue, LeftProducer_PushTRvalue_KeepsItsValue) {
    staticrt::test::Watchdog wd{20s};
    Always<std::unique_ptr<int>, 1> q;
    ASSERT_TRUE(q.try_push(std::make_unique<int>(1)));
    auto mine = std::make_unique<int>(2);
    std::atomic<int> result{0};
    std::thread t([&] {
        const auto r = q.push(std::move(mine));
        result = r ? 1 : (r.code() == Errc::closed ? -1 : -2);
    });
    ASSERT_TRUE(staticrt::test::eventually([&] { return q.waiting_producers() == 1; }));
    q.close();
    t.join();
    EXPECT_EQ(result.load(), -1);
    ASSERT_TRUE(mine);  // never moved from: the push left before its turn
    EXPECT_EQ(*mine, 2);
}

namespace {
struct Counted {
    static inline std::atomic<int> live{0};
    int v = 0;
    explicit Counted(int x) noexcept : v(x) { live.fetch_add(1); }
    Counted(Counted&& o) noexcept : v(o.v) { live.fetch_add(1); }
    Counted& operator=(Counted&& o) noexcept = default;
    ~Counted() { live.fetch_sub(1); }
};
}  // namespace

TEST(TicketQueue, Destructor_DestroysWhatIsInside) {
    {
        Always<Counted, 2> q;
        ASSERT_TRUE(q.try_emplace(1));
        ASSERT_TRUE(q.try_emplace(2));
        EXPECT_EQ(Counted::live.load(), 2);
    }
    EXPECT_EQ(Counted::live.load(), 0);
}

TEST(TicketQueue, ManyThreadsPerSide_DefaultQueue_EveryItemOnce) {
    // 4 producers and 4 consumers on 2 cores: CASes collide, so some calls take tickets.
    staticrt::test::Watchdog wd{60s};
    staticrt::TicketQueue<std::uint64_t, 4> q;
    constexpr std::uint64_t kPer = 20'000;
    std::atomic<std::uint64_t> sum{0}, count{0};
    std::vector<std::thread> ts;
    std::atomic<int> left{4};
    for (std::uint64_t p = 0; p < 4; ++p)
        ts.emplace_back([&, p] {
            for (std::uint64_t i = 1; i <= kPer; ++i) ASSERT_TRUE(q.push(p * kPer + i));
            if (left.fetch_sub(1) == 1) q.close();
        });
    for (int c = 0; c < 4; ++c)
        ts.emplace_back([&] {
            while (auto r = q.pop()) {
                sum.fetch_add(*r);
                count.fetch_add(1);
            }
        });
    for (auto& t : ts) t.join();
    const std::uint64_t n = 4 * kPer;
    EXPECT_EQ(count.load(), n);
    EXPECT_EQ(sum.load(), n * (n + 1) / 2);
}
