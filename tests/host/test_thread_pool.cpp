// SPDX-License-Identifier: MIT
// ThreadPool: every method and every error value.
#include <gtest/gtest.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <atomic>
#include <chrono>
#include <memory>
#include <numeric>
#include <thread>
#include <vector>

#include "staticrt/exec/thread_pool.hpp"
#include "staticrt/platform/thread.hpp"
#include "eventually.hpp"
#include "proc_stat.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::Error;
using staticrt::ThreadPoolOptions;
using staticrt::Result;
using staticrt::ShutdownMode;

namespace {

using SmallPool = staticrt::ThreadPool<2, 8, staticrt::kDefaultPoolStackBytes, 64, 8>;
using Pool = staticrt::ThreadPool<2, 256, staticrt::kDefaultPoolStackBytes, 64, 256>;

template <class P>
std::unique_ptr<P> started(ThreadPoolOptions o = {}) {
    auto p = std::make_unique<P>();
    auto r = p->start(o);
    EXPECT_TRUE(r) << staticrt::to_string(r.code());
    return p;
}

/// Blocks pool workers until released.
struct Gate {
    std::atomic<bool> open{false};
    std::atomic<int> entered{0};
    void pass() {
        entered.fetch_add(1);
        while (!open.load()) std::this_thread::sleep_for(100us);
    }
    void wait_entered(int n) {
        while (entered.load() < n) std::this_thread::sleep_for(100us);
    }
};

TEST(ThreadPool, Submit_ReturnsFutureWithValue) {
    staticrt::test::Watchdog wd{30s};
    auto pool = started<Pool>();
    auto f = pool->submit([](int a, int b) { return a * b; }, 6, 7);
    ASSERT_TRUE(f);
    auto v = f->get();
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, 42);
}

TEST(ThreadPool, Submit_VoidTask_FutureSucceeds) {
    staticrt::test::Watchdog wd{30s};
    auto pool = started<Pool>();
    std::atomic<int> hit{0};
    auto f = pool->submit([&] { hit.store(1); });
    ASSERT_TRUE(f);
    EXPECT_TRUE(f->get());
    EXPECT_EQ(hit.load(), 1);
}

TEST(ThreadPool, Submit_TaskReturnsError_FutureReportsItAndHookRuns) {
    staticrt::test::Watchdog wd{30s};
    struct Seen {
        std::atomic<int> calls{0};
        std::atomic<std::size_t> worker{99};
        std::atomic<int> code{0};
    } seen;
    ThreadPoolOptions o;
    o.report_future_failures = true;  // futures' failures reach the hook only when asked (off by default)
    o.on_failure.user = &seen;
    o.on_failure.fn = [](void* u, std::size_t w, Error e) noexcept {
        auto* s = static_cast<Seen*>(u);
        s->worker.store(w);
        s->code.store(static_cast<int>(e.code));
        s->calls.fetch_add(1);
    };
    auto pool = started<Pool>(o);
    auto f = pool->submit([]() -> Result<int> { return unexpected(Errc::would_block); });
    ASSERT_TRUE(f);
    auto v = f->get();
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error(), Errc::would_block);
    auto g = pool->submit([]() -> Result<int> { return 5; });
    EXPECT_EQ(*g->get(), 5);
    auto d = pool->submit_detached([]() -> Result<void> { return unexpected(Errc::empty); });
    EXPECT_TRUE(d);
    ASSERT_TRUE(pool->wait_idle(Deadline::after(10s)));
    EXPECT_EQ(seen.calls.load(), 2);
    EXPECT_LT(seen.worker.load(), 2u);
    EXPECT_EQ(seen.code.load(), static_cast<int>(Errc::empty));
}

