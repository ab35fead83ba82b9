// SPDX-License-Identifier: MIT
// staticrt-spin-sweep: what ThreadPoolOptions::spin_ns buys and costs. For each spin budget and
// each gap between submits, one submitter (pinned to CPU A) submits tasks to a ThreadPool<1>
// whose worker is pinned to CPU B, one at a time with the given gap, and reports:
//   - submit -> task start latency (p50, p99), and
//   - the worker's CPU time per task (WorkerStats::cpu_ns), how much of its idle time it spun
//     (spin_ns / idle_ns) and how often it parked (sleeps per task).
// A gap shorter than the budget keeps the worker spinning (low latency, one busy core); a gap
// longer than the budget costs the spin *and* a kernel wake-up. bench/notes.md ("spin budget")
// has the run behind the default and the argument for it.
//
//   staticrt-spin-sweep [--spins-us 0,2,5,10,20,50,200] [--gaps-us 1,10,30,100,1000]
//                       [--tasks 2000] [--cpus A,B]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "staticrt/exec/thread_pool.hpp"
#include "staticrt/platform/cpu.hpp"
#include "staticrt/platform/time.hpp"

namespace {

using staticrt::Instant;

std::vector<long> parse_list(const char* s) {
    std::vector<long> out;
    for (const char* p = s; *p != '\0';) {
        char* end = nullptr;
        const long v = std::strtol(p, &end, 10);
        if (end == p || v < 0) {
            std::fprintf(stderr, "spin-sweep: bad list '%s'\n", s);
            std::exit(2);
        }
        out.push_back(v);
        p = *end == ',' ? end + 1 : end;
        if (*end != ',' && *end != '\0') {
            std::fprintf(stderr, "spin-sweep: bad list '%s'\n", s);
            std::exit(2);
        }
    }
    return out;
}

std::int64_t pct(std::vector<std::int64_t>& v, double p) {
    const std::size_t k = std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

/// Waits until `t` (ns, Instant clock): sleeps when far, spins the last 60 us.
void wait_until(std::int64_t t) {
    for (;;) {
        const std::int64_t now = Instant::now().ns();
        if (now >= t) return;
        if (t - now > 60'000) std::this_thread::sleep_for(std::chrono::nanoseconds(t - now - 60'000));
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<long> spins_us{0, 2, 5, 10, 20, 50, 200};
    std::vector<long> gaps_us{1, 10, 30, 100, 1000};
    long tasks = 2000;
    long cpu_a = 0, cpu_b = 1;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
        if (a == "--help" || a == "-h") {
            std::printf("usage: staticrt-spin-sweep [--spins-us LIST] [--gaps-us LIST] [--tasks N] [--cpus A,B]\n"
                        "  LIST: comma-separated microseconds, e.g. 0,5,50; N >= 10\n");
            return 0;
        }
        if (v == nullptr) {
            std::fprintf(stderr, "spin-sweep: %s needs a value (--help)\n", a.c_str());
            return 2;
        }
        if (a == "--spins-us") spins_us = parse_list(v);
        else if (a == "--gaps-us") gaps_us = parse_list(v);
        else if (a == "--tasks") tasks = std::atol(v);
        else if (a == "--cpus") {
            const std::vector<long> c = parse_list(v);
            if (c.size() != 2) {
                std::fprintf(stderr, "spin-sweep: --cpus A,B\n");
                return 2;
            }
            cpu_a = c[0];
            cpu_b = c[1];
        } else {
            std::fprintf(stderr, "spin-sweep: unknown option %s (--help)\n", a.c_str());
            return 2;
        }
        ++i;
    }
    if (tasks < 10 || spins_us.empty() || gaps_us.empty()) {
        std::fprintf(stderr, "spin-sweep: --tasks >= 10 and non-empty lists\n");
        return 2;
    }
    if (!staticrt::platform::pin_current_thread(staticrt::CpuSet::single(static_cast<std::size_t>(cpu_a)))) {
        std::fprintf(stderr, "spin-sweep: cannot pin to CPU %ld\n", cpu_a);
        return 1;
    }
    std::printf("# spin_us gap_us tasks p50_ns p99_ns worker_cpu_ns_per_task spin_share sleeps_per_task\n");
    std::vector<std::int64_t> lat(static_cast<std::size_t>(tasks));
    for (const long spin : spins_us) {
        for (const long gap : gaps_us) {
            auto owner = std::make_unique<staticrt::ThreadPool<1>>();  // a pool starts once: one per point
            staticrt::ThreadPool<1>& pool = *owner;
            staticrt::ThreadPoolOptions o;
            o.cpus = staticrt::CpuSet::single(static_cast<std::size_t>(cpu_b));
            o.spin_ns = spin * 1000;
            if (!pool.start(o)) {
                std::fprintf(stderr, "spin-sweep: pool start failed\n");
                return 1;
            }
            // Warm-up: one task, then let the worker settle into its idle state for this gap.
            (void)pool.submit_detached([] {});
            (void)pool.wait_idle();
            const staticrt::WorkerStats s0 = pool.stats(0);
            std::int64_t next = Instant::now().ns() + gap * 1000;
            for (long i = 0; i < tasks; ++i) {
                wait_until(next);
                next += gap * 1000;
                const std::int64_t t0 = Instant::now().ns();
                std::int64_t* slot = &lat[static_cast<std::size_t>(i)];
                if (!pool.submit_detached([t0, slot] { *slot = Instant::now().ns() - t0; })) {
                    std::fprintf(stderr, "spin-sweep: submit failed\n");
                    return 1;
                }
            }
            (void)pool.wait_idle();
            const staticrt::WorkerStats s1 = pool.stats(0);
            (void)pool.shutdown();
            const double n = static_cast<double>(tasks);
            const double idle = static_cast<double>(s1.idle_ns - s0.idle_ns);
            std::printf("spin_sweep %ld %ld %ld %lld %lld %.0f %.2f %.2f\n", spin, gap, tasks,
                        static_cast<long long>(pct(lat, 0.50)), static_cast<long long>(pct(lat, 0.99)),
                        static_cast<double>(s1.cpu_ns - s0.cpu_ns) / n,
                        idle > 0 ? static_cast<double>(s1.spin_ns - s0.spin_ns) / idle : 0.0,
                        static_cast<double>(s1.sleeps - s0.sleeps) / n);
            std::fflush(stdout);
        }
    }
    return 0;
}
