// SPDX-License-Identifier: MIT
// realtime_pipeline — the main demo: a fixed-rate sensor pipeline on a pinned, static thread pool.
//
//   producer thread --SpscQueue--> dispatcher (main) --ThreadPool--> FIR filter tasks
//                                                                     --MpmcQueue--> consumer thread
//
// The producer emits "sensor" samples at a fixed rate (a tone plus noise) and stamps each with
// the monotonic clock. The dispatcher writes each sample into a history ring and submits one
// 32-tap low-pass FIR task per sample to a pool whose workers are pinned one per core. Each task
// pushes its output to the consumer, which measures emit -> result latency in a
// staticrt::LatencyHistogram. At the end it prints throughput, latency p50/p99/p999/max, the pool's own
// queue-wait / run-time histograms (ThreadPoolOptions::task_latency), the pool's per-worker
// stats, and the heap allocations made after start-up — counted by this file's own operator new
// and malloc — which must be 0.
//
//   ./realtime_pipeline [--rate HZ] [--seconds S] [--cpus 0,1] [--rt-priority P]
//
// Defaults: 20000 samples/s for 3 s, workers on one CPU per physical core, SCHED_FIFO 50 with
// locked memory when the process may (refused is reported, not fatal; --rt-priority 0 turns it
// off). It also reports deadline misses and, measured in the same run by a cyclictest-like probe
// (a pinned SCHED_FIFO thread sleeping on absolute deadlines), the kernel's wake-up floor, so the
// pipeline's latency can be read as "floor + ours". --help lists the flags; bad values are refused.
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "staticrt/diag/histogram.hpp"
#include "staticrt/exec/periodic.hpp"
#include "staticrt/exec/thread_pool.hpp"
#include "staticrt/platform/cpu.hpp"
#include "staticrt/platform/thread.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/queue/mpmc_queue.hpp"
#include "staticrt/queue/spsc_queue.hpp"

// ------------------------------------------------------------------ allocation counting
// Every heap allocation of the process goes through these; the demo reports how many happened
// after start-up. (An example may replace the allocator; the runtime itself never calls it.)
namespace {
std::atomic<std::uint64_t> g_allocations{0};  // relaxed: an event counter read after joins
}  // namespace

