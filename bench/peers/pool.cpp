// SPDX-License-Identifier: MIT
// bench/peers/pool.cpp — thread pool workloads for staticrt-bench-peers.
//
//   pool_dispatch        1M empty tasks submitted by one thread, then waited for; tasks/s
//   pool_wake_latency    submit to an idle pool -> the task starts; median ns over rounds
//   pool_wake_latency_p99                                      ... and the 99th percentile
//   parallel_map         squares of 1..10M into an array; items/s
// and with --scaling, scale_pool_dispatch_wW, scale_parallel_map_tT and scale_map_compute_tT
// (a compute-bound map: ~64 multiply-xor rounds per item) at 1..16 threads (end of the file).
//
// Peers: oneTBB (task_group in a task_arena; tbb::parallel_for), a plain pool of std::thread +
// std::mutex + std::condition_variable + std::deque<std::function<void()>> (what a C++ user
// writes first), a plain single-threaded loop, and Python's multiprocessing.Pool(2).map run as a
// subprocess (python3 on PATH; it times only the map call and prints items/s).
// Every pool has 2 worker threads. parallel_map: staticrt's map runs on 1 worker + the calling
// thread (2 threads), tbb on a task_arena(2) (2 threads), Python on 2 processes.
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "registry.hpp"
#include "staticrt/exec/thread_pool.hpp"

namespace sb = staticrt::bench;
using staticrt::Deadline;

