// SPDX-License-Identifier: MIT
// SpscQueue, MpmcQueue, ScqQueue and TicketQueue: the bounded-queue contract, typed over the queues (single thread +
// simple two-thread hand-offs). MPMC-only behaviour is in test_mpmc_queue.cpp and
// test_scq_queue.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <thread>

#include "staticrt/queue/mpmc_queue.hpp"
#include "staticrt/queue/scq_queue.hpp"
#include "staticrt/queue/spsc_queue.hpp"
#include "staticrt/queue/ticket_queue.hpp"
#include "eventually.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;

namespace {

template <template <class, std::size_t, staticrt::WaitScope> class Q>
struct Kind {
    template <class T, std::size_t N>
    using Of = Q<T, N, staticrt::WaitScope::process_private>;
};
using Kinds = ::testing::Types<Kind<staticrt::SpscQueue>, Kind<staticrt::MpmcQueue>, Kind<staticrt::ScqQueue>,
                             Kind<staticrt::TicketQueue>>;

template <class K>
class BoundedQueue : public ::testing::Test {};
TYPED_TEST_SUITE(BoundedQueue, Kinds);

/// Counts live objects, to check that the queue destroys what it holds.
struct Tracked {
    static inline std::atomic<int> live{0};
    int v = 0;
    Tracked() noexcept { ++live; }
    explicit Tracked(int x) noexcept : v(x) { ++live; }
    Tracked(Tracked&& o) noexcept : v(o.v) { ++live; }
    Tracked& operator=(Tracked&& o) noexcept { v = o.v; return *this; }
    ~Tracked() { --live; }
};

struct Pair {
    int a;
    int b;
    Pair(int x, int y) noexcept : a(x), b(y) {}
};

}  // namespace

TYPED_TEST(BoundedQueue, TryPop_WhenEmpty_ReturnsFalse) {
    typename TypeParam::template Of<int, 4> q;
    int v = 0;
    EXPECT_FALSE(q.try_pop(v));
    EXPECT_EQ(q.size_approx(), 0u);
    EXPECT_TRUE(q.empty_approx());
}

TYPED_TEST(BoundedQueue, TryPush_WhenFull_ReturnsFalse) {
    typename TypeParam::template Of<int, 4> q;
    for (int i = 0; i < 4; ++i) EXPECT_TRUE(q.try_push(i));
    EXPECT_FALSE(q.try_push(99));
    EXPECT_EQ(q.size_approx(), 4u);
    EXPECT_EQ(q.capacity(), 4u);
}

TYPED_TEST(BoundedQueue, TryPushTryPop_ManyLaps_KeepsFifoOrder) {
    typename TypeParam::template Of<std::uint32_t, 8> q;
    std::uint32_t next_in = 0, next_out = 0;
    for (int round = 0; round < 1000; ++round) {
        const int k = 1 + round % 8;
        for (int i = 0; i < k; ++i) ASSERT_TRUE(q.try_push(next_in++));
        for (int i = 0; i < k; ++i) {
            std::uint32_t v = 0;
            ASSERT_TRUE(q.try_pop(v));
            ASSERT_EQ(v, next_out++);
        }
    }
}

TYPED_TEST(BoundedQueue, CapacityOne_AlternatesFullAndEmpty) {
    typename TypeParam::template Of<int, 1> q;
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(q.try_push(i));
        ASSERT_FALSE(q.try_push(i));
        int v = -1;
        ASSERT_TRUE(q.try_pop(v));
        ASSERT_EQ(v, i);
        ASSERT_FALSE(q.try_pop(v));
    }
}

namespace {
/// Random single-thread try_push / try_pop / try_push_n against a model FIFO of the queue's
/// capacity: every call succeeds exactly when the model says there is room (an element) and
/// elements come out in order. Phases that mostly push, then mostly pop, sweep the fill level
/// over 0..capacity, so a producer that takes a cell the consumer has not freed, or gives up
/// while there is room, is caught at every distance between the two sides.
template <class Q>
void run_against_model(Q& q, std::uint64_t seed) {
    const std::size_t n = q.capacity();
    std::uint64_t s = seed | 1;
    auto rnd = [&s] {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    };
    std::uint32_t next_in = 1, next_out = 1;  // the model: values next_out .. next_in - 1 inside
    for (int phase = 0; phase < 400; ++phase) {
        const unsigned push_pct = phase % 2 == 0 ? 80 : 20;
        const int steps = 1 + static_cast<int>(rnd() % (3 * n + 3));
        for (int i = 0; i < steps; ++i) {
            const std::size_t size = next_in - next_out;
            const std::uint64_t r = rnd();
            if (r % 100 < push_pct) {
                if (r % 7 == 0) {  // a batch
                    std::array<std::uint32_t, 5> in{};
                    const std::size_t want = 1 + (r >> 8) % in.size();
                    for (std::size_t k = 0; k < want; ++k) in[k] = next_in + static_cast<std::uint32_t>(k);
                    const std::size_t got = q.try_push_n(std::span<const std::uint32_t>(in.data(), want));
                    ASSERT_EQ(got, std::min(want, n - size)) << "phase " << phase << " size " << size;
                    next_in += static_cast<std::uint32_t>(got);
                } else {
                    ASSERT_EQ(q.try_push(next_in), size < n) << "phase " << phase << " size " << size;
                    if (size < n) ++next_in;
                }
            } else {
                std::uint32_t v = 0;
                ASSERT_EQ(q.try_pop(v), size > 0) << "phase " << phase << " size " << size;
                if (size > 0) {
                    ASSERT_EQ(v, next_out++);
                }
            }
        }
    }
}
}  // namespace