TEST(ThreadPool, TrySubmit_WhenQueueFull_ReturnsFull) {
    staticrt::test::Watchdog wd{30s};
    auto pool = started<staticrt::ThreadPool<1, 4, staticrt::kDefaultPoolStackBytes, 64, 64>>();
    Gate gate;
    ASSERT_TRUE(pool->submit_detached([&] { gate.pass(); }));
    gate.wait_entered(1);
    std::vector<staticrt::Future<int>> fs;
    for (int i = 0; i < 4; ++i) {
        auto f = pool->try_submit([i] { return i; });
        ASSERT_TRUE(f) << i;
        fs.push_back(std::move(*f));
    }
    auto full = pool->try_submit([] { return 0; });
    ASSERT_FALSE(full);
    EXPECT_EQ(full.error(), Errc::full);
    EXPECT_EQ(pool->submit_detached(Deadline::poll(), [] {}).code(), Errc::full);
    auto late = pool->submit(Deadline::after(5ms), [] { return 0; });
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error(), Errc::timeout);
    gate.open.store(true);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(*fs[static_cast<std::size_t>(i)].get(), i);
}

TEST(ThreadPool, Submit_WhenQueueFull_BlocksUntilSpace) {
    staticrt::test::Watchdog wd{30s};
    auto pool = started<staticrt::ThreadPool<1, 2, staticrt::kDefaultPoolStackBytes, 64, 64>>();
    Gate gate;
    ASSERT_TRUE(pool->submit_detached([&] { gate.pass(); }));
    gate.wait_entered(1);
    ASSERT_TRUE(pool->try_submit([] { return 1; }));
    ASSERT_TRUE(pool->try_submit([] { return 2; }));
    const long me = static_cast<long>(staticrt::platform::current_thread_id());
    std::thread opener([&] {
        // Open only once the submitter sleeps in submit(): the blocked path is the one tested.
        EXPECT_TRUE(staticrt::test::eventually([&] { return staticrt::test::thread_sleeping(me); }));
        gate.open.store(true);
    });
    auto f = pool->submit([] { return 3; });  // blocks until a worker frees a cell
    ASSERT_TRUE(f);
    EXPECT_EQ(*f->get(), 3);
    opener.join();
}

TEST(ThreadPool, TrySubmit_WhenResultSlotsUsedUp_ReturnsExhausted) {
    staticrt::test::Watchdog wd{30s};
    auto pool = started<staticrt::ThreadPool<1, 16, staticrt::kDefaultPoolStackBytes, 64, 2>>();
    auto a = pool->submit([] { return 1; });
    auto b = pool->submit([] { return 2; });
    ASSERT_TRUE(a);
    ASSERT_TRUE(b);
    auto c = pool->try_submit([] { return 3; });
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error(), Errc::exhausted);
    EXPECT_EQ(pool->submit([] { return 3; }).code(), Errc::exhausted);
    EXPECT_EQ(pool->submit(Deadline::after(2ms), [] { return 3; }).code(), Errc::timeout);
    EXPECT_EQ(*a->get(), 1);  // consuming a future recycles its slot
    auto d = pool->try_submit([] { return 4; });
    ASSERT_TRUE(d);
    EXPECT_EQ(*d->get(), 4);
    b->reset();  // dropping one too
    auto e = pool->submit(Deadline::after(1s), [] { return 5; });
    ASSERT_TRUE(e);
    EXPECT_EQ(*e->get(), 5);
}

TEST(ThreadPool, SubmitWithDeadline_WaitsForASlotToFree) {
    staticrt::test::Watchdog wd{30s};
    auto pool = started<staticrt::ThreadPool<1, 16, staticrt::kDefaultPoolStackBytes, 64, 1>>();
    auto a = pool->submit([] { return 1; });
    ASSERT_TRUE(a);
    const long me = static_cast<long>(staticrt::platform::current_thread_id());
    std::thread t([&] {
        // Free the slot only once the submitter sleeps waiting for one.
        EXPECT_TRUE(staticrt::test::eventually([&] { return staticrt::test::thread_sleeping(me); }));
        (void)a->get();
    });
    auto b = pool->submit(Deadline::after(10s), [] { return 2; });
    ASSERT_TRUE(b);
    EXPECT_EQ(*b->get(), 2);
    t.join();
}