namespace {

constexpr std::uint64_t kDispatchTasks = 1'000'000;
constexpr int kWakeRounds = 2000;
constexpr std::uint64_t kMapItems = 10'000'000;

// ------------------------------------------------------------------ the plain std pool
class StdPool {
public:
    explicit StdPool(int n) {
        for (int i = 0; i < n; ++i) m_threads.emplace_back([this] { loop(); });
    }
    ~StdPool() {
        {
            std::lock_guard lk(m_mutex);
            m_stop = true;
        }
        m_cv.notify_all();
        for (auto& t : m_threads) t.join();
    }
    void submit(std::function<void()> f) {
        {
            std::lock_guard lk(m_mutex);
            m_tasks.push_back(std::move(f));
            ++m_pending;
        }
        m_cv.notify_one();
    }
    void wait_idle() {
        std::unique_lock lk(m_mutex);
        m_idle.wait(lk, [this] { return m_pending == 0; });
    }

private:
    void loop() {
        for (;;) {
            std::function<void()> f;
            {
                std::unique_lock lk(m_mutex);
                m_cv.wait(lk, [this] { return m_stop || !m_tasks.empty(); });
                if (m_tasks.empty()) return;
                f = std::move(m_tasks.front());
                m_tasks.pop_front();
            }
            f();
            std::lock_guard lk(m_mutex);
            if (--m_pending == 0) m_idle.notify_all();
        }
    }
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::condition_variable m_idle;
    std::deque<std::function<void()>> m_tasks;
    std::uint64_t m_pending = 0;
    bool m_stop = false;
    std::vector<std::thread> m_threads;
};

// ------------------------------------------------------------------ pool_dispatch
std::atomic<std::uint64_t> g_ran{0};

template <std::size_t W>
double dispatch_staticrt_wake(const sb::Options& o, staticrt::WakePolicy wake) {
    static staticrt::ThreadPool<W, 4096> pool;
    staticrt::ThreadPoolOptions po;
    po.wake = wake;
    if (!pool.start(po)) return -1;
    const std::uint64_t n = o.scaled(kDispatchTasks);
    const std::int64_t t0 = sb::now_ns();
    for (std::uint64_t i = 0; i < n; ++i) {
        if (!pool.submit_detached([] { g_ran.fetch_add(1, std::memory_order_relaxed); })) return -1;
    }
    if (!pool.wait_idle()) return -1;
    const std::int64_t t1 = sb::now_ns();
    (void)pool.shutdown();
    return g_ran.load() == n ? static_cast<double>(n) * 1e9 / static_cast<double>(t1 - t0) : -1;
}
template <std::size_t W>
double dispatch_staticrt_w(const sb::Options& o) { return dispatch_staticrt_wake<W>(o, staticrt::WakePolicy::near_submitter); }
double dispatch_staticrt(const sb::Options& o) { return dispatch_staticrt_w<2>(o); }
double dispatch_staticrt_longest(const sb::Options& o) {
    return dispatch_staticrt_wake<2>(o, staticrt::WakePolicy::longest_parked);
}

double dispatch_staticrt_futures(const sb::Options& o) {
    static staticrt::ThreadPool<2, 4096, staticrt::kDefaultPoolStackBytes, 64, 8192> pool;
    if (!pool.start({})) return -1;
    const std::uint64_t n = o.scaled(kDispatchTasks);
    constexpr std::size_t kWindow = 4096;
    static staticrt::Future<void> window[kWindow];
    const std::int64_t t0 = sb::now_ns();
    for (std::uint64_t i = 0; i < n; ++i) {
        auto& slot = window[i % kWindow];
        if (slot.valid() && !slot.get()) return -1;
        auto f = pool.submit([] { g_ran.fetch_add(1, std::memory_order_relaxed); });
        if (!f) return -1;
        slot = std::move(*f);
    }
    for (auto& f : window)
        if (f.valid() && !f.get()) return -1;
    const std::int64_t t1 = sb::now_ns();
    (void)pool.shutdown();
    return g_ran.load() == n ? static_cast<double>(n) * 1e9 / static_cast<double>(t1 - t0) : -1;
}

double dispatch_std_w(const sb::Options& o, int workers) {
    StdPool pool(workers);
    const std::uint64_t n = o.scaled(kDispatchTasks);
    const std::int64_t t0 = sb::now_ns();
    for (std::uint64_t i = 0; i < n; ++i) pool.submit([] { g_ran.fetch_add(1, std::memory_order_relaxed); });
    pool.wait_idle();
    const std::int64_t t1 = sb::now_ns();
    return g_ran.load() == n ? static_cast<double>(n) * 1e9 / static_cast<double>(t1 - t0) : -1;
}

double dispatch_tbb_w(const sb::Options& o, int workers) {
    tbb::task_arena arena(workers);
    tbb::task_group g;
    const std::uint64_t n = o.scaled(kDispatchTasks);
    const std::int64_t t0 = sb::now_ns();
    arena.execute([&] {
        for (std::uint64_t i = 0; i < n; ++i) g.run([] { g_ran.fetch_add(1, std::memory_order_relaxed); });
        g.wait();
    });
    const std::int64_t t1 = sb::now_ns();
    return g_ran.load() == n ? static_cast<double>(n) * 1e9 / static_cast<double>(t1 - t0) : -1;
}

double dispatch_std(const sb::Options& o) { return dispatch_std_w(o, 2); }
double dispatch_tbb(const sb::Options& o) { return dispatch_tbb_w(o, 2); }

// ------------------------------------------------------------------ pool_wake_latency
// Each round: t0 = now; submit a task that stores now - t0; wait for it (the waiting style
// each library offers); pause 20 us so the pool is idle (staticrt's workers are then in their
// spin window: that is the design being measured; CPU use after spin_ns (20 us) idle is zero).
std::atomic<std::int64_t> g_lat[kWakeRounds];

double percentile_of(int rounds, double p) {
    std::vector<double> v(static_cast<std::size_t>(rounds));
    for (int i = 0; i < rounds; ++i) v[static_cast<std::size_t>(i)] = static_cast<double>(g_lat[i].load());
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(p * (rounds - 1))];
}

void pause_us(int us) {
    const std::int64_t until = sb::now_ns() + us * 1000;
    while (sb::now_ns() < until) {}
}

template <class Measure>
double wake(Measure&& one, double p) {
    const int rounds = kWakeRounds;
    for (int i = 0; i < rounds; ++i) {
        one(i);
        pause_us(20);
    }
    return percentile_of(rounds, p);
}

double wake_staticrt_p(double p) {
    static staticrt::ThreadPool<2, 1024> pool;
    if (!pool.start({})) return -1;
    const double r = wake([](int i) {
        const std::int64_t t0 = sb::now_ns();
        auto f = pool.submit([i, t0] { g_lat[i].store(sb::now_ns() - t0); });
        if (f) (void)f->get();
    }, p);
    (void)pool.shutdown();
    return r;
}

