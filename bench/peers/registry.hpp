// SPDX-License-Identifier: MIT
// bench/peers/registry.hpp — how a file in bench/peers/ adds measurements to staticrt-bench-peers.
//
// A Workload is one (workload, library) measurement: a function that runs it once and returns
// its value (items/s, ns, ...), or a negative number when a self-check failed. main.cpp runs
// every registered workload once per repetition, each in a forked child with a watchdog, so a
// peer that stalls is reported as STALL and the program moves on. A file registers its
// workloads with a namespace-scope object:
//
//   static const int kRegistered = staticrt::bench::add_workloads({
//       {"pool_submit", "staticrt", "tasks/s", Better::higher, false, &run_pool_staticrt},
//       {"pool_submit", "tbb",      "tasks/s", Better::higher, true,  &run_pool_tbb},
//   });
//
// Libraries whose name starts with "staticrt" are ours; main.cpp prints, per workload, the
// median over repetitions of each staticrt* value divided by each peer's value.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace staticrt::bench {

/// Command-line knobs every workload may read (main.cpp parses them; see --help).
struct Options {
    int reps = 3;                          ///< --reps N
    double items_scale = 1.0;              ///< --scale X: multiplies every item/round count
    std::uint64_t spsc_items = 10'000'000; ///< --spsc-items N
    std::uint64_t mpmc_items = 4'000'000;  ///< --mpmc-items N (total over all producers)
    std::uint64_t rtt_rounds = 100'000;    ///< --rtt-rounds N (ping-pong round trips)
    double stall_s = 5.0;                  ///< --stall-s S: a non-blocking run longer than this is STALL
    const char* filter = nullptr;          ///< --filter S: run only "workload library" lines containing S
    int cpu_a = 0;                         ///< --cpus A,B: the two cores of 1-to-1 workloads
    int cpu_b = 1;
    bool spread = false;                   ///< --scaling: thread i of a workload on CPU cpu_a + i
    std::uint64_t rt_trials = 50'000;      ///< --rt-trials N: wake-ups per rt_* measurement (rt.cpp)
    int rt_interval_us = 200;              ///< --rt-interval-us N: gap between rt_* wake-ups (past the spin budget)
    int rt_priority = 80;                  ///< --rt-priority N: SCHED_FIFO level of rt_* threads (and cyclictest -p)

    [[nodiscard]] std::uint64_t scaled(std::uint64_t n) const noexcept {
        const auto v = static_cast<std::uint64_t>(static_cast<double>(n) * items_scale);
        return v < 1000 ? 1000 : v;
    }
};

/// Which direction of the value is better (for the ratio table's legend).
enum class Better : std::uint8_t { higher, lower };

struct Workload {
    const char* name;     ///< workload, e.g. "spsc_throughput"
    const char* library;  ///< e.g. "staticrt", "atomic_queue_spin"
    const char* unit;     ///< e.g. "items/s", "ns"
    Better better;
    bool blocking;        ///< true: the library parks threads (watchdog is 2x stall_s, still reported)
    double (*run)(const Options&);  ///< one measurement; < 0: a self-check failed (ERROR)
};

/// Registers workloads (in the order given; files are linked in glob order). Returns a dummy.
int add_workloads(std::initializer_list<Workload> ws);
/// Registers scaling workloads: run only with --scaling (instead of the ordinary ones), with
/// Options::spread set, so a workload's threads go to distinct CPUs. Their names carry the
/// thread count (e.g. "scale_mpmc_4p4c"); they are for machines with more than 2 cores.
int add_scaling_workloads(std::initializer_list<Workload> ws);

// ------------------------------------------------------------------ helpers for workloads
/// Pins the calling thread to `cpu` modulo the machine's CPU count (no-op where unsupported).
void pin_to_cpu(int cpu) noexcept;
/// The CPU for thread number `i` of a workload: alternates cpu_a, cpu_b; with Options::spread,
/// cpu_a + i (modulo the CPU count), so thread i has a core of its own where the machine has one.
[[nodiscard]] int cpu_for_thread(const Options& o, int i) noexcept;
/// Monotonic nanoseconds.
[[nodiscard]] std::int64_t now_ns() noexcept;
/// The physical floor: median round trip (ns) of one cache line bounced between the threads on
/// cpu_a and cpu_b through a bare atomic (batches of 100 round trips, median of batch means).
[[nodiscard]] double raw_atomic_rtt_ns(const Options& o, std::uint64_t rounds);
/// Median of v[0..n) (sorts in place).
[[nodiscard]] double median(double* v, int n) noexcept;

}  // namespace staticrt::bench