namespace {
/// The scheduler state of thread `tid` of this process ('S': asleep, e.g. on a futex), or 0.
char thread_state(long tid) {
    char path[96];
    std::snprintf(path, sizeof path, "/proc/self/task/%ld/stat", tid);
    FILE* f = std::fopen(path, "r");
    if (f == nullptr) return 0;
    char buf[512] = {};
    const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    const char* close = std::strrchr(buf, ')');
    return close != nullptr && close[1] == ' ' ? close[2] : 0;
}
}  // namespace

// The result-slot pool is closed by shutdown(): a submit asleep waiting for a free slot (no
// deadline, no slicing) wakes and returns Errc::closed; a lost wake-up hangs (watchdog). Every
// one of the pool's `Slots` result slots is held by a future first.
template <std::size_t Cells, std::size_t Slots>
void expect_shutdown_wakes_submitter_blocked_on_slots() {
    staticrt::test::Watchdog wd{30s};
    auto pool = started<staticrt::ThreadPool<1, Cells, staticrt::kDefaultPoolStackBytes, 64, Slots>>();
    staticrt::Future<int> held[Slots];
    for (std::size_t i = 0; i < Slots; ++i) {
        auto f = pool->submit([i] { return static_cast<int>(i); });
        ASSERT_TRUE(f);
        held[i] = std::move(*f);
    }
    ASSERT_TRUE(pool->wait_idle(Deadline::after(10s)));  // the queue has room: only the slots are held
    std::atomic<long> tid{0};
    std::atomic<bool> returned{false};
    Errc got = Errc::ok;
    std::thread t([&] {
        tid.store(static_cast<long>(::syscall(SYS_gettid)));
        got = pool->submit(Deadline::never(), [] { return -1; }).code();
        returned.store(true);
    });
    // Asleep in the slot wait (the only place this thread can sleep before it returns).
    ASSERT_TRUE(staticrt::test::eventually([&] { return tid.load() != 0 && thread_state(tid.load()) == 'S'; }));
    EXPECT_FALSE(returned.load());
    EXPECT_TRUE(pool->shutdown());
    t.join();
    EXPECT_EQ(got, Errc::closed);
    for (std::size_t i = 0; i < Slots; ++i) EXPECT_EQ(*held[i].get(), static_cast<int>(i));
}

// One slot for 16 cells: the free list only.
TEST(ThreadPool, Shutdown_WakesSubmitBlockedOnResultSlots_WithClosed) {
    expect_shutdown_wakes_submitter_blocked_on_slots<16, 1>();
}

// As many slots as cells: the submitter finds its cell's home slot held and no free list, sends
// the cell out empty and sleeps waiting for any slot.
TEST(ThreadPool, Shutdown_WakesSubmitBlockedOnHomeResultSlots_WithClosed) {
    expect_shutdown_wakes_submitter_blocked_on_slots<2, 2>();
}

TEST(ThreadPool, Submit_AfterShutdown_ReturnsClosed) {
    staticrt::test::Watchdog wd{30s};
    auto pool = started<Pool>();
    EXPECT_TRUE(pool->shutdown());
    EXPECT_TRUE(pool->closed());
    EXPECT_EQ(pool->submit([] { return 1; }).code(), Errc::closed);
    EXPECT_EQ(pool->try_submit([] { return 1; }).code(), Errc::closed);
    EXPECT_EQ(pool->submit_detached([] {}).code(), Errc::closed);
    int in[3] = {1, 2, 3};
    int out[3] = {};
    EXPECT_EQ(pool->map([](int x) { return x; }, std::span<const int>(in), std::span<int>(out)).code(), Errc::closed);
    EXPECT_TRUE(pool->shutdown());  // idempotent
}

