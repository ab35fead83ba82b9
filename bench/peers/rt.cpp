// SPDX-License-Identifier: MIT
// bench/peers/rt.cpp — real-time workloads for staticrt-bench-peers: wake latency against the
// kernel's floor (cyclictest) in the same repetition.
//
//   rt_wake_latency_{p50,p99,p999,max}   submit -> task start on a PARKED pool, ns
//   rt_periodic_jitter_{p50,p99,p999,max} lateness of a 1 kHz PeriodicTask's releases, ns
//
// The measuring thread runs at SCHED_FIFO --rt-priority pinned to cpu A and sleeps on absolute
// deadlines (clock_nanosleep TIMER_ABSTIME) --rt-interval-us apart, --rt-trials times, exactly
// like cyclictest's thread; at each wake it takes t0 and submits one task, which stores
// now - t0. The gap (200 us) is well past staticrt's spin budget (ThreadPoolOptions::spin_ns, 20 us),
// so every submit finds the workers parked in the kernel. Libraries:
//   staticrt        ThreadPool<2>, SCHED_FIFO workers pinned one per core (the default pinning),
//                   the default wake policy (WakePolicy::near_submitter: the worker on cpu A)
//   staticrt_longest the same pool with WakePolicy::longest_parked (the kernel picks the worker)
//   staticrt_float  the same pool with ThreadPoolOptions::pin = false (workers float, same priority)
//   std_pool        2 std::threads + std::mutex + std::condition_variable, SCHED_FIFO, pinned A,B
//   tbb_arena       task_arena(2); its workers are made SCHED_FIFO by a task_scheduler_observer
//   cyclictest      `cyclictest -q -p PRIO -a A -t 1 -i GAP -l TRIALS -h 20000`: the kernel's
//                   wake-up latency of a SCHED_FIFO thread on the same CPU, same interval and count
// (cyclictest rows are registered only when `cyclictest` is on PATH; it needs SCHED_FIFO.)
// rt_periodic_jitter: a PeriodicTask(1 ms, SCHED_FIFO, pinned A) vs cyclictest -i 1000, each for
// --rt-trials / 10 releases.
//
// One measurement yields all four figures; the four workloads of one library share it through a
// small file in /tmp keyed by the parent's pid (the first of the four that runs in a repetition
// measures, the others read), so p50..max come from the same trials.
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <tbb/task_arena.h>
#include <tbb/task_scheduler_observer.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "registry.hpp"
#include "staticrt/diag/histogram.hpp"
#include "staticrt/exec/periodic.hpp"
#include "staticrt/exec/thread_pool.hpp"

namespace sb = staticrt::bench;
using staticrt::Deadline;
using staticrt::Instant;

namespace {

struct Figures {
    double v[4] = {-1, -1, -1, -1};  // p50, p99, p999, max (ns)
};

bool set_fifo(int prio) {
    sched_param sp{};
    sp.sched_priority = prio;
    return pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0;
}

void pin_self(int cpu) { sb::pin_to_cpu(cpu); }

Figures from_snapshot(const staticrt::LatencyHistogram::Snapshot& s) {
    Figures f;
    f.v[0] = static_cast<double>(s.p50());
    f.v[1] = static_cast<double>(s.p99());
    f.v[2] = static_cast<double>(s.p999());
    f.v[3] = static_cast<double>(s.max());
    return f;
}

// ------------------------------------------------------------------ the measuring loop
// submit(t0, slot) must arrange for slot->store(now - t0) on a worker.
template <class Submit>
Figures wake_loop(const sb::Options& o, Submit&& submit) {
    static staticrt::LatencyHistogram hist;
    static staticrt::LatencyHistogram::Snapshot snap;
    hist.reset();
    if (!set_fifo(o.rt_priority)) std::fprintf(stderr, "rt: SCHED_FIFO refused: measuring at normal priority\n");
    pin_self(o.cpu_a);
    std::atomic<std::int64_t> slot{-1};
    const std::int64_t gap = static_cast<std::int64_t>(o.rt_interval_us) * 1000;
    std::int64_t next = Instant::now().ns() + gap;
    for (std::uint64_t i = 0; i < o.rt_trials; ++i) {
        (void)staticrt::platform::sleep_until(Deadline::at(Instant(next)));
        next += gap;
        if (i > 0) {
            std::int64_t v;
            // The previous task had a whole gap to finish; if not, wait (counted as it is).
            while ((v = slot.load(std::memory_order_acquire)) < 0) sched_yield();
            hist.record_signed(v);
        }
        slot.store(-1, std::memory_order_relaxed);
        const std::int64_t t0 = Instant::now().ns();
        if (!submit(t0, &slot)) return {};
    }
    std::int64_t v;
    while ((v = slot.load(std::memory_order_acquire)) < 0) sched_yield();
    hist.record_signed(v);
    if (!hist.snapshot(snap)) return {};
    return from_snapshot(snap);
}

Figures measure_staticrt(const sb::Options& o, bool pin,
                         staticrt::WakePolicy wake = staticrt::WakePolicy::near_submitter) {
    static staticrt::ThreadPool<2, 64> pool;
    staticrt::ThreadPoolOptions po;
    po.pin = pin;
    po.wake = wake;
    po.priority = {staticrt::platform::SchedPolicy::fifo, o.rt_priority};
    if (!pool.start(po)) return {};
    Figures f = wake_loop(o, [](std::int64_t t0, std::atomic<std::int64_t>* slot) {
        return static_cast<bool>(pool.submit_detached([t0, slot] {
            slot->store(Instant::now().ns() - t0, std::memory_order_release);
        }));
    });
    (void)pool.shutdown();
    return f;
}

class FifoStdPool {
public:
    FifoStdPool(const sb::Options& o) {
        for (int i = 0; i < 2; ++i)
            m_threads.emplace_back([this, &o, i] {
                set_fifo(o.rt_priority);
                pin_self(i == 0 ? o.cpu_a : o.cpu_b);
                loop();
            });
    }
    ~FifoStdPool() {
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
        }
        m_cv.notify_one();
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
        }
    }
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<std::function<void()>> m_tasks;
    bool m_stop = false;
    std::vector<std::thread> m_threads;
};