#if defined(STATICRT_SANITIZED)
// ASan/TSan own malloc and operator new: a replacement would fight their allocator, so a
// sanitizer build does not count (it prints that it did not).
constexpr bool kCountingAllocations = false;
#elif defined(__GLIBC__)
constexpr bool kCountingAllocations = true;
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void __libc_free(void*);
void* malloc(std::size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return __libc_malloc(n);
}
void* calloc(std::size_t a, std::size_t b) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return __libc_calloc(a, b);
}
void* realloc(void* p, std::size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return __libc_realloc(p, n);
}
void free(void* p) { __libc_free(p); }
}
void* operator new(std::size_t n) {
    void* p = malloc(n == 0 ? 1 : n);
    if (p == nullptr) std::abort();
    return p;
}
void operator delete(void* p) noexcept { free(p); }
void operator delete(void* p, std::size_t) noexcept { free(p); }
#else
constexpr bool kCountingAllocations = true;
void* operator new(std::size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    void* p = std::malloc(n == 0 ? 1 : n);
    if (p == nullptr) std::abort();
    return p;
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif
#if !defined(STATICRT_SANITIZED)
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { operator delete(p); }
#endif

namespace {

using staticrt::Deadline;
using staticrt::Instant;
namespace platform = staticrt::platform;

// ------------------------------------------------------------------ configuration
constexpr std::size_t kTaps = 32;
constexpr std::size_t kHistory = 1 << 14;  // > pool queue capacity + taps: a task's window is never overwritten

struct Config {
    double rate = 20000.0;
    double seconds = 3.0;
    staticrt::CpuSet cpus{};
#if defined(STATICRT_SANITIZED)
    int rt_priority = 0;         // sanitizer builds: SCHED_FIFO spinners starve the sanitizer's runtime
#else
    int rt_priority = 50;        // 0: normal priority, no memory lock
#endif
    double deadline_us = 1000;   // emit -> result deadline of each sample
    double floor_period_us = 1000;
};

struct Sample {
    std::uint64_t seq;
    std::int64_t emit_ns;
    float value;
};

struct Output {
    std::uint64_t seq;
    std::int64_t emit_ns;
    float y;
};

// ------------------------------------------------------------------ static objects
constinit staticrt::ThreadPool<2, 1024> g_pool;
staticrt::SpscQueue<Sample, 4096> g_samples;
staticrt::MpmcQueue<Output, 16384> g_outputs;
float g_coeff[kTaps];
float g_history[kHistory];
std::int64_t g_emit[kHistory];

// ------------------------------------------------------------------ latency
// emit -> result latency (recorded by the consumer thread only) and the kernel's floor, measured
// in the same run by a cyclictest-like PeriodicTask (see main()).
staticrt::LatencyHistogram g_latency;
staticrt::LatencyHistogram::Snapshot g_latency_snap;
staticrt::LatencyHistogram::Snapshot g_floor_snap;
// The pool's own per-task histograms (ThreadPoolOptions::task_latency): queue wait (submit ->
// task start) and run time, one pair per worker, recorded by the workers.
staticrt::TaskLatency g_task_latency[decltype(g_pool)::kWorkers];
staticrt::TaskLatencySnapshot g_task_snap;
staticrt::PeriodicTask<> g_floor;
staticrt::CpuSet g_floor_cpu;
std::int64_t g_deadline_ns = 1'000'000;
std::atomic<std::uint64_t> g_deadline_misses{0};  // results later than emit + deadline (consumer only writes)

std::atomic<std::uint64_t> g_consumed{0};
std::atomic<std::uint64_t> g_emitted{0};
std::atomic<std::uint64_t> g_late{0};  // samples the producer emitted behind schedule by > 1 ms
double g_checksum = 0.0;

// ------------------------------------------------------------------ threads
void producer(void* arg) noexcept {
    const Config& cfg = *static_cast<const Config*>(arg);
    const auto total = static_cast<std::uint64_t>(cfg.rate * cfg.seconds);
    const double period_ns = 1e9 / cfg.rate;
    const std::int64_t start = Instant::now().ns();
    std::uint32_t noise = 12345;
    std::uint64_t seq = 0;
    while (seq < total) {
        const std::int64_t now = Instant::now().ns();
        // Emit every sample that is due (the kernel's timer granularity batches them).
        while (seq < total && static_cast<double>(now - start) >= static_cast<double>(seq) * period_ns) {
            noise = noise * 1664525u + 1013904223u;
            const double t = static_cast<double>(seq) / cfg.rate;
            const float v = static_cast<float>(std::sin(2.0 * 3.141592653589793 * 440.0 * t) +
                                               0.25 * (static_cast<double>(noise >> 8) / 16777216.0 - 0.5));
            if (static_cast<double>(now - start) - static_cast<double>(seq) * period_ns > 1e6) {
                g_late.fetch_add(1, std::memory_order_relaxed);
            }
            if (!g_samples.push(Sample{seq, Instant::now().ns(), v})) break;
            ++seq;
        }
        const std::int64_t next = start + static_cast<std::int64_t>(static_cast<double>(seq) * period_ns);
        (void)platform::sleep_until(Deadline::at(Instant(next)));
    }
    g_emitted.store(seq, std::memory_order_relaxed);
    g_samples.close();
}

void consumer(void*) noexcept {
    for (;;) {
        auto out = g_outputs.pop(Deadline::never());
        if (!out) break;  // closed and drained
        const std::int64_t now = Instant::now().ns();
        g_latency.record_signed(now - out->emit_ns);
        if (now - out->emit_ns > g_deadline_ns) g_deadline_misses.fetch_add(1, std::memory_order_relaxed);
        g_checksum += static_cast<double>(out->y);
        g_consumed.fetch_add(1, std::memory_order_relaxed);
    }
}

/// One FIR output: y[n] = sum_k h[k] * x[n - k]. Runs on a pool worker.
void fir_task(std::uint64_t n) noexcept {
    float acc = 0.0f;
    for (std::size_t k = 0; k < kTaps && k <= n; ++k) acc += g_coeff[k] * g_history[(n - k) % kHistory];
    (void)g_outputs.push(Output{n, g_emit[n % kHistory], acc});
}

bool parse_cpus(const char* s, staticrt::CpuSet& out) {
    while (*s != '\0') {
        char* end = nullptr;
        const long v = std::strtol(s, &end, 10);
        if (end == s || v < 0) return false;
        (void)out.add(static_cast<std::size_t>(v));
        s = *end == ',' ? end + 1 : end;
        if (*end != ',' && *end != '\0') return false;
    }
    return !out.empty();
}

constexpr const char* kUsage =
    "usage: realtime_pipeline [--rate HZ] [--seconds S] [--cpus 0,1] [--rt-priority P] [--deadline-us US]\n"
    "                         [--floor-period-us US] [--help]\n"
    "  --rate HZ            samples per second (default 20000)\n"
    "  --seconds S          run time (default 3)\n"
    "  --cpus LIST          worker CPUs, e.g. 0,1 (default: one per physical core)\n"
    "  --rt-priority P      SCHED_FIFO level of the workers, 1..98; the producer, consumer and the floor\n"
    "                       probe run at P+1; memory is locked (mlockall). 0: normal priority, no lock.\n"
    "                       Default 50; refused (no CAP_SYS_NICE) is reported and the run goes on.\n"
    "  --deadline-us US     a result later than emit + US is a deadline miss (default 1000)\n"
    "  --floor-period-us US period of the kernel-floor probe (a pinned SCHED_FIFO thread sleeping on\n"
    "                       absolute deadlines, like cyclictest), run beside the pipeline (default 1000)\n";

int bad_value(const char* flag, const char* value) {
    std::fprintf(stderr, "realtime_pipeline: bad value for %s: '%s'\n%s", flag, value, kUsage);
    return 2;
}

/// Parses a whole-string number in [lo, hi]; false on anything else.
bool parse_number(const char* s, double lo, double hi, double& out) {
    if (s == nullptr || *s == '\0') return false;
    char* end = nullptr;
    const double v = std::strtod(s, &end);
    if (end == s || *end != '\0' || !(v >= lo && v <= hi)) return false;
    out = v;
    return true;
}

alignas(16) std::byte g_producer_stack[platform::kMinStackBytes > 64 * 1024 ? platform::kMinStackBytes : 64 * 1024];
alignas(16) std::byte g_consumer_stack[platform::kMinStackBytes > 64 * 1024 ? platform::kMinStackBytes : 64 * 1024];
platform::ThreadHandle g_producer;
platform::ThreadHandle g_consumer;

}  // namespace

int main(int argc, char** argv) {
    Config cfg;
    for (int i = 1; i < argc; ++i) {
        const char* flag = argv[i];
        if (std::strcmp(flag, "--help") == 0 || std::strcmp(flag, "-h") == 0) {
            std::fputs(kUsage, stdout);
            return 0;
        }
        const bool known = std::strcmp(flag, "--rate") == 0 || std::strcmp(flag, "--seconds") == 0 ||
                           std::strcmp(flag, "--cpus") == 0 || std::strcmp(flag, "--rt-priority") == 0 ||
                           std::strcmp(flag, "--deadline-us") == 0 || std::strcmp(flag, "--floor-period-us") == 0;
        if (!known) {
            std::fprintf(stderr, "realtime_pipeline: unknown option '%s'\n%s", flag, kUsage);
            return 2;
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "realtime_pipeline: %s needs a value\n%s", flag, kUsage);
            return 2;
        }
        const char* value = argv[++i];
        double v = 0;
        if (std::strcmp(flag, "--cpus") == 0) {
            if (!parse_cpus(value, cfg.cpus)) return bad_value(flag, value);
        } else if (std::strcmp(flag, "--rate") == 0) {
            if (!parse_number(value, 1, 10'000'000, v)) return bad_value(flag, value);
            cfg.rate = v;
        } else if (std::strcmp(flag, "--seconds") == 0) {
            if (!parse_number(value, 0.001, 86'400, v)) return bad_value(flag, value);
            cfg.seconds = v;
        } else if (std::strcmp(flag, "--rt-priority") == 0) {
            if (!parse_number(value, 0, 98, v) || v != static_cast<double>(static_cast<int>(v))) return bad_value(flag, value);
            cfg.rt_priority = static_cast<int>(v);
        } else if (std::strcmp(flag, "--deadline-us") == 0) {
            if (!parse_number(value, 1, 1e9, v)) return bad_value(flag, value);
            cfg.deadline_us = v;
        } else {
            if (!parse_number(value, 10, 1e6, v)) return bad_value(flag, value);
            cfg.floor_period_us = v;
        }
    }
    g_deadline_ns = static_cast<std::int64_t>(cfg.deadline_us * 1e3);

    // Windowed-sinc low-pass, cut-off at 1/8 of the sample rate, Hamming window.
    double sum = 0;
    for (std::size_t k = 0; k < kTaps; ++k) {
        const double m = static_cast<double>(k) - (kTaps - 1) / 2.0;
        const double sinc = m == 0 ? 0.25 : std::sin(0.25 * 3.141592653589793 * m) / (3.141592653589793 * m);
        const double w = 0.54 - 0.46 * std::cos(2 * 3.141592653589793 * static_cast<double>(k) / (kTaps - 1));
        g_coeff[k] = static_cast<float>(sinc * w);
        sum += sinc * w;
    }
    for (auto& c : g_coeff) c = static_cast<float>(c / sum);

    staticrt::ThreadPoolOptions opt;
    opt.cpus = cfg.cpus;
    opt.name = "fir";
    opt.task_latency = g_task_latency;
    opt.task_latency_count = g_pool.worker_count();
    platform::Priority io_priority{};
    if (cfg.rt_priority > 0) {
        // Workers at P; producer, dispatcher and consumer one level above, so the sample source
        // is never starved by workers. Real-time workers spin only briefly when idle: a FIFO
        // thread spinning on every core would starve everything at normal priority.
        opt.priority = {platform::SchedPolicy::fifo, cfg.rt_priority};
        opt.lock_memory = true;
        opt.spin_ns = 2'000;
        io_priority = {platform::SchedPolicy::fifo, cfg.rt_priority < 99 ? cfg.rt_priority + 1 : 99};
    }
    std::printf("realtime_pipeline: %.0f samples/s for %.1f s, %zu workers, %zu-tap FIR\n", cfg.rate, cfg.seconds,
                g_pool.worker_count(), kTaps);
    if (auto r = g_pool.start(opt); !r) {
        std::fprintf(stderr, "pool start failed: %s\n", staticrt::to_string(r.error().code));
        return 1;
    }
    if (cfg.rt_priority == 0) {
        std::printf("  real-time: off (--rt-priority 0): normal priority, memory not locked\n");
    } else {
        if (g_pool.priority_error().code != staticrt::Errc::ok) {
            std::printf("  real-time: SCHED_FIFO %d REFUSED (%s): running at normal priority (needs root or CAP_SYS_NICE)\n",
                        cfg.rt_priority, staticrt::to_string(g_pool.priority_error().code));
        } else {
            std::printf("  real-time: workers SCHED_FIFO %d, producer/consumer/floor probe %d\n", cfg.rt_priority,
                        io_priority.level);
        }
        if (g_pool.memory_lock_error().code != staticrt::Errc::ok)
            std::printf("  memory lock (mlockall) REFUSED (%s)\n", staticrt::to_string(g_pool.memory_lock_error().code));
        else
            std::printf("  memory locked (mlockall)\n");
    }
    if (io_priority.policy != platform::SchedPolicy::normal && !platform::set_current_priority(io_priority)) {
        io_priority = {};  // refused: every pipeline thread stays at normal priority
    }
    {
        // The kernel's floor in this run: a thread at the pipeline's I/O priority, pinned to the
        // first worker CPU, sleeping on absolute deadlines (what cyclictest measures).
        const staticrt::WorkerStats w0 = g_pool.stats(0);
        auto procs = platform::process_affinity();
        g_floor_cpu = staticrt::CpuSet::single(w0.cpu != platform::kMaxCpus ? w0.cpu : (procs ? procs->first() : 0));
        staticrt::PeriodicOptions fo;
        fo.period = std::chrono::nanoseconds(static_cast<std::int64_t>(cfg.floor_period_us * 1e3));
        fo.thread = {"floor", io_priority, &g_floor_cpu};
        if (!g_floor.start([] {}, fo)) {
            fo.thread.priority = {};
            if (!g_floor.start([] {}, fo)) std::printf("  floor probe could not start\n");
        }
    }
    if (!platform::start_thread(g_consumer, {g_consumer_stack, sizeof g_consumer_stack}, &consumer, nullptr,
                                {"consumer", io_priority, nullptr}) ||
        !platform::start_thread(g_producer, {g_producer_stack, sizeof g_producer_stack}, &producer, &cfg,
                                {"producer", io_priority, nullptr})) {
        std::fprintf(stderr, "could not start the producer/consumer threads\n");
        return 1;
    }
    std::fflush(stdout);
    const std::uint64_t allocs_at_start = g_allocations.load(std::memory_order_relaxed);
    const std::int64_t t0 = Instant::now().ns();

    // Dispatcher: samples -> history ring -> one FIR task each.
    std::uint64_t submitted = 0;
    for (;;) {
        auto s = g_samples.pop(Deadline::never());
        if (!s) break;  // producer closed the queue and it is drained
        g_history[s->seq % kHistory] = s->value;
        g_emit[s->seq % kHistory] = s->emit_ns;
        if (!g_pool.submit_detached(&fir_task, s->seq)) break;
        ++submitted;
    }
    (void)g_pool.wait_idle();
    g_outputs.close();
    (void)platform::join(g_producer, Deadline::never());
    (void)platform::join(g_consumer, Deadline::never());
    (void)g_floor.stop();
    const std::int64_t t1 = Instant::now().ns();
    const std::uint64_t allocs_after = g_allocations.load(std::memory_order_relaxed) - allocs_at_start;
    (void)g_pool.shutdown();

    const double secs = static_cast<double>(t1 - t0) / 1e9;
    const std::uint64_t done = g_consumed.load();
    std::printf("  emitted %llu, processed %llu in %.3f s: %.0f results/s (%llu emitted > 1 ms late)\n",
                static_cast<unsigned long long>(g_emitted.load()), static_cast<unsigned long long>(done), secs,
                static_cast<double>(done) / secs, static_cast<unsigned long long>(g_late.load()));
    (void)g_latency.snapshot(g_latency_snap);  // the consumer is joined: no retry needed
    (void)g_floor.lateness(g_floor_snap);
    const auto us = [](std::uint64_t ns) { return static_cast<double>(ns) / 1e3; };
    std::printf("  latency emit->result: p50 %.1f us  p99 %.1f us  p999 %.1f us  max %.1f us\n",
                us(g_latency_snap.p50()), us(g_latency_snap.p99()), us(g_latency_snap.p999()), us(g_latency_snap.max()));
    std::printf("  deadline misses (result > emit + %.0f us): %llu of %llu\n", cfg.deadline_us,
                static_cast<unsigned long long>(g_deadline_misses.load()), static_cast<unsigned long long>(done));
    const staticrt::PeriodicStats fs = g_floor.stats();
    std::printf("  kernel floor (cyclictest-like probe, cpu %zu, %s, every %.0f us, %llu wake-ups):\n"
                "                        p50 %.1f us  p99 %.1f us  p999 %.1f us  max %.1f us\n",
                g_floor_cpu.first(), io_priority.policy == platform::SchedPolicy::normal ? "normal priority" : "SCHED_FIFO",
                cfg.floor_period_us, static_cast<unsigned long long>(g_floor_snap.count()), us(g_floor_snap.p50()),
                us(g_floor_snap.p99()), us(g_floor_snap.p999()), us(g_floor_snap.max()));
    if (fs.skipped != 0) std::printf("  floor probe: %llu periods skipped (woke more than a period late)\n",
                                     static_cast<unsigned long long>(fs.skipped));
    std::printf("  pipeline above the floor: p50 +%.1f us  p99 +%.1f us  max +%.1f us\n",
                us(g_latency_snap.p50()) - us(g_floor_snap.p50()), us(g_latency_snap.p99()) - us(g_floor_snap.p99()),
                us(g_latency_snap.max()) - us(g_floor_snap.max()));
    if (g_pool.task_latency(g_task_snap)) {  // the workers are joined: a plain copy
        std::printf("  pool queue wait (submit->task start): p50 %.1f us  p99 %.1f us  p999 %.1f us  max %.1f us\n"
                    "  pool task run time:                   p50 %.1f us  p99 %.1f us  max %.1f us  (%llu tasks)\n",
                    us(g_task_snap.queue_wait.p50()), us(g_task_snap.queue_wait.p99()), us(g_task_snap.queue_wait.p999()),
                    us(g_task_snap.queue_wait.max()), us(g_task_snap.run.p50()), us(g_task_snap.run.p99()),
                    us(g_task_snap.run.max()), static_cast<unsigned long long>(g_task_snap.run.count()));
    }
    for (std::size_t w = 0; w < g_pool.worker_count(); ++w) {
        const staticrt::WorkerStats st = g_pool.stats(w);
        std::printf("  worker %zu: cpu %s%zu  tasks %llu  busy %.1f ms  idle %.1f ms (spin %.1f ms)  sleeps %llu  wakes %llu"
                    "  queue high-water %u\n",
                    w, st.cpu == platform::kMaxCpus ? "-" : "", st.cpu == platform::kMaxCpus ? 0 : st.cpu,
                    static_cast<unsigned long long>(st.tasks_run), static_cast<double>(st.busy_ns) / 1e6,
                    static_cast<double>(st.idle_ns) / 1e6, static_cast<double>(st.spin_ns) / 1e6,
                    static_cast<unsigned long long>(st.sleeps), static_cast<unsigned long long>(st.wakes),
                    st.queue_high_water);
    }
    std::printf("  checksum %.3f\n", g_checksum);
    if (kCountingAllocations)
        std::printf("  heap allocations after start-up: %llu\n", static_cast<unsigned long long>(allocs_after));
    else
        std::printf("  heap allocations after start-up: not counted (sanitizer build)\n");
    const bool ok = allocs_after == 0 && done == submitted && submitted == g_emitted.load();
    if (!ok) std::printf("  FAILED: %s\n", allocs_after != 0 ? "heap allocations after start-up" : "lost samples");
    return ok ? 0 : 1;
}
