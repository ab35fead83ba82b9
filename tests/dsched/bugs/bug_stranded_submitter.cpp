// SPDX-License-Identifier: MIT
// Past bug "the stranded blocked submitter": shutdown did not wake a submitter blocked for a
// free result slot (or close() one blocked for room in a full queue), which then slept for good.
// Built with SlotPool, SpscRing and MpmcRing patched by the mutants dsched-slotpool-close-no-wake,
// dsched-spsc-close-no-wake-producer and dsched-mpmc-close-no-wake-producer
// (tests/mutants/mutants.txt) first on the include path: this test PASSES only when the
// scheduler finds the hang (a deadlock) within the CI budget and its seed replays it.
#include <gtest/gtest.h>

#include "dsched_suite.hpp"
#include "queue_scenarios.hpp"
#include "slot_pool_scenarios.hpp"

namespace {

using namespace dsched_scenarios;

constexpr std::uint64_t kBudget = 4000;  // schedules per strategy at most (the CI budget; it stops at the first find)

TEST(DschedBug, SubmitterWaitingForResultSlotStrandedByShutdown_IsFound) {
    dsched_suite::expect_deadlock_found("bug.slot_pool_stranded_submitter", kBudget, slot_pool_close_wakes_submitter);
}

TEST(DschedBug, SpscProducerStrandedByClose_IsFound) {
    dsched_suite::expect_deadlock_found("bug.spsc_stranded_producer", kBudget, [] { return spsc_close_wakes(true); });
}

TEST(DschedBug, MpmcProducersStrandedByClose_IsFound) {
    dsched_suite::expect_deadlock_found("bug.mpmc_stranded_producer", kBudget, [] { return mpmc_close_wakes(true); });
}

}  // namespace
