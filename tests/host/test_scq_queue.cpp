// SPDX-License-Identifier: MIT
// ScqQueue: behaviour beyond the shared bounded-queue contract (test_spsc_queue.cpp, typed over
// every queue) and the MPMC cases it shares with MpmcQueue (test_mpmc_queue.cpp), and its index
// ring (detail::ScqIndexRing) on its own.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <thread>
#include <vector>

#include "staticrt/queue/scq_queue.hpp"
#include "eventually.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::Result;

namespace {
using Ring8 = staticrt::detail::ScqIndexRing<8, staticrt::detail::OsWaitPolicy>;
constinit staticrt::ScqQueue<int, 16> g_scq;
}  // namespace

TEST(ScqIndexRing, ZeroInitialised_IsEmpty) {
    Ring8 r;
    EXPECT_EQ(r.dequeue(), Ring8::kEmpty);
    EXPECT_FALSE(r.closed());
}

TEST(ScqIndexRing, EnqueueDequeue_ManyLaps_KeepsFifoOrder) {
    Ring8 r;
    // 8 indices in a ring of 16 entries, over many cycles (the entry tags advance every lap).
    for (std::uint32_t lap = 0; lap < 200; ++lap) {
        for (std::uint32_t i = 0; i < 8; ++i) ASSERT_EQ(r.enqueue((i + lap) % 8), Ring8::Enq::ok);
        for (std::uint32_t i = 0; i < 8; ++i) ASSERT_EQ(r.dequeue(), (i + lap) % 8) << "lap " << lap;
        ASSERT_EQ(r.dequeue(), Ring8::kEmpty);
    }
}

TEST(ScqIndexRing, EmptyDequeues_ThenEnqueue_StillFound) {
    Ring8 r;
    ASSERT_EQ(r.enqueue(3), Ring8::Enq::ok);
    ASSERT_EQ(r.dequeue(), 3u);
    // Dequeuers on an empty ring pass positions and pull the tail up; the threshold then makes
    // further tries cheap. An enqueue after that must still be found.
    for (int i = 0; i < 100; ++i) ASSERT_EQ(r.dequeue(), Ring8::kEmpty);
    ASSERT_EQ(r.enqueue(5), Ring8::Enq::ok);
    EXPECT_EQ(r.dequeue(), 5u);
}

TEST(ScqIndexRing, Close_LaterEnqueueFails_DrainModeTakesWhatIsLeft) {
    Ring8 r;
    ASSERT_EQ(r.enqueue(1), Ring8::Enq::ok);
    ASSERT_EQ(r.enqueue(2), Ring8::Enq::ok);
    const std::uint64_t before = r.close();
    EXPECT_EQ(before, 2u);
    EXPECT_TRUE(r.closed());
    EXPECT_EQ(r.enqueue(4), Ring8::Enq::closed);
    EXPECT_EQ(r.dequeue(before + 1), 1u);
    EXPECT_EQ(r.dequeue(before + 1), 2u);
    EXPECT_EQ(r.dequeue(before + 1), Ring8::kEmpty);
    EXPECT_EQ(r.dequeue(before + 1), Ring8::kEmpty);  // the head stops at the limit
}

namespace {
/// A dequeuer that claimed the head position and died before taking its entry: the head moves
/// on by one, nothing else changes. The head is the ring's first member (a standard-layout
/// class), so the test reaches it without an API a live queue must not offer.
template <class Ring>
void claim_and_die(Ring& r) {
    static_assert(std::is_standard_layout_v<Ring>);
    reinterpret_cast<std::atomic<std::uint64_t>*>(&r)->fetch_add(1);
}
/// Cycles `laps` x N indices through the ring (dequeue one, enqueue it back); counts how often
/// index `lost` comes out.
template <class Ring>
int cycle_and_count(Ring& r, std::uint32_t lost, int laps, std::uint32_t n) {
    int seen = 0;
    for (int k = 0; k < laps * static_cast<int>(n); ++k) {
        const std::uint32_t i = r.dequeue();
        if (i == Ring::kEmpty) continue;
        EXPECT_LT(i, n);
        if (i >= n) return -1;
        if (i == lost) ++seen;
        EXPECT_EQ(r.enqueue(i), Ring::Enq::ok);
    }
    return seen;
}
}  // namespace

