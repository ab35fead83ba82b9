// SPDX-License-Identifier: MIT
// Conformance: ThreadPool's idle statistics (spin_ns, sleeps, the worker's CPU time: a parked pool
// burns ~0 CPU) and the opt-in per-task latency histograms (ThreadPoolOptions::task_latency),
// on every target. Waits end on observable state (the stats a worker publishes right before it
// parks); the one fixed interval is a measurement window, never a synchronisation.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "staticrt/exec/thread_pool.hpp"
#include "staticrt/sync/event.hpp"

#include "eventually.hpp"

using namespace std::chrono_literals;
using namespace staticrt;  // Deadline, Errc, Instant, ThreadPool, TaskLatency, ...

namespace {
using Pool1 = ThreadPool<1, 16, kDefaultPoolStackBytes, 64, 16>;  // one worker: tasks queue behind each other
using Pool2 = ThreadPool<2, 64, kDefaultPoolStackBytes, 64, 64>;

// ~35 KiB each: static, not on the test's stack (and reused across cases after a reset).
staticrt::TaskLatency g_lat[2];
staticrt::TaskLatencySnapshot g_snap;

void reset_latency() {
    for (auto& l : g_lat) {
        l.queue_wait.reset();
        l.run.reset();
    }
}

/// Waits until `now` has advanced `ns` past `from` (a known interval, not a synchronisation).
void pass_at_least(std::int64_t from, std::int64_t ns) {
    while (Instant::now().ns() - from < ns) std::this_thread::yield();
}

/// A one-worker pool recording task latency into g_lat[0] (reset first), its worker held by a
/// task that blocks on `gate` until the test sets it. `published_after` is read before that
/// task's submit.
struct BlockedWorker {
    std::unique_ptr<Pool1> pool = std::make_unique<Pool1>();
    staticrt::Event gate;
    std::atomic<bool> entered{false};
    std::int64_t published_after = 0;

    BlockedWorker() = default;
    BlockedWorker(const BlockedWorker&) = delete;
    BlockedWorker& operator=(const BlockedWorker&) = delete;
    ~BlockedWorker() {  // also after a failed REQUIRE: release the blocker before the gate goes
        gate.set();
        (void)pool->shutdown();
    }

    void start_and_block() {
        reset_latency();
        staticrt::ThreadPoolOptions o;
        o.task_latency = g_lat;
        o.task_latency_count = 1;
        REQUIRE(pool->start(o));
        published_after = Instant::now().ns();
        REQUIRE(pool->submit_detached([this] {
            entered.store(true);
            (void)gate.wait();
        }));
        REQUIRE(staticrt::test::eventually([this] { return entered.load(); }));
    }
};
}  // namespace

TEST_CASE("ThreadPool stats: spin_ns bounds the spin, then the worker parks; each idle phase adds >= the budget") {
    constexpr std::int64_t kBudget = 2'000'000;  // 2 ms
    auto pool = std::make_unique<Pool1>();
    staticrt::ThreadPoolOptions o;
    o.spin_ns = kBudget;
    o.pin = false;
    REQUIRE(pool->start(o));
    // The worker spins its budget from its start, then publishes spin_ns and sleeps and parks.
    REQUIRE(staticrt::test::eventually([&] { return pool->stats(0).sleeps == 1; }));
    const staticrt::WorkerStats first = pool->stats(0);
    CHECK(first.spin_ns >= static_cast<std::uint64_t>(kBudget));  // the budget's own clock check ended it
    CHECK(first.wakes == 0);
    CHECK(first.tasks_run == 0);
    CHECK(first.thread != 0);

    // One task: it wakes the worker; afterwards the worker spins one more budget and parks again.
    std::atomic<int> ran{0};
    REQUIRE(pool->submit_detached([&ran] { ran.fetch_add(1); }));
    REQUIRE(pool->wait_idle(Deadline::after(30s)));
    REQUIRE(staticrt::test::eventually([&] { return pool->stats(0).sleeps == 2; }));
    const staticrt::WorkerStats second = pool->stats(0);
    CHECK(ran.load() == 1);
    CHECK(second.tasks_run == 1);
    CHECK(second.wakes >= 1);
    CHECK(second.spin_ns - first.spin_ns >= static_cast<std::uint64_t>(kBudget));
    // idle_ns (spin + sleep) is added when an idle stretch ends: the first one ended with the task.
    CHECK(second.idle_ns >= first.spin_ns);
    REQUIRE(pool->shutdown());
    CHECK(pool->stats(0).thread == 0);  // joined
    CHECK(pool->stats(0).spin_ns >= second.spin_ns);
}

