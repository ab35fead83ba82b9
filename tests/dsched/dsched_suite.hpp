// SPDX-License-Identifier: MIT
// tests/dsched/dsched_suite.hpp — the gtest side of the deterministic scheduler: run a case
// under both strategies for a bounded number of seeds and fail with the replay line.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "dsched.hpp"

namespace dsched_suite {

/// `count` schedules of each strategy (seeds 1..count) must all pass.
inline void expect_all_pass(const std::string& name, std::uint64_t count, const dsched::Factory& factory,
                            dsched::Options base = {}) {
    for (dsched::Strategy s : {dsched::Strategy::random, dsched::Strategy::pct}) {
        base.strategy = s;
        const dsched::Explored ex = dsched::explore(name, base, 1, count, factory);
        if (ex.failed) ADD_FAILURE() << dsched::describe(name, ex.failing, ex.outcome);
    }
}

/// The bug must be found within `count` schedules of `strategy`; its seed must replay it.
/// Returns the failing schedule (seed 0 when skipped by STATICRT_DSCHED_STRATEGY).
inline dsched::Explored expect_found(const std::string& name, dsched::Strategy strategy, std::uint64_t count,
                                     const dsched::Factory& factory, dsched::Options base = {}) {
    base.strategy = strategy;
    const dsched::Explored ex = dsched::explore(name, base, 1, count, factory);
    if (ex.skipped) return ex;
    EXPECT_TRUE(ex.failed) << name << ": the bug was not found in " << count << " " << dsched::to_string(strategy)
                           << " schedules";
    if (!ex.failed) return ex;
    const dsched::Outcome again = dsched::run_once(ex.failing, factory());
    EXPECT_EQ(again.verdict, ex.outcome.verdict) << "the seed did not replay the failure";
    EXPECT_EQ(again.trace_hash, ex.outcome.trace_hash) << "the seed did not replay the same schedule";
    std::printf("dsched: %s found by %s seed %llu (%s, %llu steps), replayed\n", name.c_str(),
                dsched::to_string(strategy), static_cast<unsigned long long>(ex.failing.seed),
                dsched::to_string(ex.outcome.verdict), static_cast<unsigned long long>(ex.outcome.steps));
    return ex;
}

/// A re-introduced hang: both strategies must find it as a deadlock within `count` schedules.
inline void expect_deadlock_found(const std::string& name, std::uint64_t count, const dsched::Factory& factory) {
    for (dsched::Strategy s : {dsched::Strategy::random, dsched::Strategy::pct}) {
        const dsched::Explored ex = expect_found(name, s, count, factory);
        if (ex.failed) {
            EXPECT_EQ(ex.outcome.verdict, dsched::Verdict::deadlock) << ex.outcome.detail;
        }
    }
}

}  // namespace dsched_suite