Figures measure_std(const sb::Options& o) {
    FifoStdPool pool(o);
    return wake_loop(o, [&](std::int64_t t0, std::atomic<std::int64_t>* slot) {
        pool.submit([t0, slot] { slot->store(Instant::now().ns() - t0, std::memory_order_release); });
        return true;
    });
}

class FifoObserver : public tbb::task_scheduler_observer {
public:
    FifoObserver(tbb::task_arena& a, int prio) : tbb::task_scheduler_observer(a), m_prio(prio) { observe(true); }
    void on_scheduler_entry(bool) override { set_fifo(m_prio); }

private:
    int m_prio;
};

Figures measure_tbb(const sb::Options& o) {
    tbb::task_arena arena(2);
    arena.initialize();
    FifoObserver obs(arena, o.rt_priority);
    return wake_loop(o, [&](std::int64_t t0, std::atomic<std::int64_t>* slot) {
        arena.enqueue([t0, slot] { slot->store(Instant::now().ns() - t0, std::memory_order_release); });
        return true;
    });
}

// ------------------------------------------------------------------ cyclictest
bool have_cyclictest() {
    const char* path = std::getenv("PATH");
    std::string all = path ? path : "/usr/bin:/bin";
    std::size_t b = 0;
    for (;;) {
        const std::size_t e = all.find(':', b);
        const std::string dir = all.substr(b, e == std::string::npos ? std::string::npos : e - b);
        if (!dir.empty() && access((dir + "/cyclictest").c_str(), X_OK) == 0) return true;
        if (e == std::string::npos) return false;
        b = e + 1;
    }
}

/// Runs cyclictest with its 1 us histogram and turns it into p50/p99/p999/max (ns; the
/// percentiles are bucket upper edges, max is cyclictest's own).
Figures run_cyclictest(const sb::Options& o, int interval_us, std::uint64_t loops) {
    char cmd[256];
    std::snprintf(cmd, sizeof cmd, "cyclictest -q -m -p %d -a %d -t 1 -i %d -l %llu -h 20000 2>/dev/null", o.rt_priority,
                  o.cpu_a, interval_us, static_cast<unsigned long long>(loops));
    FILE* p = popen(cmd, "r");
    if (p == nullptr) return {};
    static std::uint64_t buckets[20001];
    std::memset(buckets, 0, sizeof buckets);
    std::uint64_t total = 0, overflow = 0;
    long long max_us = -1;
    char line[512];
    while (std::fgets(line, sizeof line, p) != nullptr) {
        unsigned long long us = 0, n = 0;
        if (line[0] != '#' && std::sscanf(line, "%llu %llu", &us, &n) == 2 && us <= 20000) {
            buckets[us] += n;
            total += n;
        } else if (std::strncmp(line, "# Max Latencies:", 16) == 0) {
            max_us = std::atoll(line + 16);
        } else if (std::strncmp(line, "# Histogram Overflows:", 22) == 0) {
            overflow = std::strtoull(line + 22, nullptr, 10);
        }
    }
    const int rc = pclose(p);
    if (rc != 0 || total == 0 || max_us < 0) return {};
    total += overflow;
    Figures f;
    const double ps[3] = {0.5, 0.99, 0.999};
    for (int k = 0; k < 3; ++k) {
        const auto rank = static_cast<std::uint64_t>(ps[k] * static_cast<double>(total) + 0.999999);
        std::uint64_t seen = 0;
        f.v[k] = static_cast<double>(max_us) * 1000.0;
        for (int us = 0; us <= 20000; ++us) {
            seen += buckets[us];
            if (seen >= rank) {
                f.v[k] = (us + 1) * 1000.0;  // bucket `us` holds [us, us+1) us
                break;
            }
        }
    }
    f.v[3] = static_cast<double>(max_us) * 1000.0;
    return f;
}

