// SPDX-License-Identifier: MIT
// PeriodicTimer: deadline misses against a deadline shorter than the period, counters from
// another thread, re-arming clears them, a SCHED_FIFO pinned timer thread where permitted.
#include <gtest/gtest.h>

#include <chrono>

#include "staticrt/exec/periodic.hpp"
#include "staticrt/platform/cpu.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Instant;
using staticrt::PeriodicOptions;
using staticrt::PeriodicTick;

TEST(PeriodicTimer, RunLongerThanDeadlineButShorterThanPeriod_MissNotOverrun) {
    staticrt::test::Watchdog wd{30s, "periodic miss"};
    staticrt::PeriodicTimer t;
    PeriodicOptions o;
    o.period = 20ms;
    o.deadline = 1ms;
    o.max_runs = 2;
    ASSERT_TRUE(t.arm(o));
    auto k = t.wait_next();
    ASSERT_TRUE(k);
    t.complete(*k, Instant(k->release.ns() + 5'000'000));  // ended 5 ms after release
    k = t.wait_next();
    ASSERT_TRUE(k);
    t.complete(*k, k->release);  // on time
    const auto s = t.stats();
    EXPECT_EQ(s.runs, 2u);
    EXPECT_EQ(s.deadline_misses, 1u);
    EXPECT_EQ(s.overruns, 0u);
    EXPECT_EQ(s.skipped, 0u);
    ASSERT_TRUE(t.arm(o));
    EXPECT_EQ(t.stats().runs, 0u);
    EXPECT_EQ(t.stats().deadline_misses, 0u);
}

TEST(PeriodicTask, FifoPinnedTimerThread_RunsWhenPermitted) {
    staticrt::test::Watchdog wd{30s, "periodic fifo"};
    static staticrt::PeriodicTask<256 * 1024> task;
    static staticrt::CpuSet cpu;
    auto cpus = staticrt::platform::process_affinity();
    ASSERT_TRUE(cpus);
    cpu = staticrt::CpuSet::single(cpus->first());
    PeriodicOptions o;
    o.period = 500us;
    o.max_runs = 20;
    o.thread.name = "rt-periodic";
    o.thread.priority = {staticrt::platform::SchedPolicy::fifo, 50};
    o.thread.affinity = &cpu;
    auto r = task.start([] {}, o);
    if (!r && r.code() == staticrt::Errc::permission_denied) GTEST_SKIP() << "SCHED_FIFO refused (EPERM)";
    ASSERT_TRUE(r);
    ASSERT_TRUE(task.join());
    // max_runs bounds the runs; releases passed during a late run are counted as skipped on top.
    EXPECT_EQ(task.stats().runs, 20u);
    EXPECT_EQ(task.stats().releases, task.stats().runs + task.stats().skipped);
    staticrt::LatencyHistogram::Snapshot s;
    ASSERT_TRUE(task.lateness(s));
    EXPECT_EQ(s.count(), task.stats().runs);
    std::printf("FIFO 2 kHz (loaded machine): lateness p50 %llu ns p99 %llu ns max %llu ns\n",
                static_cast<unsigned long long>(s.p50()), static_cast<unsigned long long>(s.p99()),
                static_cast<unsigned long long>(s.max()));
}