TEST(ScqIndexRing, SharedRing_IndexOfADequeuerThatDiedAfterItsClaim_TakenOverByALaterLap) {
    using Shared8 = staticrt::detail::ScqIndexRing<8, staticrt::detail::OsWaitPolicy, staticrt::ScqLayout::spread, true>;
    Shared8 r;
    for (std::uint32_t i = 0; i < 8; ++i) ASSERT_EQ(r.enqueue(i), Shared8::Enq::ok);
    claim_and_die(r);  // index 0's position claimed, never taken
    for (std::uint32_t i = 1; i < 8; ++i) ASSERT_EQ(r.dequeue(), i);
    EXPECT_EQ(r.dequeue(), Shared8::kEmpty);  // index 0 sits behind the head
    for (std::uint32_t i = 1; i < 8; ++i) ASSERT_EQ(r.enqueue(i), Shared8::Enq::ok);
    // A dequeuer of a later lap reaches index 0's entry and takes it over; from then on it
    // circulates with the others, each index once.
    EXPECT_GE(cycle_and_count(r, 0, 6, 8), 2);
}

TEST(ScqIndexRing, SharedRing_TheTakerIsToldBeforeEveryTake_RescuesIncluded) {
    // A process-shared queue names the taker of a cell before the CAS that takes its index (a kill
    // lands right after that slow CAS); the ring must call before_take(index, position) first.
    using Shared8 = staticrt::detail::ScqIndexRing<8, staticrt::detail::OsWaitPolicy, staticrt::ScqLayout::spread, true>;
    Shared8 r;
    for (std::uint32_t i = 0; i < 8; ++i) ASSERT_EQ(r.enqueue(i), Shared8::Enq::ok);
    claim_and_die(r);  // index 0 comes back through a rescue
    std::uint32_t told = ~0u;
    std::uint64_t told_pos = 0;
    auto before_take = [&](std::uint32_t i, std::uint64_t pos) noexcept {
        told = i;
        told_pos = pos;
    };
    int rescued = 0;
    for (int k = 0; k < 64; ++k) {
        told = ~0u;
        std::uint64_t pos = ~std::uint64_t{0};
        const std::uint32_t i = r.dequeue(0, &pos, before_take);
        if (i == Shared8::kEmpty) continue;
        ASSERT_LT(i, 8u);
        EXPECT_EQ(told, i) << "take " << k;
        EXPECT_EQ(told_pos, pos) << "take " << k;
        if (i == 0) ++rescued;
        ASSERT_EQ(r.enqueue(i), Shared8::Enq::ok);
    }
    EXPECT_GE(rescued, 1);
}

TEST(ScqIndexRing, PrivateRing_IndexOfADequeuerThatClaimedIt_WaitsForThatDequeuer) {
    // The contrast: in-process, the claimant is alive and will take its index; later laps pass it.
    Ring8 r;
    for (std::uint32_t i = 0; i < 8; ++i) ASSERT_EQ(r.enqueue(i), Ring8::Enq::ok);
    claim_and_die(r);
    for (std::uint32_t i = 1; i < 8; ++i) ASSERT_EQ(r.dequeue(), i);
    for (std::uint32_t i = 1; i < 8; ++i) ASSERT_EQ(r.enqueue(i), Ring8::Enq::ok);
    EXPECT_EQ(cycle_and_count(r, 0, 6, 8), 0);
}

namespace {
template <staticrt::ScqLayout L>
using Ring128 = staticrt::detail::ScqIndexRing<128, staticrt::detail::OsWaitPolicy, L>;
// Entry index -> cache line, by the ring's own count of entries a line.
constexpr std::size_t line_of(std::size_t entry) {
    return entry / Ring128<staticrt::ScqLayout::spread>::kEntriesPerLine;
}
}  // namespace

TEST(ScqIndexRing, Layouts_EachMapsTheRingOntoEveryEntryOnce) {
    // 256 positions a lap, 256 entries: either layout is a permutation of the entries.
    std::vector<int> spread(256), compact(256);
    for (std::uint64_t p = 0; p < 256; ++p) {
        ++spread.at(Ring128<staticrt::ScqLayout::spread>::slot_of(p));
        ++compact.at(Ring128<staticrt::ScqLayout::compact>::slot_of(p));
    }
    for (std::size_t e = 0; e < 256; ++e) {
        EXPECT_EQ(spread[e], 1) << "spread, entry " << e;
        EXPECT_EQ(compact[e], 1) << "compact, entry " << e;
    }
    // The next lap reuses the same entries in the same order.
    EXPECT_EQ(Ring128<staticrt::ScqLayout::spread>::slot_of(256 + 37), Ring128<staticrt::ScqLayout::spread>::slot_of(37));
}