TEST_CASE("ThreadPool stats: a parked pool burns ~0 CPU and its idle counters stand still") {
    auto pool = std::make_unique<Pool2>();
    staticrt::ThreadPoolOptions o;
    o.spin_ns = 100'000;  // 100 us, then park
    REQUIRE(pool->start(o));
    // sleeps is published right before the kernel wait: once both workers show it, both are
    // parked (or a few instructions from the wait) and nothing here wakes them.
    REQUIRE(staticrt::test::eventually([&] { return pool->stats(0).sleeps >= 1 && pool->stats(1).sleeps >= 1; }));
    staticrt::WorkerStats before[2] = {pool->stats(0), pool->stats(1)};
    const std::int64_t t0 = Instant::now().ns();
    pass_at_least(t0, 300'000'000);  // the measurement window: 300 ms of wall time
    const std::int64_t window = Instant::now().ns() - t0;
    for (std::size_t i = 0; i < 2; ++i) {
        CAPTURE(i);
        const staticrt::WorkerStats after = pool->stats(i);
        REQUIRE(after.thread != 0);
        REQUIRE(after.thread == before[i].thread);
        // A parked thread is not charged CPU time while it sleeps; the bound is 5 % of the window
        // (15 ms of 300 ms): a worker that spun through it would be charged its whole share of a
        // CPU, while a parked one is charged nothing (a spurious kernel wake costs microseconds;
        // Windows counts CPU time per scheduler tick, 15.6 ms, so a worker charged nothing cannot
        // cross it either). The window only grows on a slow machine, the bound does not shrink.
        CHECK(after.cpu_ns >= before[i].cpu_ns);
        CHECK(after.cpu_ns - before[i].cpu_ns < static_cast<std::uint64_t>(window / 20));
        CHECK(after.sleeps == before[i].sleeps);
        CHECK(after.spin_ns == before[i].spin_ns);
        CHECK(after.wakes == before[i].wakes);
        CHECK(after.tasks_run == 0);
    }
    REQUIRE(pool->shutdown());
}

