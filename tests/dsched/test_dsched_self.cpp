// SPDX-License-Identifier: MIT
// The scheduler's own tests: it finds a lost update and a lost wake-up within the CI budget,
// the printed seed replays the very same schedule, and a correct protocol passes every schedule.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "dsched.hpp"

namespace {

using dsched::Case;
using dsched::DAtomic;
using dsched::DSchedPolicy;
using dsched::Options;
using dsched::Strategy;
using dsched::Verdict;
using staticrt::Deadline;
using staticrt::platform::WaitScope;

constexpr WaitScope kPrivate = WaitScope::process_private;

// ------------------------------------------------------------------ scenarios
/// Two threads increment with load + store (not one RMW): an update can be lost.
Case lost_update(bool atomic_rmw) {
    auto x = std::make_shared<DAtomic<int>>(0);
    Case c;
    for (int t = 0; t < 2; ++t) {
        c.bodies.push_back([x, atomic_rmw] {
            for (int i = 0; i < 3; ++i) {
                if (atomic_rmw) (void)x->fetch_add(1);
                else x->store(x->load() + 1);
            }
        });
    }
    c.check = [x] { return x->peek() == 6 ? std::string() : "count " + std::to_string(x->peek()) + " != 6"; };
    return c;
}

/// A waiter and a notifier on a flag. Buggy: the waiter checks the flag, then announces itself
/// and sleeps; the notifier only wakes when it sees the announcement, so a notify between the
/// check and the announcement is lost. Correct: the waiter counts itself in and reads the
/// sequence word BEFORE it checks the flag, and sleeps only while that word is unchanged.
Case wake_up(bool correct) {
    struct S {
        DAtomic<std::uint32_t> flag{0};
        DAtomic<std::uint32_t> waiters{0};
        DAtomic<std::uint32_t> seq{0};
    };
    auto s = std::make_shared<S>();
    Case c;
    c.bodies.push_back([s, correct] {  // waiter
        if (correct) {
            (void)s->waiters.fetch_add(1);
            for (;;) {
                const std::uint32_t seen = s->seq.load();
                if (s->flag.load() != 0) break;
                (void)DSchedPolicy::wait(s->seq, seen, Deadline::never(), kPrivate);
            }
            (void)s->waiters.fetch_sub(1);
        } else {
            while (s->flag.load() == 0) {
                s->waiters.store(1);
                (void)DSchedPolicy::wait(s->seq, s->seq.load(), Deadline::never(), kPrivate);
            }
        }
    });
    c.bodies.push_back([s] {  // notifier
        s->flag.store(1);
        if (s->waiters.load() != 0) {
            (void)s->seq.fetch_add(1);
            DSchedPolicy::wake_all(s->seq, kPrivate);
        }
    });
    return c;
}

Options with(Strategy s) {
    Options o;
    o.strategy = s;
    return o;
}

/// The bug is found within `budget` schedules, and its seed replays the same schedule.
void expect_found_and_replayed(const char* name, Strategy strategy, std::uint64_t budget, Verdict expected,
                               const dsched::Factory& f) {
    const dsched::Explored ex = dsched::explore(name, with(strategy), 1, budget, f);
    if (ex.skipped) return;  // STATICRT_DSCHED_STRATEGY replays the other strategy
    ASSERT_TRUE(ex.failed) << name << ": not found in " << budget << " " << dsched::to_string(strategy)
                           << " schedules";
    EXPECT_EQ(ex.outcome.verdict, expected) << ex.outcome.detail;
    const dsched::Outcome again = dsched::run_once(ex.failing, f());
    EXPECT_EQ(again.verdict, ex.outcome.verdict);
    EXPECT_EQ(again.steps, ex.outcome.steps);
    EXPECT_EQ(again.trace_hash, ex.outcome.trace_hash) << "the seed did not replay the same schedule";
    EXPECT_EQ(again.detail, ex.outcome.detail);
}

// ------------------------------------------------------------------ tests
TEST(DschedSelf, LoadStoreIncrement_IsFoundAndReplayed) {
    for (Strategy s : {Strategy::random, Strategy::pct}) {
        expect_found_and_replayed("self.lost_update", s, 200, Verdict::failed, [] { return lost_update(false); });
    }
}

TEST(DschedSelf, CheckThenWait_LostWakeUpIsFoundAsDeadlockAndReplayed) {
    for (Strategy s : {Strategy::random, Strategy::pct}) {
        expect_found_and_replayed("self.lost_wakeup", s, 500, Verdict::deadlock, [] { return wake_up(false); });
    }
}

TEST(DschedSelf, CorrectProtocols_PassEverySchedule) {
    for (Strategy s : {Strategy::random, Strategy::pct}) {
        EXPECT_FALSE(dsched::explore("self.fetch_add", with(s), 1, 500, [] { return lost_update(true); }).failed);
        EXPECT_FALSE(dsched::explore("self.counted_wait", with(s), 1, 1000, [] { return wake_up(true); }).failed);
    }
}

TEST(DschedSelf, EnvSeed_ReplaysThePrintedScheduleOnly) {
    // The caller's own replay variables (if any) are put aside and restored.
    const char* names[] = {"STATICRT_DSCHED_SEED", "STATICRT_DSCHED_STRATEGY", "STATICRT_DSCHED_SCALE"};
    std::string saved[3];
    bool had[3] = {};
    for (int i = 0; i < 3; ++i) {
        if (const char* v = std::getenv(names[i])) had[i] = true, saved[i] = v;
        ::unsetenv(names[i]);
    }
    const auto f = [] { return wake_up(false); };
    const dsched::Explored found = dsched::explore("self.lost_wakeup", with(Strategy::pct), 1, 500, f);
    const std::string seed = std::to_string(found.failing.seed);
    ::setenv("STATICRT_DSCHED_SEED", seed.c_str(), 1);
    ::setenv("STATICRT_DSCHED_STRATEGY", "pct", 1);
    const dsched::Explored other = dsched::explore("self.lost_wakeup", with(Strategy::random), 1, 500, f);
    const dsched::Explored again = dsched::explore("self.lost_wakeup", with(Strategy::pct), 1, 500, f);
    for (int i = 0; i < 3; ++i) {
        if (had[i]) ::setenv(names[i], saved[i].c_str(), 1);
        else ::unsetenv(names[i]);
    }
    ASSERT_TRUE(found.failed);
    EXPECT_TRUE(other.skipped) << "the other strategy ran during a replay";
    EXPECT_EQ(other.schedules, 0u);
    EXPECT_EQ(again.schedules, 1u) << "a replay runs exactly the one seed";
    ASSERT_TRUE(again.failed);
    EXPECT_EQ(again.failing.seed, found.failing.seed);
    EXPECT_EQ(again.outcome.trace_hash, found.outcome.trace_hash);
    EXPECT_EQ(again.outcome.steps, found.outcome.steps);
}

TEST(DschedSelf, SameSeed_SameSchedule_OtherSeed_OtherSchedule) {
    Options a = with(Strategy::random);
    a.seed = 7;
    const auto x = dsched::run_once(a, lost_update(true));
    const auto y = dsched::run_once(a, lost_update(true));
    EXPECT_EQ(x.trace_hash, y.trace_hash);
    EXPECT_EQ(x.steps, y.steps);
    bool differs = false;
    for (std::uint64_t seed = 8; seed < 40 && !differs; ++seed) {
        a.seed = seed;
        differs = dsched::run_once(a, lost_update(true)).trace_hash != x.trace_hash;
    }
    EXPECT_TRUE(differs) << "every seed gave the same schedule";
}

TEST(DschedSelf, SpinWithoutProgress_IsReportedAsLivelock) {
    Options o = with(Strategy::random);
    o.max_steps = 2000;
    auto flag = std::make_shared<DAtomic<int>>(0);
    Case c;
    c.bodies.push_back([flag] {
        while (flag->load() == 0) DSchedPolicy::cpu_relax();  // nobody ever sets it
    });
    const auto out = dsched::run_once(o, std::move(c));
    EXPECT_EQ(out.verdict, Verdict::livelock) << out.detail;
}

TEST(DschedSelf, FiniteDeadline_ExpiresWhenEveryOtherThreadIsBlocked) {
    // Thread 0 waits with a finite deadline on a word nobody changes: the scheduler must let
    // its deadline pass (virtual time), never report a deadlock, and the wait says timeout.
    for (std::uint64_t seed = 1; seed <= 50; ++seed) {
        Options o = with(seed % 2 ? Strategy::random : Strategy::pct);
        o.seed = seed;
        auto word = std::make_shared<DAtomic<std::uint32_t>>(0);
        auto timed_out = std::make_shared<DAtomic<int>>(0);
        Case c;
        c.bodies.push_back([word, timed_out] {
            const Deadline d = Deadline::after(std::chrono::hours(1));
            for (;;) {
                const auto r = DSchedPolicy::wait(*word, 0, d, kPrivate);
                if (!r) {
                    dsched::check(r.code() == staticrt::Errc::timeout, "wait failed with something else");
                    dsched::check(DSchedPolicy::expired(d), "a passed deadline is not expired any more");
                    timed_out->store(1);
                    return;
                }
                if (DSchedPolicy::expired(d)) return;
            }
        });
        const auto out = dsched::run_once(o, std::move(c));
        ASSERT_EQ(out.verdict, Verdict::passed) << out.detail;
        EXPECT_TRUE(DSchedPolicy::expired(Deadline::poll()));
        EXPECT_FALSE(DSchedPolicy::expired(Deadline::never()));
    }
}

}  // namespace