TEST(ScqIndexRing, SpreadLayout_EightNeighbouringPositions_EightLines) {
    using R = Ring128<staticrt::ScqLayout::spread>;
    for (std::uint64_t base = 0; base < 256; base += 8) {
        std::vector<std::size_t> lines;
        for (std::uint64_t p = base; p < base + 8; ++p) lines.push_back(line_of(R::slot_of(p)));
        std::sort(lines.begin(), lines.end());
        EXPECT_EQ(std::unique(lines.begin(), lines.end()), lines.end()) << "positions " << base << ".." << base + 7;
    }
}

TEST(ScqIndexRing, CompactLayout_EightNeighbouringPositions_OneLine) {
    using R = Ring128<staticrt::ScqLayout::compact>;
    for (std::uint64_t p = 0; p < 512; ++p) EXPECT_EQ(R::slot_of(p), p % 256);
    for (std::uint64_t base = 0; base < 256; base += 8)
        EXPECT_EQ(line_of(R::slot_of(base)), line_of(R::slot_of(base + 7)));
}

TEST(ScqQueue, CompactLayout_FifoOverManyLaps_AndFull) {
    staticrt::CompactScqQueue<int, 128> q;
    static_assert(decltype(q)::kLayout == staticrt::ScqLayout::compact);
    int next_in = 0, next_out = 0;
    for (int lap = 0; lap < 20; ++lap) {
        while (q.try_push(next_in)) ++next_in;
        ASSERT_EQ(next_in - next_out, 128) << "lap " << lap;  // exactly N slots
        for (int k = 0; k < 77; ++k) {  // not a multiple of a line: the laps shift
            int v = -1;
            ASSERT_TRUE(q.try_pop(v));
            ASSERT_EQ(v, next_out++);
        }
    }
    int v = -1;
    while (q.try_pop(v)) ASSERT_EQ(v, next_out++);
    EXPECT_EQ(next_out, next_in);
}

TEST(ScqQueue, ConstinitGlobal_WorksWithoutConstruction) {
    EXPECT_TRUE(g_scq.try_push(6));
    EXPECT_EQ(*g_scq.pop(), 6);
}

TEST(ScqQueue, SizeApprox_AfterPushesAndPops_IsExact) {
    staticrt::ScqQueue<int, 8> q;
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(q.try_push(i));
    int v;
    ASSERT_TRUE(q.try_pop(v));
    EXPECT_EQ(q.size_approx(), 4u);
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(q.try_pop(v));
    EXPECT_FALSE(q.try_pop(v));
    EXPECT_EQ(q.size_approx(), 0u);
}

TEST(ScqQueue, FullAfterManyLaps_StillExactlyNSlots) {
    // Cells come back through the free ring in pop order, not in index order: the queue must
    // still hold exactly N (no cell leaked, none handed out twice).
    staticrt::ScqQueue<int, 4> q;
    int v = 0;
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(q.try_push(i));
    for (int lap = 0; lap < 200; ++lap) {
        const int k = 1 + lap % 4;
        for (int i = 0; i < k; ++i) ASSERT_TRUE(q.try_pop(v));
        int n = 0;
        while (q.try_push(n)) ++n;
        ASSERT_EQ(n, k) << "lap " << lap;
    }
}

TEST(ScqQueue, TryPop_AfterCloseWithItems_StillReturnsThemThenClosed) {
    staticrt::ScqQueue<int, 4> q;
    ASSERT_TRUE(q.try_push(1));
    ASSERT_TRUE(q.try_push(2));
    q.close();
    EXPECT_TRUE(q.closed());
    EXPECT_FALSE(q.try_push(3));
    EXPECT_EQ(q.push(3).code(), Errc::closed);
    int v = 0;
    EXPECT_TRUE(q.try_pop(v));
    EXPECT_EQ(v, 1);
    EXPECT_EQ(*q.pop(Deadline::poll()), 2);
    EXPECT_FALSE(q.try_pop(v));
    EXPECT_EQ(q.pop(Deadline::poll()).code(), Errc::closed);
    EXPECT_EQ(q.size_approx(), 0u);
}

