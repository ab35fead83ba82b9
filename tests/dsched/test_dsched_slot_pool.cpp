// SPDX-License-Identifier: MIT
// The result-slot pool over DSchedPolicy under seeded schedules: close() (ThreadPool::shutdown())
// wakes a caller blocked for a free slot with Errc::closed; one slot handed over among three
// threads never has two holders and strands nobody; a home slot (a ThreadPool's binding of slots
// to queue cells) freed by a plain store wakes a waiter, and a cell's owner taking home and
// free-list slots never makes two holders. Scenarios in slot_pool_scenarios.hpp.
#include <gtest/gtest.h>

#include "dsched_suite.hpp"
#include "slot_pool_scenarios.hpp"

namespace {

using namespace dsched_scenarios;

TEST(DschedSlotPool, Close_WakesBlockedSubmitterWithClosed) {
    dsched_suite::expect_all_pass("slot_pool.close_wakes_submitter", 600, slot_pool_close_wakes_submitter);
}

TEST(DschedSlotPool, OneSlot_ThreeThreads_HandedOverWithoutStrandingAnyone) {
    dsched_suite::expect_all_pass("slot_pool.hand_over", 400, slot_pool_hand_over);
}

TEST(DschedSlotPool, HomeSlotFreed_WakesWaiterForAnySlot) {
    dsched_suite::expect_all_pass("slot_pool.home_release_wakes_waiter", 600, slot_pool_home_release_wakes_waiter);
}

TEST(DschedSlotPool, HomeSlotAndFreeList_HandedOverWithoutTwoHoldersOrStranding) {
    dsched_suite::expect_all_pass("slot_pool.home_hand_over", 400, slot_pool_home_hand_over);
}

}  // namespace
