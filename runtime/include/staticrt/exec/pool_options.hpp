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

#include "staticrt/diag/histogram.hpp"
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

/// Which parked worker a submit wakes (ThreadPoolOptions::wake).
enum class WakePolicy : std::uint8_t {
    /// The parked worker pinned to the submitting thread's CPU, else the one pinned nearest to it
    /// (by CPU number), else any. Each of the first 64 workers parks on a word of its own and the
    /// submitter picks one (one CPU query, only when some worker is parked). A pinned pool then
    /// wakes a worker on the submitter's own CPU where there is one instead of an idle, halted
    /// CPU elsewhere: the kernel switches to it when the submitter blocks, with no cross-CPU
    /// wake-up (docs/realtime.md, "Which worker a submit wakes"). Workers past the 64th, and
    /// floating workers' choice of CPU, are as with longest_parked.
    near_submitter,
    /// Every worker parks on one shared word and the kernel wakes the one that waited longest
    /// (the behaviour before near_submitter): spreads tasks over the pool's CPUs.
    longest_parked,
};

/// Per-task latency histograms of one worker (ThreadPoolOptions::task_latency): caller storage,
/// recorded by that worker only (the histograms' one recording thread), readable from any thread
/// through Histogram::snapshot() or ThreadPool::task_latency(). About 35 KiB each.
struct TaskLatency {
    LatencyHistogram queue_wait;  ///< ns from publishing the task (the end of submit) to its start on a worker
    LatencyHistogram run;         ///< ns from the task's start to its end (its run time on the worker)
};

/// Every worker's TaskLatency merged (ThreadPool::task_latency()); a plain value, about 35 KiB.
struct TaskLatencySnapshot {
    LatencyHistogram::Snapshot queue_wait;
    LatencyHistogram::Snapshot run;
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
    /// An idle worker polls this long before it sleeps in the kernel. 20 us: about twice a park +
    /// wake on a quiet 2-core VM (~10 us) and half of one under load (~40 us), which keeps spin +
    /// wake-up within ~3x the best choice in hindsight in both (bench/notes.md, "Spin budget").
    /// Every 64 polls the spinning worker also yields its CPU once (platform::yield_now()), so a
    /// submitter on the same CPU is not kept waiting by the spin (bench/notes.md, "Futures path").
    std::int64_t spin_ns = 20'000;
    WakePolicy wake = WakePolicy::near_submitter;  ///< which parked worker a submit wakes
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
    /// Per-task latency histograms (opt-in; nullptr: off, and the pool reads no clock per task).
    /// An array of exactly worker_count() TaskLatency, one per worker, that outlives the pool's
    /// workers; start() refuses any other task_latency_count with Errc::invalid_argument.
    /// When on, each submit stamps its task (one clock read) and the worker records the task's
    /// queue wait and run time (two clock reads, two Histogram::record()s per task). start() does
    /// not clear the histograms; reset() them only while no worker runs (before start(), after
    /// shutdown()). Cancelled tasks are not recorded. A queue wait is stamped in 32 bits of 4 ns
    /// units: waits of 17.1 s or more are recorded modulo 2^32 x 4 ns (about 17.18 s).
    TaskLatency* task_latency = nullptr;
    std::size_t task_latency_count = 0;  ///< entries at task_latency (must equal worker_count())
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
    /// Time spent idle: spinning and sleeping together (idle_ns - spin_ns is roughly the time
    /// parked). Added when an idle stretch ends (the worker takes a task, or leaves), so a parked
    /// worker's current sleep is not in it yet.
    std::uint64_t idle_ns = 0;
    /// The spinning part of idle_ns: time an idle worker polled the queue (ThreadPoolOptions::spin_ns
    /// budget) before it parked or found work. Added when the polling ends, before the worker parks.
    /// The few polls between a kernel wake and the next clock read count as sleep, not spin (no
    /// extra clock read on the wake path).
    std::uint64_t spin_ns = 0;
    std::uint64_t sleeps = 0;             ///< times it parked in the kernel (counted before it parks)
    std::uint64_t wakes = 0;              ///< times a kernel wait returned (>= sleeps once woken; spurious returns count)
    /// CPU time the worker thread has used (platform::thread_cpu_ns: one system call per stats()
    /// call); 0 when not running or the OS cannot tell. Grows by ~0 while the worker is parked.
    std::uint64_t cpu_ns = 0;
    platform::ThreadId thread = 0;        ///< the worker's OS thread id (0 when not running)
    /// Deepest queue this worker saw when it took a task, sampled every capacity / 8 positions
    /// (at most 64, at least 1): the pool's deepest (the maximum over its workers) is at most that
    /// many positions below the true deepest.
    std::uint32_t queue_high_water = 0;
    std::size_t cpu = platform::kMaxCpus; ///< the CPU it is pinned to (kMaxCpus: not pinned)
    std::uint64_t stalls = 0;             ///< tasks reported as stalled (ThreadPoolOptions::stall_timeout_ns)
    bool stalled = false;                 ///< its current task is reported as stalled and still runs
};

}  // namespace staticrt