double wake_std_p(double p) {
    StdPool pool(2);
    return wake([&](int i) {
        const std::int64_t t0 = sb::now_ns();
        pool.submit([i, t0] { g_lat[i].store(sb::now_ns() - t0); });
        pool.wait_idle();
    }, p);
}

double wake_tbb_p(double p) {
    tbb::task_arena arena(2);
    tbb::task_group g;
    return wake([&](int i) {
        const std::int64_t t0 = sb::now_ns();
        arena.enqueue([i, t0] { g_lat[i].store(sb::now_ns() - t0); });
        while (g_lat[i].load() == 0) std::this_thread::yield();
    }, p);
}

double wake_staticrt(const sb::Options&) { return wake_staticrt_p(0.5); }
double wake_staticrt_99(const sb::Options&) { return wake_staticrt_p(0.99); }
double wake_std(const sb::Options&) { return wake_std_p(0.5); }
double wake_std_99(const sb::Options&) { return wake_std_p(0.99); }
double wake_tbb(const sb::Options&) { return wake_tbb_p(0.5); }
double wake_tbb_99(const sb::Options&) { return wake_tbb_p(0.99); }

// ------------------------------------------------------------------ parallel_map
std::vector<std::uint64_t>& map_in(std::uint64_t n) {
    static std::vector<std::uint64_t> v;
    v.resize(n);
    for (std::uint64_t i = 0; i < n; ++i) v[i] = i + 1;
    return v;
}

/// squares: one multiply per 16 bytes moved (memory-bound); mix: ~64 dependent multiply-xor
/// rounds per item (compute-bound, ~100 ns), so the thread count, not the memory, sets the rate.
struct Square {
    static constexpr std::uint64_t kItems = kMapItems;
    static std::uint64_t f(std::uint64_t x) noexcept { return x * x; }
};
struct Mix {
    static constexpr std::uint64_t kItems = 2'000'000;
    static std::uint64_t f(std::uint64_t x) noexcept {
        for (int i = 0; i < 64; ++i) {
            x ^= x >> 29;
            x *= 0xbf58476d1ce4e5b9ULL;
        }
        return x;
    }
};

template <class K>
bool check_map(const std::vector<std::uint64_t>& out) {
    for (std::uint64_t i = 0; i < out.size(); i += 997) {
        if (out[i] != K::f(i + 1)) return false;
    }
    return out.back() == K::f(out.size());
}

/// Threads = the calling thread + W workers (staticrt's map runs chunks on the caller too).
/// ChunksPerThread == 0: the pool's default chunking (about 16 chunks per thread); 4: the default
/// before 2026-11-26 (kept as staticrt_chunks4 for comparison).
/// Warm: one untimed map first, so the timed one finds the workers started and spinning or
/// parked (a service maps again and again); cold (the default) times the first map after start().
template <class K, std::size_t W, std::size_t ChunksPerThread = 0, bool Warm = false>
double map_staticrt_w(const sb::Options& o) {
    static staticrt::ThreadPool<W, 64> pool;
    if (!pool.start({})) return -1;
    const std::uint64_t n = o.scaled(K::kItems);
    auto& in = map_in(n);
    std::vector<std::uint64_t> out(n);
    const std::size_t chunk = ChunksPerThread == 0 ? 0 : (n + (W + 1) * ChunksPerThread - 1) / ((W + 1) * ChunksPerThread);
    const auto run = [&] {
        return pool.map([](std::uint64_t x) { return K::f(x); }, std::span<const std::uint64_t>(in),
                        std::span<std::uint64_t>(out), chunk);
    };
    if (Warm && !run()) return -1;
    const std::int64_t t0 = sb::now_ns();
    if (!run()) return -1;
    const std::int64_t t1 = sb::now_ns();
    (void)pool.shutdown();
    return check_map<K>(out) ? static_cast<double>(n) * 1e9 / static_cast<double>(t1 - t0) : -1;
}
double map_staticrt(const sb::Options& o) { return map_staticrt_w<Square, 1>(o); }  // 1 worker + the caller

