// SPDX-License-Identifier: MIT
// Blocking-only queue stress (tests/support/queue_blocking_stress.hpp): tiny capacities so both
// sides park all the time; every blocking call has a deadline whose expiry FAILS the test (a
// lost wake-up), never a timed pop that retries. One SPSC run per non-blocking call, paired with
// a blocked other side, so a try_ call that forgets its notify fails here.
#include <gtest/gtest.h>

#include <cstdint>

#include "queue_blocking_stress.hpp"
#include "staticrt/queue/mpmc_queue.hpp"
#include "staticrt/queue/scq_queue.hpp"
#include "staticrt/queue/spsc_queue.hpp"
#include "staticrt/queue/ticket_queue.hpp"
#include "watchdog.hpp"

using staticrt::test::ConsumeBy;
using staticrt::test::ProduceBy;

namespace {
struct Combo {
    ProduceBy pb;
    ConsumeBy cb;
};
constexpr Combo kSpscCombos[] = {
    {ProduceBy::push, ConsumeBy::pop},          {ProduceBy::try_push, ConsumeBy::pop},
    {ProduceBy::try_emplace, ConsumeBy::pop},   {ProduceBy::try_push_n, ConsumeBy::pop},
    {ProduceBy::push, ConsumeBy::try_pop},      {ProduceBy::push, ConsumeBy::try_pop_n},
};
}  // namespace

class SpscBlockingStress : public ::testing::TestWithParam<Combo> {};

TEST_P(SpscBlockingStress, EveryItemInOrder_NoLostWakeUp) {
    staticrt::test::Watchdog wd{std::chrono::seconds(300)};
    const auto n = static_cast<std::uint64_t>(staticrt::test::scaled(50'000, 2'000));
    staticrt::SpscQueue<std::uint64_t, 2> q;
    const auto r = staticrt::test::spsc_blocking(q, n, GetParam().pb, GetParam().cb);
    EXPECT_TRUE(r.ok) << r.what;
    EXPECT_EQ(r.popped, n);
}

INSTANTIATE_TEST_SUITE_P(Calls, SpscBlockingStress, ::testing::ValuesIn(kSpscCombos),
                         [](const ::testing::TestParamInfo<Combo>& i) {
                             return std::string(staticrt::test::name_of(i.param.pb)) + "_" +
                                    staticrt::test::name_of(i.param.cb);
                         });

TEST(MpmcBlockingStress, TwoByTwo_Blocking_EveryItemOnce) {
    staticrt::test::Watchdog wd{std::chrono::seconds(300)};
    const auto per = static_cast<std::uint64_t>(staticrt::test::scaled(25'000, 1'000));
    staticrt::MpmcQueue<std::uint64_t, 2> q;
    const auto r = staticrt::test::mpmc_blocking(q, 2, 2, per, ProduceBy::push, ConsumeBy::pop);
    EXPECT_TRUE(r.ok) << r.what;
    EXPECT_EQ(r.popped, 2 * per);
}

TEST(MpmcBlockingStress, TryPushProducers_BlockedConsumers_EveryItemOnce) {
    staticrt::test::Watchdog wd{std::chrono::seconds(300)};
    const auto per = static_cast<std::uint64_t>(staticrt::test::scaled(25'000, 1'000));
    staticrt::MpmcQueue<std::uint64_t, 2> q;
    const auto r = staticrt::test::mpmc_blocking(q, 2, 2, per, ProduceBy::try_push, ConsumeBy::pop);
    EXPECT_TRUE(r.ok) << r.what;
    EXPECT_EQ(r.popped, 2 * per);
}

TEST(MpmcBlockingStress, BlockedProducers_TryPopConsumers_EveryItemOnce) {
    staticrt::test::Watchdog wd{std::chrono::seconds(300)};
    const auto per = static_cast<std::uint64_t>(staticrt::test::scaled(25'000, 1'000));
    staticrt::MpmcQueue<std::uint64_t, 2> q;
    const auto r = staticrt::test::mpmc_blocking(q, 2, 2, per, ProduceBy::push, ConsumeBy::try_pop);
    EXPECT_TRUE(r.ok) << r.what;
    EXPECT_EQ(r.popped, 2 * per);
}

TEST(ScqBlockingStress, TwoByTwo_AllCallKinds_EveryItemOnce) {
    staticrt::test::Watchdog wd{std::chrono::seconds(300)};
    const auto per = static_cast<std::uint64_t>(staticrt::test::scaled(25'000, 1'000));
    for (const auto& c : staticrt::test::kMpmcCalls) {
        staticrt::ScqQueue<std::uint64_t, 2> q;
        const auto r = staticrt::test::mpmc_blocking(q, 2, 2, per, c.pb, c.cb);
        EXPECT_TRUE(r.ok) << staticrt::test::name_of(c.pb) << "/" << staticrt::test::name_of(c.cb) << ": " << r.what;
        EXPECT_EQ(r.popped, 2 * per);
    }
}

TEST(TicketBlockingStress, TwoByTwo_AllCallKinds_EveryItemOnce) {
    staticrt::test::Watchdog wd{std::chrono::seconds(300)};
    const auto per = static_cast<std::uint64_t>(staticrt::test::scaled(25'000, 1'000));
    for (const auto& c : staticrt::test::kMpmcCalls) {
        staticrt::detail::TicketRing<std::uint64_t, 2, staticrt::detail::OsWaitPolicy, staticrt::WaitScope::process_private, 0> q;
        const auto r = staticrt::test::mpmc_blocking(q, 2, 2, per, c.pb, c.cb);
        EXPECT_TRUE(r.ok) << staticrt::test::name_of(c.pb) << "/" << staticrt::test::name_of(c.cb) << ": " << r.what;
        EXPECT_EQ(r.popped, 2 * per);
    }
}