TEST_CASE("platform::thread_cpu_ns: refuses tid 0, grows for a thread that runs") {
    namespace platform = staticrt::platform;
    CHECK(platform::thread_cpu_ns(0).code() == Errc::invalid_argument);
    const auto me = platform::current_thread_id();
    auto a = platform::thread_cpu_ns(me);
    REQUIRE(a);
    // Burn CPU until the thread's own clock moves (Windows advances it per scheduler tick).
    volatile std::uint64_t sink = 0;
    std::uint64_t b = *a;
    for (int round = 0; round < 100'000 && b == *a; ++round) {
        for (int i = 0; i < 100'000; ++i) sink = sink + static_cast<std::uint64_t>(i);
        auto r = platform::thread_cpu_ns(me);
        REQUIRE(r);
        b = *r;
    }
    CHECK(b > *a);
}

TEST_CASE("ThreadPool task latency: a wrong-size or half-set task_latency is refused; the pool then starts") {
    auto pool = std::make_unique<Pool2>();
    staticrt::ThreadPoolOptions o;
    o.task_latency = g_lat;
    o.task_latency_count = 1;  // Pool2 has 2 workers
    CHECK(pool->start(o).code() == Errc::invalid_argument);
    o.task_latency_count = 3;
    CHECK(pool->start(o).code() == Errc::invalid_argument);
    o.task_latency_count = 0;
    CHECK(pool->start(o).code() == Errc::invalid_argument);
    o.task_latency = nullptr;
    o.task_latency_count = 2;
    CHECK(pool->start(o).code() == Errc::invalid_argument);
    CHECK_FALSE(pool->started());
    o.task_latency_count = 0;  // off: fine, and then task_latency() reports it is off
    REQUIRE(pool->start(o));
    CHECK(pool->task_latency(g_snap).code() == Errc::invalid_argument);
    REQUIRE(pool->shutdown());
}

TEST_CASE("ThreadPool task latency: off leaves caller histograms untouched; on, counts equal the tasks each worker ran") {
    reset_latency();
    {
        auto off = std::make_unique<Pool2>();
        REQUIRE(off->start({}));
        for (int i = 0; i < 50; ++i) REQUIRE(off->submit_detached([] {}));
        REQUIRE(off->wait_idle(Deadline::after(30s)));
        REQUIRE(off->shutdown());
        for (auto& l : g_lat) {
            CHECK(l.queue_wait.count() == 0);
            CHECK(l.run.count() == 0);
        }
    }
    auto pool = std::make_unique<Pool2>();
    staticrt::ThreadPoolOptions o;
    o.task_latency = g_lat;
    o.task_latency_count = 2;
    REQUIRE(pool->start(o));
    std::atomic<int> n{0};
    for (int i = 0; i < 200; ++i) REQUIRE(pool->submit_detached([&n] { n.fetch_add(1); }));
    auto f = pool->submit([] { return 7; });
    REQUIRE(f);
    CHECK(*f->get() == 7);
    REQUIRE(pool->wait_idle(Deadline::after(30s)));
    CHECK(n.load() == 200);
    std::uint64_t ran = 0;
    for (std::size_t w = 0; w < 2; ++w) {
        CAPTURE(w);
        const auto s = pool->stats(w);
        ran += s.tasks_run;
        CHECK(g_lat[w].queue_wait.count() == s.tasks_run);
        CHECK(g_lat[w].run.count() == s.tasks_run);
    }
    CHECK(ran == 201);
    REQUIRE(pool->task_latency(g_snap));
    CHECK(g_snap.queue_wait.count() == 201);
    CHECK(g_snap.run.count() == 201);
    CHECK(g_snap.queue_wait.overflow() == 0);
    REQUIRE(pool->shutdown());
}

TEST_CASE("ThreadPool task latency: a blocked task's run time and the queue wait of the task behind it land in their histograms") {
    // A starts, then blocks on the gate; B queues behind it (one worker).
    BlockedWorker bw;
    bw.start_and_block();
    auto& pool = bw.pool;
    const std::int64_t ta = bw.published_after;  // A is published after ta
    const std::int64_t t0 = Instant::now().ns();  // A started before t0
    REQUIRE(pool->submit_detached([] {}));
    const std::int64_t t1 = Instant::now().ns();  // B was published before t1
    // A's queue wait is recorded when it starts, before it runs: visible while A blocks, and
    // queue wait(A) = start(A) - publish(A) <= t0 - ta (+ the stamp's 4 ns quantum).
    REQUIRE(g_lat[0].queue_wait.snapshot(g_snap.queue_wait));
    CHECK(g_snap.queue_wait.count() == 1);
    CHECK(g_snap.queue_wait.max() <= static_cast<std::uint64_t>(t0 - ta) + 4);
    CHECK(g_lat[0].run.count() == 0);
    pass_at_least(t1, 2'000'000);
    const std::int64_t t2 = Instant::now().ns();  // A ends after t2 (the gate opens below); B starts later
    bw.gate.set();
    REQUIRE(pool->wait_idle(Deadline::after(30s)));
    REQUIRE(pool->task_latency(g_snap));
    CHECK(g_snap.queue_wait.count() == 2);
    CHECK(g_snap.run.count() == 2);
    CHECK(pool->stats(0).tasks_run == 2);
    // run(A) = end(A) - start(A) >= t2 - t0; queue wait(B) = start(B) - publish(B) >= t2 - t1,
    // less the stamp's 4 ns quantum. Max is exact in the histogram.
    CHECK(g_snap.run.max() >= static_cast<std::uint64_t>(t2 - t0));
    CHECK(g_snap.queue_wait.max() + 4 >= static_cast<std::uint64_t>(t2 - t1));
    REQUIRE(pool->shutdown());
}

TEST_CASE("ThreadPool task latency: cancelled tasks are not recorded") {
    BlockedWorker bw;
    bw.start_and_block();
    auto& pool = bw.pool;
    for (int i = 0; i < 5; ++i) REQUIRE(pool->submit_detached([] {}));
    pool->shutdown_nowait(staticrt::ShutdownMode::cancel);
    bw.gate.set();
    REQUIRE(pool->shutdown(staticrt::ShutdownMode::cancel));
    const auto s = pool->stats(0);
    CHECK(s.tasks_run == 1);
    CHECK(s.tasks_cancelled == 5);
    CHECK(g_lat[0].queue_wait.count() == 1);
    CHECK(g_lat[0].run.count() == 1);
}