TYPED_TEST(BoundedQueue, RandomTryCalls_MatchAModelFifo_AtEveryFillLevel) {
    { typename TypeParam::template Of<std::uint32_t, 1> q; run_against_model(q, 11); }
    { typename TypeParam::template Of<std::uint32_t, 2> q; run_against_model(q, 12); }
    { typename TypeParam::template Of<std::uint32_t, 8> q; run_against_model(q, 13); }
    { typename TypeParam::template Of<std::uint32_t, 64> q; run_against_model(q, 14); }
    { auto q = std::make_unique<typename TypeParam::template Of<std::uint32_t, 1024>>(); run_against_model(*q, 15); }
}

TYPED_TEST(BoundedQueue, MoveOnly_UniquePtr_MovesThrough) {
    typename TypeParam::template Of<std::unique_ptr<int>, 2> q;
    EXPECT_TRUE(q.try_push(std::make_unique<int>(7)));
    auto r = q.pop(Deadline::poll());
    ASSERT_TRUE(r);
    EXPECT_EQ(**r, 7);
    std::unique_ptr<int> p;
    EXPECT_TRUE(q.try_push(std::make_unique<int>(8)));
    EXPECT_TRUE(q.try_pop(p));
    EXPECT_EQ(*p, 8);
}

TYPED_TEST(BoundedQueue, TryEmplace_ConstructsInPlace) {
    typename TypeParam::template Of<Pair, 2> q;
    EXPECT_TRUE(q.try_emplace(1, 2));
    EXPECT_TRUE(q.emplace(Deadline::poll(), 3, 4));
    EXPECT_EQ(q.emplace(Deadline::poll(), 5, 6).code(), Errc::timeout);
    auto a = q.pop();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->a + a->b, 3);
    auto b = q.pop();
    ASSERT_TRUE(b);
    EXPECT_EQ(b->a + b->b, 7);
}

TYPED_TEST(BoundedQueue, TryPushN_PartialWhenFull_ReturnsCount) {
    typename TypeParam::template Of<int, 4> q;
    const std::array<int, 6> in{1, 2, 3, 4, 5, 6};
    EXPECT_EQ(q.try_push_n(std::span<const int>(in)), 4u);
    std::array<int, 3> out{};
    EXPECT_EQ(q.try_pop_n(std::span<int>(out)), 3u);
    EXPECT_EQ(out[0], 1);
    EXPECT_EQ(out[2], 3);
    std::array<int, 8> rest{};
    EXPECT_EQ(q.try_pop_n(std::span<int>(rest)), 1u);
    EXPECT_EQ(rest[0], 4);
    EXPECT_EQ(q.try_pop_n(std::span<int>(rest)), 0u);
    EXPECT_EQ(q.try_push_n(std::span<const int>()), 0u);
}

TYPED_TEST(BoundedQueue, Pop_WhenEmptyWithDeadline_TimesOut) {
    staticrt::test::Watchdog wd{10s};
    typename TypeParam::template Of<int, 4> q;
    EXPECT_EQ(q.pop(Deadline::poll()).code(), Errc::timeout);
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(q.pop(Deadline::after(20ms)).code(), Errc::timeout);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 20ms);
}

TYPED_TEST(BoundedQueue, Push_WhenFullWithDeadline_TimesOut) {
    staticrt::test::Watchdog wd{10s};
    typename TypeParam::template Of<int, 2> q;
    EXPECT_TRUE(q.push(1, Deadline::poll()));
    EXPECT_TRUE(q.push(2, Deadline::poll()));
    EXPECT_EQ(q.push(3, Deadline::poll()).code(), Errc::timeout);
    EXPECT_EQ(q.push(3, Deadline::after(10ms)).code(), Errc::timeout);
    EXPECT_EQ(q.size_approx(), 2u);
}

TYPED_TEST(BoundedQueue, Close_ProducerGetsClosed_ConsumerDrainsThenClosed) {
    typename TypeParam::template Of<int, 4> q;
    EXPECT_TRUE(q.push(1));
    EXPECT_TRUE(q.push(2));
    EXPECT_FALSE(q.closed());
    q.close();
    q.close();  // idempotent
    EXPECT_TRUE(q.closed());
    EXPECT_EQ(q.push(3).code(), Errc::closed);
    EXPECT_FALSE(q.try_push(3));
    EXPECT_EQ(q.emplace(Deadline::never(), 3).code(), Errc::closed);
    auto a = q.pop();
    ASSERT_TRUE(a);
    EXPECT_EQ(*a, 1);
    int b = 0;
    EXPECT_TRUE(q.try_pop(b));
    EXPECT_EQ(b, 2);
    EXPECT_EQ(q.pop().code(), Errc::closed);
    EXPECT_EQ(q.pop(Deadline::poll()).code(), Errc::closed);
}