TEST(ThreadPool, ShutdownDrain_RunsEveryQueuedTask) {
    staticrt::test::Watchdog wd{30s};
    auto pool = started<staticrt::ThreadPool<1, 64, staticrt::kDefaultPoolStackBytes, 64, 64>>();
    Gate gate;
    std::atomic<int> ran{0};
    ASSERT_TRUE(pool->submit_detached([&] { gate.pass(); }));
    gate.wait_entered(1);
    std::vector<staticrt::Future<int>> fs;
    for (int i = 0; i < 32; ++i) fs.push_back(std::move(*pool->submit([&ran, i] { ran.fetch_add(1); return i; })));
    const long me = static_cast<long>(staticrt::platform::current_thread_id());
    std::thread opener([&] {
        // Open only once shutdown(drain) sleeps waiting for the queue to drain.
        EXPECT_TRUE(staticrt::test::eventually([&] { return pool->closed() && staticrt::test::thread_sleeping(me); }));
        gate.open.store(true);
    });
    EXPECT_TRUE(pool->shutdown(ShutdownMode::drain));
    opener.join();
    EXPECT_EQ(ran.load(), 32);
    for (int i = 0; i < 32; ++i) EXPECT_EQ(*fs[static_cast<std::size_t>(i)].get(), i);
}

TEST(ThreadPool, ShutdownCancel_PendingFuturesReportClosed) {
    staticrt::test::Watchdog wd{30s};
    auto pool = started<staticrt::ThreadPool<1, 64, staticrt::kDefaultPoolStackBytes, 64, 64>>();
    Gate gate;
    std::atomic<int> ran{0};
    auto first = pool->submit([&] { gate.pass(); return 1; });
    ASSERT_TRUE(first);
    gate.wait_entered(1);
    std::vector<staticrt::Future<int>> fs;
    for (int i = 0; i < 16; ++i) fs.push_back(std::move(*pool->submit([&ran, i] { ran.fetch_add(1); return i; })));
    std::thread opener([&] {
        // Open only once shutdown has closed the pool (it set the cancel flag before): the
        // running task then ends into a cancelling pool, whatever the timing.
        EXPECT_TRUE(staticrt::test::eventually([&] { return pool->closed(); }));
        gate.open.store(true);
    });
    EXPECT_TRUE(pool->shutdown(ShutdownMode::cancel));
    opener.join();
    EXPECT_EQ(*first->get(), 1);  // the running task finishes
    EXPECT_EQ(ran.load(), 0);
    for (auto& f : fs) EXPECT_EQ(f.get().code(), Errc::closed);
    EXPECT_EQ(pool->stats(0).tasks_cancelled, 16u);
}

TEST(ThreadPool, Shutdown_FromWorker_ReturnsInvalidArgument) {
    staticrt::test::Watchdog wd{30s};
    auto pool = started<Pool>();
    auto f = pool->submit([p = pool.get()] { return static_cast<int>(p->shutdown().code()); });
    EXPECT_EQ(*f->get(), static_cast<int>(Errc::invalid_argument));
    auto g = pool->submit([p = pool.get()] { return static_cast<int>(p->wait_idle().code()); });
    EXPECT_EQ(*g->get(), static_cast<int>(Errc::invalid_argument));
}

TEST(ThreadPool, Destructor_DrainsQueuedTasks) {
    staticrt::test::Watchdog wd{30s};
    std::atomic<int> ran{0};
    {
        auto pool = started<Pool>();
        for (int i = 0; i < 100; ++i) ASSERT_TRUE(pool->submit_detached([&] { ran.fetch_add(1); }));
    }
    EXPECT_EQ(ran.load(), 100);
}

TEST(ThreadPool, Start_Twice_ReturnsInvalidArgument) {
    auto pool = started<Pool>();
    EXPECT_EQ(pool->start({}).code(), Errc::invalid_argument);
}

TEST(ThreadPool, Start_WithCpuOutsideMachine_FailsAndLeavesPoolClosed) {
    Pool pool;
    ThreadPoolOptions o;
    o.cpus = staticrt::CpuSet::single(staticrt::platform::kMaxCpus - 1);
    auto r = pool.start(o);
    ASSERT_FALSE(r);
    EXPECT_EQ(pool.submit([] { return 1; }).code(), Errc::closed);
}