/// tbb::parallel_for in a task_arena(threads): the calling thread + threads - 1 workers.
template <class K, bool Warm = false>
double map_tbb_t(const sb::Options& o, int threads) {
    tbb::task_arena arena(threads);
    const std::uint64_t n = o.scaled(K::kItems);
    auto& in = map_in(n);
    std::vector<std::uint64_t> out(n);
    const auto run = [&] {
        arena.execute([&] {
            tbb::parallel_for(tbb::blocked_range<std::uint64_t>(0, n), [&](const tbb::blocked_range<std::uint64_t>& r) {
                for (std::uint64_t i = r.begin(); i < r.end(); ++i) out[i] = K::f(in[i]);
            });
        });
    };
    if (Warm) run();
    const std::int64_t t0 = sb::now_ns();
    run();
    const std::int64_t t1 = sb::now_ns();
    return check_map<K>(out) ? static_cast<double>(n) * 1e9 / static_cast<double>(t1 - t0) : -1;
}
double map_tbb(const sb::Options& o) { return map_tbb_t<Square>(o, 2); }

template <class K>
double map_loop_k(const sb::Options& o) {
    const std::uint64_t n = o.scaled(K::kItems);
    auto& in = map_in(n);
    std::vector<std::uint64_t> out(n);
    const std::int64_t t0 = sb::now_ns();
    for (std::uint64_t i = 0; i < n; ++i) out[i] = K::f(in[i]);
    const std::int64_t t1 = sb::now_ns();
    return check_map<K>(out) ? static_cast<double>(n) * 1e9 / static_cast<double>(t1 - t0) : -1;
}
double map_loop(const sb::Options& o) { return map_loop_k<Square>(o); }

double map_python(const sb::Options& o) {
    // 1M items at most: pickling 10M ints through two pipes takes tens of seconds.
    const std::uint64_t n = std::min<std::uint64_t>(o.scaled(kMapItems), 1'000'000);
    char cmd[1024];
    std::snprintf(cmd, sizeof cmd,
                  "python3 -c \"\n"
                  "import multiprocessing as mp, time\n"
                  "def square(x): return x * x\n"
                  "if __name__ == '__main__':\n"
                  "    with mp.Pool(2) as p:\n"
                  "        p.map(square, range(1, 1000))\n"
                  "        t = time.perf_counter(); r = p.map(square, range(1, %llu + 1)); t = time.perf_counter() - t\n"
                  "        assert r[-1] == %llu * %llu\n"
                  "        print(%llu / t)\n"
                  "\"",
                  static_cast<unsigned long long>(n), static_cast<unsigned long long>(n),
                  static_cast<unsigned long long>(n), static_cast<unsigned long long>(n));
    FILE* f = popen(cmd, "r");
    if (f == nullptr) return -1;
    double v = -1;
    if (std::fscanf(f, "%lf", &v) != 1) v = -1;
    return pclose(f) == 0 ? v : -1;
}

using sb::Better;

const int kRegistered = sb::add_workloads({
    {"pool_dispatch", "staticrt", "tasks/s", Better::higher, true, &dispatch_staticrt},
    {"pool_dispatch", "staticrt_longest", "tasks/s", Better::higher, false, &dispatch_staticrt_longest},
    {"pool_dispatch", "staticrt_futures", "tasks/s", Better::higher, true, &dispatch_staticrt_futures},
    {"pool_dispatch", "std_pool", "tasks/s", Better::higher, true, &dispatch_std},
    {"pool_dispatch", "tbb_task_group", "tasks/s", Better::higher, true, &dispatch_tbb},
    {"pool_wake_latency", "staticrt", "ns", Better::lower, true, &wake_staticrt},
    {"pool_wake_latency", "std_pool", "ns", Better::lower, true, &wake_std},
    {"pool_wake_latency", "tbb_arena", "ns", Better::lower, true, &wake_tbb},
    {"pool_wake_latency_p99", "staticrt", "ns", Better::lower, true, &wake_staticrt_99},
    {"pool_wake_latency_p99", "std_pool", "ns", Better::lower, true, &wake_std_99},
    {"pool_wake_latency_p99", "tbb_arena", "ns", Better::lower, true, &wake_tbb_99},
    {"parallel_map", "staticrt", "items/s", Better::higher, true, &map_staticrt},
    {"parallel_map", "tbb_parallel_for", "items/s", Better::higher, true, &map_tbb},
    {"parallel_map", "plain_loop", "items/s", Better::higher, false, &map_loop},
    {"parallel_map", "python_mp_pool2", "items/s", Better::higher, true, &map_python},
});

