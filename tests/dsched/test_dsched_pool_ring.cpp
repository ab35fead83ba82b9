// SPDX-License-Identifier: MIT
// The thread pool's task ring and worker sleep/wake protocol (TaskRing<DSchedPolicy>) under
// seeded schedules: every task runs exactly once, no worker is left asleep with work queued, a
// producer parked on a full ring is woken (the quarter-ring hysteresis), close() wakes sleeping
// workers and blocked producers. Scenarios in pool_ring_scenarios.hpp.
#include <gtest/gtest.h>

#include "dsched_suite.hpp"
#include "pool_ring_scenarios.hpp"

namespace {

using namespace dsched_scenarios;

TEST(DschedPoolRing, TwoProducersTwoWorkers_EveryTaskRunsOnce_CloseDrains) {
    dsched_suite::expect_all_pass("pool_ring.run_once", 300, pool_ring_run_once);
}

TEST(DschedPoolRing, PublishWhileWorkersSleep_NoTaskStranded) {
    dsched_suite::expect_all_pass("pool_ring.no_stranded_sleeper", 300, pool_ring_no_stranded_sleeper);
}

TEST(DschedPoolRing, FullRing_ProducerWokenByHysteresis) {
    dsched_suite::expect_all_pass("pool_ring.full_producer_woken", 150, pool_ring_full_producer_woken);
}

TEST(DschedPoolRing, OddLastBusyCellFreed_ParkedProducerWokenByDepth) {
    dsched_suite::expect_all_pass("pool_ring.last_busy_cell_freed", 400, pool_ring_last_busy_cell_freed);
}

TEST(DschedPoolRing, Close_WakesSleepingWorkersAndBlockedProducers) {
    dsched_suite::expect_all_pass("pool_ring.close_wakes", 300, pool_ring_close_wakes);
}

TEST(DschedPoolRing, Targeted_OneProducer_NoTaskStranded) {
    dsched_suite::expect_all_pass("pool_ring.targeted_one_producer", 300, pool_ring_targeted_one_producer);
}

TEST(DschedPoolRing, Targeted_TwoProducers_EveryTaskRunsOnce) {
    dsched_suite::expect_all_pass("pool_ring.targeted_two_producers", 300, pool_ring_targeted_two_producers);
}

TEST(DschedPoolRing, TargetedAndSharedWorkers_NoTaskStranded) {
    dsched_suite::expect_all_pass("pool_ring.targeted_mixed", 300, pool_ring_targeted_mixed);
}

TEST(DschedPoolRing, Targeted_Close_WakesParkedWorkers) {
    dsched_suite::expect_all_pass("pool_ring.targeted_close_wakes", 300, pool_ring_targeted_close_wakes);
}

}  // namespace
