// SPDX-License-Identifier: MIT
// Past bug "the consumer sleeping after close": close() did not wake a consumer parked in pop()
// on an empty queue, which then slept for good (seen once in 25 stress runs as the
// close-under-load hang). Built with SpscRing and MpmcRing patched by the mutants
// dsched-spsc-close-no-wake-consumer and dsched-mpmc-close-no-wake-consumer
// (tests/mutants/mutants.txt) first on the include path: this test PASSES only when the
// scheduler finds the hang (a deadlock) within the CI budget and its seed replays it.
#include <gtest/gtest.h>

#include "dsched_suite.hpp"
#include "queue_scenarios.hpp"

namespace {

using namespace dsched_scenarios;

constexpr std::uint64_t kBudget = 4000;  // schedules per strategy at most (the CI budget; it stops at the first find)

TEST(DschedBug, SpscConsumerSleepingAfterClose_IsFound) {
    dsched_suite::expect_deadlock_found("bug.spsc_sleep_after_close", kBudget, [] { return spsc_close_wakes(false); });
}

TEST(DschedBug, MpmcConsumerSleepingAfterClose_IsFound) {
    dsched_suite::expect_deadlock_found("bug.mpmc_sleep_after_close", kBudget, [] { return mpmc_close_wakes(false); });
}

}  // namespace