// --scaling: the same workloads at 1..16 threads, each worker pinned to its own core.
// pool_dispatch: W workers + the submitting thread; parallel_map / map_compute: T threads in all
// (staticrt: T - 1 workers + the caller; tbb: task_arena(T)); the plain loop is one thread.
template <std::size_t W> double dispatch_tbb_n(const sb::Options& o) { return dispatch_tbb_w(o, static_cast<int>(W)); }
template <std::size_t W> double dispatch_std_n(const sb::Options& o) { return dispatch_std_w(o, static_cast<int>(W)); }
template <class K, std::size_t T> double map_staticrt_t(const sb::Options& o) { return map_staticrt_w<K, T - 1>(o); }
template <class K, std::size_t T> double map_staticrt_t4(const sb::Options& o) { return map_staticrt_w<K, T - 1, 4>(o); }
template <class K, std::size_t T> double map_tbb_n(const sb::Options& o) { return map_tbb_t<K>(o, static_cast<int>(T)); }
template <class K, std::size_t T> double map_staticrt_warm_t(const sb::Options& o) { return map_staticrt_w<K, T - 1, 0, true>(o); }
template <class K, std::size_t T> double map_tbb_warm_n(const sb::Options& o) { return map_tbb_t<K, true>(o, static_cast<int>(T)); }

#define STATICRT_BENCH_SCALE_DISPATCH(W, NAME)                                                 \
    {NAME, "staticrt", "tasks/s", Better::higher, true, &dispatch_staticrt_w<W>},              \
    {NAME, "std_pool", "tasks/s", Better::higher, true, &dispatch_std_n<W>},                   \
    {NAME, "tbb_task_group", "tasks/s", Better::higher, true, &dispatch_tbb_n<W>}
#define STATICRT_BENCH_SCALE_MAP(K, T, NAME)                                                   \
    {NAME, "staticrt", "items/s", Better::higher, true, &map_staticrt_t<K, T>},                \
    {NAME, "staticrt_chunks4", "items/s", Better::higher, true, &map_staticrt_t4<K, T>},       \
    {NAME, "tbb_parallel_for", "items/s", Better::higher, true, &map_tbb_n<K, T>},             \
    {NAME, "staticrt_warm", "items/s", Better::higher, true, &map_staticrt_warm_t<K, T>},      \
    {NAME, "tbb_warm", "items/s", Better::higher, true, &map_tbb_warm_n<K, T>},                \
    {NAME, "plain_loop", "items/s", Better::higher, false, &map_loop_k<K>}

const int kScalingRegistered = sb::add_scaling_workloads({
    STATICRT_BENCH_SCALE_DISPATCH(1, "scale_pool_dispatch_w1"),
    STATICRT_BENCH_SCALE_DISPATCH(2, "scale_pool_dispatch_w2"),
    STATICRT_BENCH_SCALE_DISPATCH(4, "scale_pool_dispatch_w4"),
    STATICRT_BENCH_SCALE_DISPATCH(8, "scale_pool_dispatch_w8"),
    STATICRT_BENCH_SCALE_DISPATCH(15, "scale_pool_dispatch_w15"),
    STATICRT_BENCH_SCALE_MAP(Square, 2, "scale_parallel_map_t2"),
    STATICRT_BENCH_SCALE_MAP(Square, 4, "scale_parallel_map_t4"),
    STATICRT_BENCH_SCALE_MAP(Square, 8, "scale_parallel_map_t8"),
    STATICRT_BENCH_SCALE_MAP(Square, 16, "scale_parallel_map_t16"),
    STATICRT_BENCH_SCALE_MAP(Mix, 2, "scale_map_compute_t2"),
    STATICRT_BENCH_SCALE_MAP(Mix, 4, "scale_map_compute_t4"),
    STATICRT_BENCH_SCALE_MAP(Mix, 8, "scale_map_compute_t8"),
    STATICRT_BENCH_SCALE_MAP(Mix, 16, "scale_map_compute_t16"),
});
#undef STATICRT_BENCH_SCALE_DISPATCH
#undef STATICRT_BENCH_SCALE_MAP

}  // namespace
