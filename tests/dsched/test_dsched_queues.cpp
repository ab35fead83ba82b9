// SPDX-License-Identifier: MIT
// The queue cores over DSchedPolicy under seeded schedules: SpscRing, MpmcRing, ScqRing, TicketRing and JoinableRing
// hand over every element exactly once through blocking push/pop on tiny capacities; close()
// wakes every blocked consumer and producer; join() returns exactly when every item is done.
// The scenarios are in queue_scenarios.hpp.
#include <gtest/gtest.h>

#include "dsched_suite.hpp"
#include "queue_scenarios.hpp"

namespace {

using namespace dsched_scenarios;

TEST(DschedSpsc, BlockingPushPop_EveryElementOnceInOrder) {
    dsched_suite::expect_all_pass("spsc.transfer", 300, spsc_transfer);
}
TEST(DschedSpsc, Close_WakesBlockedConsumer) {
    dsched_suite::expect_all_pass("spsc.close_wakes_consumer", 400, [] { return spsc_close_wakes(false); });
}
TEST(DschedSpsc, Close_WakesBlockedProducer) {
    dsched_suite::expect_all_pass("spsc.close_wakes_producer", 400, [] { return spsc_close_wakes(true); });
}
TEST(DschedSpsc, FullQueue_ProducerSlipIsBounded_NoLivelock) {
    dsched_suite::expect_all_pass("spsc.slip_bounded", 60, slip_bounded<Spsc>);
}
TEST(DschedMpmc, BlockingPushPop_TwoByTwo_EveryElementOnce) {
    dsched_suite::expect_all_pass("mpmc.transfer", 300, mpmc_transfer<>);
}
TEST(DschedMpmc, FullQueue_ProducerSlipIsBounded_NoLivelock) {
    dsched_suite::expect_all_pass("mpmc.slip_bounded", 60, slip_bounded<Mpmc>);
}
TEST(DschedMpmc, Close_WakesEveryBlockedConsumer) {
    dsched_suite::expect_all_pass("mpmc.close_wakes_consumers", 400, [] { return mpmc_close_wakes(false); });
}
TEST(DschedMpmc, Close_WakesEveryBlockedProducer) {
    dsched_suite::expect_all_pass("mpmc.close_wakes_producers", 400, [] { return mpmc_close_wakes(true); });
}
TEST(DschedScq, BlockingPushPop_TwoByTwo_EveryElementOnce) {
    dsched_suite::expect_all_pass("scq.transfer", 300, scq_transfer);
}
TEST(DschedScq, Close_WakesEveryBlockedConsumer) {
    dsched_suite::expect_all_pass("scq.close_wakes_consumers", 400, [] { return scq_close_wakes(false); });
}
TEST(DschedScq, Close_WakesEveryBlockedProducer) {
    dsched_suite::expect_all_pass("scq.close_wakes_producers", 400, [] { return scq_close_wakes(true); });
}
TEST(DschedScq, FullQueue_ProducerSlipIsBounded_NoLivelock) {
    dsched_suite::expect_all_pass("scq.slip_bounded", 60, slip_bounded<Scq>);
}
TEST(DschedScq, IndexRingChurn_EveryIndexKept) {
    dsched_suite::expect_all_pass("scq.ring_churn", 600, [] { return scq_ring_churn<2, 3>(); });
}
TEST(DschedScq, IndexRingChurn_OneIndexFourThreads_Kept) {
    dsched_suite::expect_all_pass("scq.ring_churn_1x4", 1500, [] { return scq_ring_churn<1, 4>(); });
}
// N = 8: 16 entries, two lines of them, so the two layouts put the positions in different entries.
TEST(DschedScq, SharedIndexRingChurn_RescuesRaceLiveDequeuers_EveryIndexKept) {
    using staticrt::ScqLayout;
    dsched_suite::expect_all_pass("scq.shared_ring_churn", 600, [] { return scq_ring_churn<2, 3, ScqLayout::spread, true>(); });
    dsched_suite::expect_all_pass("scq.shared_ring_churn_1x4", 1500,
                                  [] { return scq_ring_churn<1, 4, ScqLayout::spread, true>(); });
    dsched_suite::expect_all_pass("scq.shared_ring_churn_8_compact", 200,
                                  [] { return scq_ring_churn<8, 3, ScqLayout::compact, true>(); });
}

TEST(DschedScq, IndexRingChurn_EightIndices_BothLayouts_EveryIndexKept) {
    dsched_suite::expect_all_pass("scq.ring_churn_8_spread", 200,
                                  [] { return scq_ring_churn<8, 3, staticrt::ScqLayout::spread>(); });
    dsched_suite::expect_all_pass("scq.ring_churn_8_compact", 200,
                                  [] { return scq_ring_churn<8, 3, staticrt::ScqLayout::compact>(); });
}
TEST(DschedScq, Compact_FullQueue_ProducerSlipIsBounded_NoLivelock) {
    dsched_suite::expect_all_pass("scq_compact.slip_bounded", 60, slip_bounded<ScqCompact>);
}
TEST(DschedScq, CloseRacingPushes_AcceptedExactlyTaken) {
    dsched_suite::expect_all_pass("scq.close_race", 400, scq_close_race);
}
TEST(DschedTicket, BlockingPushPop_TwoByTwo_EveryElementOnce) {
    dsched_suite::expect_all_pass("ticket.transfer", 300, ticket_transfer);
}
TEST(DschedTicket, AlwaysTickets_TwoByTwo_EveryElementOnce) {
    dsched_suite::expect_all_pass("ticket.always_transfer", 300, ticket_always_transfer);
}
TEST(DschedTicket, AlwaysTickets_NoSpuriousWakes_EveryElementOnce) {
    // Without the scheduler's spurious wake-ups a ticket holder that nobody wakes stays parked:
    // a lost wake-up shows as a deadlock instead of being papered over.
    dsched::Options o;
    o.spurious_wake_permille = 0;
    dsched_suite::expect_all_pass("ticket.always_transfer_no_spurious", 300, ticket_always_transfer, o);
}
TEST(DschedTicket, FullQueue_ProducerSlipIsBounded_NoLivelock) {
    dsched_suite::expect_all_pass("ticket.slip_bounded", 60, slip_bounded<Ticket>);
}
TEST(DschedTicket, Close_WakesEveryTicketConsumer) {
    dsched_suite::expect_all_pass("ticket.close_wakes_consumers", 400, [] { return ticket_close_wakes(false); });
}
TEST(DschedTicket, Close_WakesEveryTicketProducer) {
    dsched_suite::expect_all_pass("ticket.close_wakes_producers", 400, [] { return ticket_close_wakes(true); });
}
TEST(DschedTicket, CloseRacingTicketPushes_AcceptedExactlyTaken) {
    dsched_suite::expect_all_pass("ticket.close_race_1", 400, close_race<TicketAlways<int, 1>>);
    dsched_suite::expect_all_pass("ticket.close_race_2", 400, close_race<TicketAlways<int, 2>>);
}
TEST(DschedTicket, MixedClaims_CloseRace_AcceptedExactlyTaken) {
    dsched_suite::expect_all_pass("ticket.mixed_close", 400, ticket_mixed_close);
}
TEST(DschedJoinable, Join_ReturnsExactlyWhenEveryItemIsDone) {
    dsched_suite::expect_all_pass("joinable.join", 300, joinable_join);
}

}  // namespace