TEST(ThreadPool, Start_WithRealtimePriorityNotPermitted_ReportsButRuns) {
    staticrt::test::Watchdog wd{30s};
    ThreadPoolOptions o;
    o.priority = {staticrt::platform::SchedPolicy::fifo, 10};
    auto pool = std::make_unique<Pool>();
    auto r = pool->start(o);
    ASSERT_TRUE(r);  // either granted or reported in priority_error()
    auto f = pool->submit([] { return 2; });
    EXPECT_EQ(*f->get(), 2);
    if (pool->priority_error().code != Errc::ok) {
        EXPECT_TRUE(pool->priority_error().code == Errc::permission_denied ||
                    pool->priority_error().code == Errc::os_error);
    }
}

TEST(ThreadPool, Start_Pinned_WorkersRecordTheirCpu) {
    auto pool = started<Pool>();
    auto cpus = staticrt::platform::physical_core_cpus();
    ASSERT_TRUE(cpus);
    for (std::size_t i = 0; i < pool->worker_count(); ++i) EXPECT_TRUE(cpus->contains(pool->stats(i).cpu)) << i;
    EXPECT_EQ(pool->stats(99).tasks_run, 0u);
}

TEST(ThreadPool, Start_Unpinned_WorkersFloat) {
    ThreadPoolOptions o;
    o.pin = false;
    auto pool = started<Pool>(o);
    EXPECT_EQ(pool->stats(0).cpu, staticrt::platform::kMaxCpus);
    EXPECT_EQ(*pool->submit([] { return 1; })->get(), 1);
}

TEST(ThreadPool, WaitIdle_ReturnsWhenEveryTaskFinished) {
    staticrt::test::Watchdog wd{30s};
    auto pool = started<Pool>();
    std::atomic<int> ran{0};
    for (int i = 0; i < 200; ++i) ASSERT_TRUE(pool->submit_detached([&] { ran.fetch_add(1); }));
    ASSERT_TRUE(pool->wait_idle());
    EXPECT_EQ(ran.load(), 200);
    EXPECT_EQ(pool->pending(), 0u);
}

TEST(ThreadPool, WaitIdle_WithBusyWorkerAndShortDeadline_ReturnsTimeout) {
    staticrt::test::Watchdog wd{30s};
    auto pool = started<Pool>();
    Gate gate;
    ASSERT_TRUE(pool->submit_detached([&] { gate.pass(); }));
    gate.wait_entered(1);
    EXPECT_EQ(pool->wait_idle(Deadline::after(5ms)).code(), Errc::timeout);
    EXPECT_EQ(pool->wait_idle(Deadline::poll()).code(), Errc::timeout);
    EXPECT_EQ(pool->pending(), 1u);
    gate.open.store(true);
    EXPECT_TRUE(pool->wait_idle(Deadline::after(10s)));
}

TEST(ThreadPool, Map_SquaresEveryElement) {
    staticrt::test::Watchdog wd{30s};
    auto pool = started<Pool>();
    std::vector<int> in(1000);
    std::iota(in.begin(), in.end(), 1);
    std::vector<long> out(in.size());
    ASSERT_TRUE(pool->map([](int x) { return static_cast<long>(x) * x; }, std::span<const int>(in), std::span<long>(out)));
    for (std::size_t i = 0; i < in.size(); ++i) ASSERT_EQ(out[i], static_cast<long>(in[i]) * in[i]);
}

TEST(ThreadPool, Map_ExplicitChunk_CoversEveryElement) {
    staticrt::test::Watchdog wd{30s};
    auto pool = started<Pool>();
    for (std::size_t chunk : {1u, 3u, 7u, 1000u, 5000u}) {
        std::vector<int> in(1000, 2);
        std::vector<int> out(1000, 0);
        ASSERT_TRUE(pool->map([](int x) { return x + 1; }, std::span<const int>(in), std::span<int>(out), chunk));
        for (int v : out) ASSERT_EQ(v, 3) << chunk;
    }
}

