// SPDX-License-Identifier: MIT
// PeriodicTimer / PeriodicTask on every target: absolute releases (no drift), one-shot, overruns
// and skipped releases counted (never absorbed), catch-up, prompt stop, runs submitted to a pool.
// No timed assertions: the checks are on release instants (exact arithmetic) and on counters
// whose values follow from a run that sleeps longer than its period.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>

#include "staticrt/exec/periodic.hpp"
#include "staticrt/exec/thread_pool.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Errc;
using staticrt::Instant;
using staticrt::OverrunPolicy;
using staticrt::PeriodicOptions;
using staticrt::PeriodicTick;

namespace {
staticrt::PeriodicTask<256 * 1024> g_task;
staticrt::PeriodicTimer g_timer;
staticrt::ThreadPool<1, 16, 256 * 1024> g_pool;
PeriodicTick g_ticks[16];
}  // namespace

TEST_CASE("periodic: bad options are refused") {
    PeriodicOptions o;
    o.period = 0ns;
    CHECK(g_timer.arm(o).code() == Errc::invalid_argument);
    o.period = -1ms;
    CHECK(g_timer.arm(o).code() == Errc::invalid_argument);
    o.period = 1ms;
    o.deadline = -1ns;
    CHECK(g_timer.arm(o).code() == Errc::invalid_argument);
    o.deadline = 0ns;
    CHECK(g_timer.arm(o));
    CHECK(g_timer.deadline_ns() == 1'000'000);
}

TEST_CASE("periodic: one-shot timer fires once at its instant") {
    PeriodicOptions o;
    o.first = Instant(Instant::now().ns() + 2'000'000);
    o.max_runs = 1;
    REQUIRE(g_timer.arm(o));
    auto t = g_timer.wait_next();
    REQUIRE(t);
    CHECK(t->index == 0);
    CHECK(t->release == o.first);
    CHECK(t->woke >= t->release);  // an absolute sleep never returns early
    CHECK(Instant::now() >= o.first);
    g_timer.complete(*t);
    CHECK(g_timer.wait_next().code() == Errc::closed);
    CHECK(g_timer.stats().runs == 1);
    staticrt::LatencyHistogram::Snapshot s;
    REQUIRE(g_timer.lateness(s));
    CHECK(s.count() == 1);
}

TEST_CASE("periodic: a task's releases are first + i * period exactly (no drift)") {
    staticrt::test::Watchdog wd{30s, "periodic ticks"};
    PeriodicOptions o;
    o.period = 1ms;
    o.first = Instant(Instant::now().ns() + 1'000'000);
    o.max_runs = 10;
    o.overrun = OverrunPolicy::catch_up;
    int n = 0;
    REQUIRE(g_task.start([&n](const PeriodicTick& t) { g_ticks[n++] = t; }, o));
    REQUIRE(g_task.join());
    REQUIRE(n == 10);
    for (int i = 0; i < 10; ++i) {
        CHECK(g_ticks[i].index == static_cast<std::uint64_t>(i));
        CHECK(g_ticks[i].release.ns() == o.first.ns() + i * 1'000'000);
        CHECK(g_ticks[i].woke >= g_ticks[i].release);
    }
    const auto st = g_task.stats();
    CHECK(st.runs == 10);
    CHECK(st.releases == 10);
    CHECK(st.skipped == 0);
    staticrt::LatencyHistogram::Snapshot s;
    REQUIRE(g_task.lateness(s));
    CHECK(s.count() == 10);
}

TEST_CASE("periodic: an overrun is counted and passed releases are skipped, not absorbed") {
    staticrt::test::Watchdog wd{30s, "periodic overrun"};
    PeriodicOptions o;
    o.period = 2ms;
    o.max_runs = 3;
    int n = 0;
    REQUIRE(g_task.start([&n] { if (n++ == 0) staticrt::platform::sleep_for(7ms); }, o));
    REQUIRE(g_task.join());
    const auto st = g_task.stats();
    CHECK(st.runs == 3);
    CHECK(st.overruns >= 1);
    CHECK(st.deadline_misses >= 1);
    CHECK(st.skipped >= 2);                        // 7 ms run over a 2 ms period
    CHECK(st.releases == st.runs + st.skipped);    // every release is accounted for
}

TEST_CASE("periodic: catch_up runs every passed release") {
    staticrt::test::Watchdog wd{30s, "periodic catch-up"};
    PeriodicOptions o;
    o.period = 2ms;
    o.max_runs = 4;
    o.overrun = OverrunPolicy::catch_up;
    int n = 0;
    REQUIRE(g_task.start([&n](const PeriodicTick& t) { g_ticks[n++] = t; if (n == 1) staticrt::platform::sleep_for(7ms); }, o));
    REQUIRE(g_task.join());
    CHECK(n == 4);
    for (int i = 0; i < 4; ++i) CHECK(g_ticks[i].index == static_cast<std::uint64_t>(i));
    CHECK(g_ticks[1].lateness_ns >= 5'000'000 - 2'000'000);  // released at +2 ms, started after the 7 ms run
    const auto st = g_task.stats();
    CHECK(st.skipped == 0);
    CHECK(st.runs == 4);
    CHECK(st.overruns >= 1);
}

TEST_CASE("periodic: stop is seen long before a far release") {
    staticrt::test::Watchdog wd{30s, "periodic stop"};
    PeriodicOptions o;
    o.period = std::chrono::hours(1);
    int n = 0;
    REQUIRE(g_task.start([&n] { ++n; }, o));
    while (!g_task.running()) staticrt::platform::yield_now();
    REQUIRE(g_task.stop());  // would hang for an hour without the stop slices: the watchdog fails it
    CHECK(n == 0);
    CHECK(g_task.stats().runs == 0);
}

TEST_CASE("periodic: runs submitted to a pool, at most one in flight") {
    staticrt::test::Watchdog wd{30s, "periodic pool"};
    REQUIRE(g_pool.start({}));
    PeriodicOptions o;
    o.period = 1ms;
    o.max_runs = 8;
    std::atomic<int> n{0};
    REQUIRE(g_task.start_on(g_pool, [&n] { n.fetch_add(1, std::memory_order_relaxed); }, o));
    REQUIRE(g_task.join());
    const auto st = g_task.stats();
    CHECK(st.releases >= 8);                      // 8 handed out, plus any the skip policy passed over
    CHECK(st.runs + st.skipped == st.releases);   // each one ran or was counted as skipped
    CHECK(st.runs >= 1);
    CHECK(static_cast<std::uint64_t>(n.load()) == st.runs);
    staticrt::LatencyHistogram::Snapshot s;
    REQUIRE(g_task.lateness(s));
    CHECK(s.count() == st.runs);
    CHECK(g_pool.shutdown(staticrt::ShutdownMode::drain));
}
