// SPDX-License-Identifier: MIT
// staticrt/exec/pool_options.hpp — what a ThreadPool user configures and observes: options,
// shutdown mode, the failure hook, per-worker stats and the report of a checked map.
//
// Plain value types, no behaviour; exec/thread_pool.hpp includes this header. The pool's engine
// (exec/detail/pool_core.hpp) is not public API.
//
//   staticrt::ThreadPoolOptions o;  o.pin = false;  o.name = "io";
//   if (!pool.start(o)) return 1;
//   staticrt::WorkerStats s = pool.stats(0);
#pragma once

#include <cstddef>
#include <cstdint>

#include "staticrt/platform/cpu.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/thread.hpp"

namespace staticrt {

/// How shutdown() treats tasks still queued.
enum class ShutdownMode : std::uint8_t {
    drain,   ///< run every queued task, then stop
    cancel,  ///< do not run queued tasks: their futures report Errc::closed
};

/// Called on a worker when a task returns a failed Result (like threading.excepthook).
/// Must not block for long: it runs on the worker, between tasks. A stall report
/// (Errc::process_stalled, see ThreadPoolOptions::stall_timeout_ns) runs on the thread that checked.
struct FailureHook {
    void (*fn)(void* user, std::size_t worker, Error error) noexcept = nullptr;
    void* user = nullptr;
};

/// Options for ThreadPool::start(). Every field has a usable default.
struct ThreadPoolOptions {
    /// CPUs to pin workers to, worker i on the i-th CPU of the set (wrapping). Empty: one CPU
    /// per physical core of the process affinity (platform::physical_core_cpus()), the cores the
    /// thread calling start() is pinned to (or, unpinned, runs on) taken last (see shares_caller_cpu()).
    CpuSet cpus{};
    bool pin = true;                          ///< false: workers float (cpus ignored)
    platform::Priority priority{};            ///< e.g. {SchedPolicy::fifo, 50}
    bool lock_memory = false;                 ///< platform::lock_all_memory() before starting
    bool strict = false;                      ///< priority / memory-lock failure fails start()
    std::int64_t spin_ns = 50'000;            ///< an idle worker polls this long before it sleeps
    const char* name = "srt-pool";            ///< worker thread names: "<name>-<index>" (15 chars max)
    FailureHook on_failure{};
    /// Also call on_failure for a failed task whose caller holds a Future (the future already
    /// carries the error). Off by default, like Python's executors (excepthook never sees them).
    /// Detached tasks always report (nobody else sees their result); map_checked /
    /// parallel_for_checked items never do (their caller gets a ParallelReport).
    bool report_future_failures = false;
    /// Stall reporting (0: off). A worker that makes no progress on one task for longer than this
    /// is reported once per task through on_failure (Errc::process_stalled, the worker's index) and
    /// counted in WorkerStats::stalls. Workers only publish a progress epoch per task (no
    /// heartbeat thread); the check runs in check_stalls() and, while this is set, in the waits of
    /// wait_idle(), map(), parallel_for() and shutdown(). A thread cannot be killed: the stalled
    /// task keeps its worker until it returns.
    std::int64_t stall_timeout_ns = 0;
};

/// Per-item (or per-chunk) outcome of map_checked() / parallel_for_checked().
struct ParallelReport {
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    std::size_t failed = 0;          ///< items whose fn returned an error
    std::size_t first_failed = npos; ///< index of the first failure recorded (in time order)
    Error first_error{};             ///< its error
};

/// A snapshot of one worker's counters (each written only by that worker, read without locks).
struct WorkerStats {
    std::uint64_t tasks_run = 0;          ///< tasks run to completion (cancelled ones not counted)
    std::uint64_t tasks_cancelled = 0;    ///< queued tasks this worker cancelled at shutdown(cancel)
    std::uint64_t busy_ns = 0;            ///< time spent running tasks (measured per burst)
    std::uint64_t idle_ns = 0;            ///< time spent spinning or sleeping
    std::uint64_t wakes = 0;              ///< times woken from a kernel sleep
    std::uint32_t queue_high_water = 0;   ///< deepest queue this worker saw when it took a task
    std::size_t cpu = platform::kMaxCpus; ///< the CPU it is pinned to (kMaxCpus: not pinned)
    std::uint64_t stalls = 0;             ///< tasks reported as stalled (ThreadPoolOptions::stall_timeout_ns)
    bool stalled = false;                 ///< its current task is reported as stalled and still runs
};

}  // namespace staticrt