TEST(ThreadPool, Map_DefaultChunk_EveryCountAroundTheChunkTarget_CoversEveryElementOnce) {
    // chunk == 0 cuts about 16 chunks per participating thread: counts below, at and above that
    // target (and one item) must still map every element exactly once.
    staticrt::test::Watchdog wd{30s};
    auto pool = started<Pool>();
    for (std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{47}, std::size_t{48},
                          std::size_t{49}, std::size_t{97}, std::size_t{1001}, std::size_t{65537}}) {
        std::vector<int> in(n);
        std::iota(in.begin(), in.end(), 0);
        std::vector<std::atomic<int>> seen(n);
        std::vector<int> out(n, -1);
        ASSERT_TRUE(pool->map(
            [&](int x) {
                seen[static_cast<std::size_t>(x)].fetch_add(1);
                return x * 2;
            },
            std::span<const int>(in), std::span<int>(out)));
        for (std::size_t i = 0; i < n; ++i) {
            ASSERT_EQ(seen[i].load(), 1) << "n=" << n << " i=" << i;
            ASSERT_EQ(out[i], static_cast<int>(2 * i)) << "n=" << n;
        }
    }
}

TEST(ThreadPool, Map_OutputTooShort_ReturnsInvalidArgument) {
    auto pool = started<Pool>();
    int in[4] = {};
    int out[3] = {};
    EXPECT_EQ(pool->map([](int x) { return x; }, std::span<const int>(in), std::span<int>(out)).code(),
              Errc::invalid_argument);
}

TEST(ThreadPool, Map_Empty_Succeeds) {
    auto pool = started<Pool>();
    EXPECT_TRUE(pool->map([](int x) { return x; }, std::span<const int>(), std::span<int>()));
}

TEST(ThreadPool, ParallelFor_VisitsEveryIndexOnce) {
    staticrt::test::Watchdog wd{30s};
    auto pool = started<Pool>();
    std::vector<std::atomic<int>> hits(10000);
    ASSERT_TRUE(pool->parallel_for(0, hits.size(), [&](std::size_t i) { hits[i].fetch_add(1); }));
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
    std::vector<std::atomic<int>> part(100);
    ASSERT_TRUE(pool->parallel_for(10, 90, [&](std::size_t i) { part[i].fetch_add(1); }, 7));
    for (std::size_t i = 0; i < part.size(); ++i) ASSERT_EQ(part[i].load(), (i >= 10 && i < 90) ? 1 : 0);
    EXPECT_EQ(pool->parallel_for(5, 4, [](std::size_t) {}).code(), Errc::invalid_argument);
}

TEST(ThreadPool, ParallelFor_FromInsideATask_RunsInline) {
    staticrt::test::Watchdog wd{30s};
    auto pool = started<Pool>();
    auto f = pool->submit([p = pool.get()] {
        std::atomic<int> n{0};
        auto r = p->parallel_for(0, 100, [&](std::size_t) { n.fetch_add(1); });
        return r ? n.load() : -1;
    });
    EXPECT_EQ(*f->get(), 100);
}

TEST(ThreadPool, ParallelFor_WhenQueueFull_CallerDoesTheWork) {
    staticrt::test::Watchdog wd{30s};
    auto pool = started<staticrt::ThreadPool<1, 2, staticrt::kDefaultPoolStackBytes, 64, 8>>();
    Gate gate;
    ASSERT_TRUE(pool->submit_detached([&] { gate.pass(); }));
    gate.wait_entered(1);
    ASSERT_TRUE(pool->submit_detached([] {}));
    ASSERT_TRUE(pool->submit_detached([] {}));
    std::atomic<int> n{0};
    ASSERT_TRUE(pool->parallel_for(0, 50, [&](std::size_t) { n.fetch_add(1); }));
    EXPECT_EQ(n.load(), 50);
    gate.open.store(true);
}