// ------------------------------------------------------------------ periodic jitter
Figures periodic_staticrt(const sb::Options& o) {
    static staticrt::PeriodicTask<256 * 1024> task;
    static staticrt::CpuSet cpu;
    static staticrt::LatencyHistogram::Snapshot snap;
    cpu = staticrt::CpuSet::single(static_cast<std::size_t>(o.cpu_a));
    staticrt::PeriodicOptions po;
    po.period = std::chrono::milliseconds(1);
    po.max_runs = o.rt_trials / 10 < 100 ? 100 : o.rt_trials / 10;
    po.thread.name = "rt-periodic";
    po.thread.priority = {staticrt::platform::SchedPolicy::fifo, o.rt_priority};
    po.thread.affinity = &cpu;
    if (!task.start([] {}, po)) {
        po.thread.priority = {};
        std::fprintf(stderr, "rt: SCHED_FIFO refused: periodic task at normal priority\n");
        if (!task.start([] {}, po)) return {};
    }
    if (!task.join() || !task.lateness(snap)) return {};
    const auto st = task.stats();
    if (st.skipped != 0 || st.overruns != 0)
        std::fprintf(stderr, "rt: periodic task: %llu skipped, %llu overruns, %llu deadline misses\n",
                     (unsigned long long)st.skipped, (unsigned long long)st.overruns,
                     (unsigned long long)st.deadline_misses);
    return from_snapshot(snap);
}

// ------------------------------------------------------------------ one measurement, four lines
enum Lib { kStaticrt, kStaticrtLongest, kStaticrtFloat, kStd, kTbb, kCyclic, kPeriodicStaticrt, kPeriodicCyclic, kLibs };

Figures measure(Lib lib, const sb::Options& o) {
    switch (lib) {
        case kStaticrt: return measure_staticrt(o, true);
        case kStaticrtLongest: return measure_staticrt(o, true, staticrt::WakePolicy::longest_parked);
        case kStaticrtFloat: return measure_staticrt(o, false);
        case kStd: return measure_std(o);
        case kTbb: return measure_tbb(o);
        case kCyclic: return run_cyclictest(o, o.rt_interval_us, o.rt_trials);
        case kPeriodicStaticrt: return periodic_staticrt(o);
        case kPeriodicCyclic: return run_cyclictest(o, 1000, o.rt_trials / 10 < 100 ? 100 : o.rt_trials / 10);
        default: return {};
    }
}

struct CacheEntry {
    Figures f;
    unsigned consumed = 0;  // bit k: figure k was already reported
};

std::string cache_path(Lib lib) {
    return "/tmp/staticrt-bench-rt-" + std::to_string(static_cast<long>(getppid())) + "-" + std::to_string(lib);
}

/// Figure k of library `lib`: from this repetition's measurement if one is cached and figure k
/// was not reported from it yet, else from a fresh measurement (which is then cached).
double figure(Lib lib, int k, const sb::Options& o) {
    const std::string path = cache_path(lib);
    CacheEntry e;
    bool fresh = true;
    if (FILE* f = std::fopen(path.c_str(), "rb")) {
        if (std::fread(&e, sizeof e, 1, f) == 1 && (e.consumed & (1U << k)) == 0) fresh = false;
        std::fclose(f);
    }
    if (fresh) {
        e = CacheEntry{};
        e.f = measure(lib, o);
    }
    e.consumed |= 1U << k;
    if (e.consumed == 0xF) {
        std::remove(path.c_str());
    } else if (FILE* f = std::fopen(path.c_str(), "wb")) {
        (void)std::fwrite(&e, sizeof e, 1, f);
        std::fclose(f);
    }
    return e.f.v[k];
}

template <Lib L, int K>
double fig(const sb::Options& o) {
    return figure(L, K, o);
}

using sb::Better;

#define STATICRT_RT_ROWS(NAME, LIB, LIBNAME)                                        \
    {NAME "_p50", LIBNAME, "ns", Better::lower, true, &fig<LIB, 0>},                 \
        {NAME "_p99", LIBNAME, "ns", Better::lower, true, &fig<LIB, 1>},             \
        {NAME "_p999", LIBNAME, "ns", Better::lower, true, &fig<LIB, 2>},            \
        {NAME "_max", LIBNAME, "ns", Better::lower, true, &fig<LIB, 3>}

const int kRegistered = sb::add_workloads({
    STATICRT_RT_ROWS("rt_wake_latency", kStaticrt, "staticrt"),
    STATICRT_RT_ROWS("rt_wake_latency", kStaticrtLongest, "staticrt_longest"),
    STATICRT_RT_ROWS("rt_wake_latency", kStaticrtFloat, "staticrt_float"),
    STATICRT_RT_ROWS("rt_wake_latency", kStd, "std_pool"),
    STATICRT_RT_ROWS("rt_wake_latency", kTbb, "tbb_arena"),
    STATICRT_RT_ROWS("rt_periodic_jitter", kPeriodicStaticrt, "staticrt"),
});
const int kRegisteredCyclic = have_cyclictest() ? sb::add_workloads({
                                                      STATICRT_RT_ROWS("rt_wake_latency", kCyclic, "cyclictest"),
                                                      STATICRT_RT_ROWS("rt_periodic_jitter", kPeriodicCyclic, "cyclictest"),
                                                  })
                                                : 0;

}  // namespace
