// SPDX-License-Identifier: MIT
// Reduced blocking-only queue stress for every target (qemu, wine): the same runs as
// tests/stress/test_queue_blocking_stress.cpp with a few thousand items (seconds at most).
#include <doctest/doctest.h>

#include <cstdint>

#include "queue_blocking_stress.hpp"
#include "staticrt/queue/mpmc_queue.hpp"
#include "staticrt/queue/scq_queue.hpp"
#include "staticrt/queue/spsc_queue.hpp"
#include "staticrt/queue/ticket_queue.hpp"

using staticrt::test::ConsumeBy;
using staticrt::test::ProduceBy;

TEST_CASE("QueueStress: SPSC blocking, each call against a blocked other side, every item in order") {
    const struct {
        ProduceBy pb;
        ConsumeBy cb;
    } combos[] = {
        {ProduceBy::push, ConsumeBy::pop},        {ProduceBy::try_push, ConsumeBy::pop},
        {ProduceBy::try_emplace, ConsumeBy::pop}, {ProduceBy::try_push_n, ConsumeBy::pop},
        {ProduceBy::push, ConsumeBy::try_pop},    {ProduceBy::push, ConsumeBy::try_pop_n},
    };
    for (const auto& c : combos) {
        CAPTURE(staticrt::test::name_of(c.pb));
        CAPTURE(staticrt::test::name_of(c.cb));
        staticrt::SpscQueue<std::uint64_t, 2> q;
        const auto r = staticrt::test::spsc_blocking(q, 3000, c.pb, c.cb);
        CHECK_MESSAGE(r.ok, r.what);
        CHECK(r.popped == 3000);
    }
}

TEST_CASE_TEMPLATE("QueueStress: MPMC 2x2 blocking, try_push and try_pop sides, every item once", Q,
                   staticrt::MpmcQueue<std::uint64_t, 2>, staticrt::ScqQueue<std::uint64_t, 2>,
                   staticrt::TicketQueue<std::uint64_t, 2>) {
    for (const auto& c : staticrt::test::kMpmcCalls) {
        CAPTURE(staticrt::test::name_of(c.pb));
        CAPTURE(staticrt::test::name_of(c.cb));
        Q q;
        const auto r = staticrt::test::mpmc_blocking(q, 2, 2, 1500, c.pb, c.cb);
        CHECK_MESSAGE(r.ok, r.what);
        CHECK(r.popped == 3000);
    }
}