TEST(ThreadPool, Stats_CountTasksWakesAndHighWater) {
    staticrt::test::Watchdog wd{30s};
    ThreadPoolOptions o;
    o.spin_ns = 0;  // sleep at once, so wakes are counted
    auto pool = started<staticrt::ThreadPool<1, 64, staticrt::kDefaultPoolStackBytes, 64, 64>>(o);
    std::atomic<long> worker{0};
    ASSERT_TRUE(*pool->submit([&] { worker = static_cast<long>(staticrt::platform::current_thread_id()); return 1; })->get());
    // The worker sleeps in the kernel (spin_ns 0) before the next submit, which must wake it.
    ASSERT_TRUE(staticrt::test::eventually([&] { return staticrt::test::thread_sleeping(worker.load()); }));
    Gate gate;
    ASSERT_TRUE(pool->submit_detached([&] { gate.pass(); }));
    gate.wait_entered(1);
    // 40 queued behind the gate (positions 2..41 of a 64-cell ring): the worker samples the
    // depth every 64 / 8 = 8 positions, first at position 8, where 34 are queued.
    for (int i = 0; i < 40; ++i) ASSERT_TRUE(pool->submit_detached([] {}));
    gate.open.store(true);
    ASSERT_TRUE(pool->wait_idle());
    const auto s = pool->stats(0);
    EXPECT_EQ(s.tasks_run, 42u);
    EXPECT_GE(s.wakes, 1u);
    EXPECT_GE(s.queue_high_water, 40u - 8u);  // the true deepest (40) minus the sampling period
    EXPECT_LE(s.queue_high_water, 41u);
    EXPECT_GT(s.busy_ns, 0u);
    EXPECT_GT(s.idle_ns, 0u);
}

TEST(ThreadPool, Stats_ParkedWorkers_SleepInTheKernelAndGainNoCpuTime) {
    staticrt::test::Watchdog wd{60s};
    ThreadPoolOptions o;
    o.spin_ns = 100'000;
    auto pool = started<Pool>(o);
    // Each worker publishes sleeps right before its kernel wait; /proc then shows it asleep (S).
    for (std::size_t i = 0; i < 2; ++i) {
        ASSERT_TRUE(staticrt::test::eventually([&] {
            const auto s = pool->stats(i);
            return s.sleeps >= 1 && staticrt::test::thread_sleeping(static_cast<long>(s.thread));
        })) << "worker " << i;
    }
    staticrt::WorkerStats before[2] = {pool->stats(0), pool->stats(1)};
    for (const auto& b : before) {
        EXPECT_GT(b.cpu_ns, 0u);  // it ran (start-up, its spin): Linux charges ns, not ticks
        EXPECT_GE(b.spin_ns, 100'000u);
    }
    // Measurement window (not a synchronisation): 300 ms in which nothing wakes the workers.
    const auto t0 = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - t0 < 300ms) std::this_thread::sleep_for(10ms);
    for (std::size_t i = 0; i < 2; ++i) {
        const auto a = pool->stats(i);
        EXPECT_TRUE(staticrt::test::thread_sleeping(static_cast<long>(a.thread))) << "worker " << i;
        // A thread asleep in the kernel is charged no CPU time; 15 ms (5 % of the window) leaves
        // room for a spurious wake-up thousands of times over, while a spinning worker would be
        // charged its share of a CPU for the whole window.
        EXPECT_LT(a.cpu_ns - before[i].cpu_ns, 15'000'000u) << "worker " << i;
        EXPECT_EQ(a.sleeps, before[i].sleeps);
        EXPECT_EQ(a.spin_ns, before[i].spin_ns);
        EXPECT_EQ(a.wakes, before[i].wakes);
    }
}

TEST(ThreadPool, MoveOnlyArguments_AreMovedIntoTheTask) {
    staticrt::test::Watchdog wd{30s};
    auto pool = started<Pool>();
    auto f = pool->submit([](std::unique_ptr<int> p) { return *p + 1; }, std::make_unique<int>(41));
    ASSERT_TRUE(f);
    EXPECT_EQ(*f->get(), 42);
}

TEST(ThreadPool, Constinit_GlobalPoolWorks) {
    staticrt::test::Watchdog wd{30s};
    constinit static staticrt::ThreadPool<1, 16, staticrt::kDefaultPoolStackBytes, 32, 16> g_pool;
    ASSERT_TRUE(g_pool.start({}));
    EXPECT_EQ(*g_pool.submit([] { return 9; })->get(), 9);
    EXPECT_TRUE(g_pool.shutdown());
}

}  // namespace