TYPED_TEST(BoundedQueue, Pop_BlockedConsumer_WokenByPush) {
    staticrt::test::Watchdog wd{20s};
    typename TypeParam::template Of<int, 4> q;
    std::thread consumer([&] {
        auto r = q.pop(Deadline::after(10s));
        ASSERT_TRUE(r);
        EXPECT_EQ(*r, 42);
    });
    ASSERT_TRUE(staticrt::test::eventually([&] { return q.waiting_consumers() == 1; }));  // parked: push must wake it
    EXPECT_TRUE(q.push(42));
    consumer.join();
}

TYPED_TEST(BoundedQueue, Push_BlockedProducer_WokenByPop) {
    staticrt::test::Watchdog wd{20s};
    typename TypeParam::template Of<int, 1> q;
    ASSERT_TRUE(q.push(1));
    std::thread producer([&] { EXPECT_TRUE(q.push(2, Deadline::after(10s))); });
    ASSERT_TRUE(staticrt::test::eventually([&] { return q.waiting_producers() == 1; }));  // parked: pop must wake it
    EXPECT_EQ(*q.pop(), 1);
    EXPECT_EQ(*q.pop(), 2);
    producer.join();
}

TYPED_TEST(BoundedQueue, Close_WakesBlockedConsumerAndProducer) {
    staticrt::test::Watchdog wd{20s};
    typename TypeParam::template Of<int, 1> empty_q;
    typename TypeParam::template Of<int, 1> full_q;
    ASSERT_TRUE(full_q.push(1));
    std::thread consumer([&] { EXPECT_EQ(empty_q.pop(Deadline::after(10s)).code(), Errc::closed); });
    std::thread producer([&] { EXPECT_EQ(full_q.push(2, Deadline::after(10s)).code(), Errc::closed); });
    ASSERT_TRUE(staticrt::test::eventually([&] { return empty_q.waiting_consumers() == 1 && full_q.waiting_producers() == 1; }));
    empty_q.close();
    full_q.close();
    consumer.join();
    producer.join();
    EXPECT_EQ(*full_q.pop(), 1);
}

TYPED_TEST(BoundedQueue, Destructor_WithElementsInside_DestroysThem) {
    Tracked::live = 0;
    {
        typename TypeParam::template Of<Tracked, 8> q;
        EXPECT_TRUE(q.try_emplace(1));
        EXPECT_TRUE(q.try_emplace(2));
        EXPECT_TRUE(q.try_emplace(3));
        Tracked out;
        EXPECT_TRUE(q.try_pop(out));
        EXPECT_EQ(out.v, 1);
        EXPECT_EQ(Tracked::live.load(), 3);  // out + 2 inside
    }
    EXPECT_EQ(Tracked::live.load(), 0);
}

TYPED_TEST(BoundedQueue, TwoThreads_ManyItems_ArriveInOrder) {
    staticrt::test::Watchdog wd{60s};
    typename TypeParam::template Of<std::uint64_t, 64> q;
    constexpr std::uint64_t kItems = 200000;
    std::thread producer([&] {
        for (std::uint64_t i = 1; i <= kItems; ++i) ASSERT_TRUE(q.push(i));
    });
    for (std::uint64_t i = 1; i <= kItems; ++i) {
        std::uint64_t v = 0;
        ASSERT_TRUE(q.pop(v));
        ASSERT_EQ(v, i);
    }
    producer.join();
}

namespace {
constinit staticrt::SpscQueue<int, 16> g_spsc;
constinit staticrt::MpmcQueue<int, 16> g_mpmc;
}  // namespace

TEST(SpscQueue, ConstinitGlobal_WorksWithoutConstruction) {
    EXPECT_TRUE(g_spsc.try_push(5));
    EXPECT_TRUE(g_mpmc.try_push(6));
    EXPECT_EQ(*g_spsc.pop(), 5);
    EXPECT_EQ(*g_mpmc.pop(), 6);
}

TEST(SpscQueue, SizeApprox_AfterPushesAndPops_IsExact) {
    staticrt::SpscQueue<int, 8> q;
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(q.try_push(i));
    int v;
    ASSERT_TRUE(q.try_pop(v));
    EXPECT_EQ(q.size_approx(), 4u);
}

TEST(SpscQueue, Layout_SidesOnSeparateCacheLines) {
    using Q = staticrt::SpscQueue<std::uint64_t, 1024>;
    static_assert(alignof(Q) >= staticrt::platform::kCacheLine);
    static_assert(sizeof(Q) >= 1024 * 16);
    EXPECT_LE(sizeof(Q), 1024 * 16 + 6 * staticrt::platform::kCacheLine);
}