TEST(ScqQueue, Close_Twice_IsIdempotent) {
    staticrt::ScqQueue<int, 4> q;
    ASSERT_TRUE(q.try_push(1));
    q.close();
    q.close();
    EXPECT_EQ(*q.pop(Deadline::poll()), 1);
    EXPECT_EQ(q.pop(Deadline::poll()).code(), Errc::closed);
}

TEST(ScqQueue, PushMoveOnly_AfterClose_KeepsCallersValue) {
    staticrt::ScqQueue<std::unique_ptr<int>, 2> q;
    q.close();
    auto p = std::make_unique<int>(7);
    EXPECT_EQ(q.push(std::move(p)).code(), Errc::closed);
    ASSERT_NE(p, nullptr);  // the early check refuses before touching it
    EXPECT_EQ(*p, 7);
}

TEST(ScqQueue, Close_WithBlockedProducers_WakesAllWithClosed) {
    staticrt::test::Watchdog wd{20s};
    staticrt::ScqQueue<int, 2> q;
    ASSERT_TRUE(q.try_push(1));
    ASSERT_TRUE(q.try_push(2));
    std::atomic<int> closed{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < 3; ++i) ts.emplace_back([&] { if (q.push(9, Deadline::after(10s)).code() == Errc::closed) ++closed; });
    ASSERT_TRUE(staticrt::test::eventually([&] { return q.waiting_producers() == 3; }));
    q.close();
    for (auto& t : ts) t.join();
    EXPECT_EQ(closed.load(), 3);
    EXPECT_EQ(*q.pop(), 1);
    EXPECT_EQ(*q.pop(), 2);
    EXPECT_EQ(q.pop().code(), Errc::closed);
}

namespace {
using SharedQ8 = staticrt::ScqQueue<std::uint64_t, 8, staticrt::WaitScope::process_shared>;
/// Closes `q` (empty), then scribbles its close position (the used ring's tail and the drain
/// limit) to `far` positions past the head, as another process's stray writes could.
bool close_far_ahead(SharedQ8& q, std::uint64_t far) {
    q.close();
    auto* w = reinterpret_cast<std::uint64_t*>(&q);
    const std::size_t words = sizeof(SharedQ8) / sizeof(std::uint64_t);
    std::size_t tail = words, limit = words;
    for (std::size_t i = 0; i < words; ++i) {
        if (w[i] == std::uint64_t{1} << 63) tail = i;  // the used ring's tail: position 0, closed
        // The drain limit (the tail at the close + 1) is the first word that reads 1; the
        // parking words' epochs after it were bumped to 1 by close()'s wake-ups.
        if (w[i] == 1 && limit == words) limit = i;
    }
    if (tail == words || limit == words) return false;
    w[tail] = far | std::uint64_t{1} << 63;
    w[limit] = far + 1;
    return true;
}
/// A fresh empty queue closed with its close position `far` past the head; what a 20 ms pop says.
Errc pop_after_close_far(std::uint64_t far) {
    static SharedQ8 q;  // reused: constructed afresh each time (nothing to destroy for u64)
    SharedQ8* fresh = ::new (static_cast<void*>(&q)) SharedQ8;
    if (!close_far_ahead(*fresh, far)) return Errc::invalid_argument;
    const auto r = fresh->pop(Deadline::after(20ms));
    return r ? Errc::ok : r.code();
}
}  // namespace

TEST(ScqQueueShared, ScribbledCloseFarPastTheHead_Corrupted) {
    // A process-shared queue trusts no word it reads: a close position 2^40 past the head of an
    // empty ring is no state a live queue reaches (a drain would pass 2^40 positions).
    staticrt::test::Watchdog wd{60s};
    EXPECT_EQ(pop_after_close_far(std::uint64_t{1} << 40), Errc::corrupted);
}

TEST(ScqQueueShared, ScribbledCloseNearlyAsFar_PopStillEndsByItsDeadline) {
    // 2^20 positions: under the plausibility bound, so the drain walks them, but a bounded number
    // per attempt: the pop ends by its deadline (without the bound, one attempt runs for seconds
    // and then reports a drained queue).
    staticrt::test::Watchdog wd{60s};
    EXPECT_EQ(pop_after_close_far(std::uint64_t{1} << 20), Errc::timeout);
}
