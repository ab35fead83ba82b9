// realtime_pipeline — the main demo: a fixed-rate sensor pipeline on a pinned, static thread pool.
//
//   producer thread --SpscQueue--> dispatcher (main) --ThreadPool--> FIR filter tasks
//                                                                     --MpmcQueue--> consumer thread
//
// The producer emits "sensor" samples at a fixed rate (a tone plus noise) and stamps each with
// the monotonic clock. The dispatcher writes each sample into a history ring and submits one
// 32-tap low-pass FIR task per sample to a pool whose workers are pinned one per core. Each task
// pushes its output to the consumer, which measures emit -> result latency in a log-linear
// histogram. At the end it prints throughput, latency p50/p99/p999/max, the pool's per-worker
// stats, and the heap allocations made after start-up — counted by this file's own operator new
// and malloc — which must be 0.
//
//   ./realtime_pipeline [--rate HZ] [--seconds S] [--cpus 0,1] [--rt-priority P]
//
// Defaults: 20000 samples/s for 3 s, workers on one CPU per physical core, normal priority.
// --rt-priority asks for SCHED_FIFO at level P (needs CAP_SYS_NICE; refused is reported, not fatal)
// and locks memory.
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

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
    int rt_priority = 0;
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

// ------------------------------------------------------------------ latency histogram
// Log-linear: 32 sub-buckets per power of two of nanoseconds (about 3% resolution).
class Histogram {
public:
    void add(std::int64_t ns) noexcept {
        if (ns < 1) ns = 1;
        ++m_counts[index(static_cast<std::uint64_t>(ns))];
        ++m_total;
        if (ns > m_max) m_max = ns;
    }
    [[nodiscard]] std::int64_t percentile(double p) const noexcept {
        if (m_total == 0) return 0;
        const auto want = static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(m_total)));
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < kBuckets; ++i) {
            seen += m_counts[i];
            if (seen >= want && m_counts[i] != 0) {
                const std::int64_t upper = upper_bound(i);
                return upper < m_max ? upper : m_max;
            }
        }
        return m_max;
    }
    [[nodiscard]] std::int64_t max() const noexcept { return m_max; }
    [[nodiscard]] std::uint64_t total() const noexcept { return m_total; }

private:
    static constexpr std::size_t kSub = 32;
    static constexpr std::size_t kBuckets = 64 * kSub;
    static std::size_t index(std::uint64_t v) noexcept {
        if (v < kSub) return static_cast<std::size_t>(v);
        const int msb = 63 - __builtin_clzll(v);
        const std::uint64_t sub = (v >> (msb - 5)) & (kSub - 1);
        return static_cast<std::size_t>(msb - 4) * kSub + static_cast<std::size_t>(sub);
    }
    static std::int64_t upper_bound(std::size_t i) noexcept {
        if (i < kSub) return static_cast<std::int64_t>(i);
        const std::size_t msb = i / kSub + 4;
        const std::uint64_t sub = i % kSub;
        return static_cast<std::int64_t>(((kSub + sub + 1) << (msb - 5)) - 1);
    }
    std::uint64_t m_counts[kBuckets] = {};
    std::uint64_t m_total = 0;
    std::int64_t m_max = 0;
};

Histogram g_latency;
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
        g_latency.add(now - out->emit_ns);
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

int usage() {
    std::fprintf(stderr, "usage: realtime_pipeline [--rate HZ] [--seconds S] [--cpus 0,1] [--rt-priority P]\n");
    return 2;
}

alignas(16) std::byte g_producer_stack[platform::kMinStackBytes > 64 * 1024 ? platform::kMinStackBytes : 64 * 1024];
alignas(16) std::byte g_consumer_stack[platform::kMinStackBytes > 64 * 1024 ? platform::kMinStackBytes : 64 * 1024];
platform::ThreadHandle g_producer;
platform::ThreadHandle g_consumer;

}  // namespace

int main(int argc, char** argv) {
    Config cfg;
    for (int i = 1; i < argc; ++i) {
        const bool has = i + 1 < argc;
        if (std::strcmp(argv[i], "--rate") == 0 && has) cfg.rate = std::atof(argv[++i]);
        else if (std::strcmp(argv[i], "--seconds") == 0 && has) cfg.seconds = std::atof(argv[++i]);
        else if (std::strcmp(argv[i], "--cpus") == 0 && has) { if (!parse_cpus(argv[++i], cfg.cpus)) return usage(); }
        else if (std::strcmp(argv[i], "--rt-priority") == 0 && has) cfg.rt_priority = std::atoi(argv[++i]);
        else return usage();
    }
    if (!(cfg.rate > 0) || !(cfg.seconds > 0)) return usage();

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

    staticrt::PoolOptions opt;
    opt.cpus = cfg.cpus;
    opt.name = "fir";
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
    if (g_pool.priority_error().code != staticrt::Errc::ok) {
        std::printf("  real-time priority refused (%s): running at normal priority\n",
                    staticrt::to_string(g_pool.priority_error().code));
    }
    if (g_pool.memory_lock_error().code != staticrt::Errc::ok) {
        std::printf("  memory lock refused (%s)\n", staticrt::to_string(g_pool.memory_lock_error().code));
    }
    if (io_priority.policy != platform::SchedPolicy::normal && !platform::set_current_priority(io_priority)) {
        io_priority = {};  // refused: every pipeline thread stays at normal priority
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
    const std::int64_t t1 = Instant::now().ns();
    const std::uint64_t allocs_after = g_allocations.load(std::memory_order_relaxed) - allocs_at_start;
    (void)g_pool.shutdown();

    const double secs = static_cast<double>(t1 - t0) / 1e9;
    const std::uint64_t done = g_consumed.load();
    std::printf("  emitted %llu, processed %llu in %.3f s: %.0f results/s (%llu emitted > 1 ms late)\n",
                static_cast<unsigned long long>(g_emitted.load()), static_cast<unsigned long long>(done), secs,
                static_cast<double>(done) / secs, static_cast<unsigned long long>(g_late.load()));
    std::printf("  latency emit->result: p50 %.1f us  p99 %.1f us  p999 %.1f us  max %.1f us\n",
                static_cast<double>(g_latency.percentile(0.50)) / 1e3, static_cast<double>(g_latency.percentile(0.99)) / 1e3,
                static_cast<double>(g_latency.percentile(0.999)) / 1e3, static_cast<double>(g_latency.max()) / 1e3);
    for (std::size_t w = 0; w < g_pool.worker_count(); ++w) {
        const staticrt::WorkerStats st = g_pool.stats(w);
        std::printf("  worker %zu: cpu %s%zu  tasks %llu  busy %.1f ms  idle %.1f ms  wakes %llu  queue high-water %u\n",
                    w, st.cpu == platform::kMaxCpus ? "-" : "", st.cpu == platform::kMaxCpus ? 0 : st.cpu,
                    static_cast<unsigned long long>(st.tasks_run), static_cast<double>(st.busy_ns) / 1e6,
                    static_cast<double>(st.idle_ns) / 1e6, static_cast<unsigned long long>(st.wakes),
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
