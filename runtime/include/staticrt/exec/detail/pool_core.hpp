// SPDX-License-Identifier: MIT
// staticrt/exec/detail/pool_core.hpp — the capacity-erased engine of ThreadPool (not public API).
//
// The worker threads and their loop, wait_idle, shutdown, parallel jobs, stall checks and
// per-worker stats, over the task ring and the workers' sleep/wake protocol of
// exec/detail/task_ring.hpp (TaskRing<OsWaitPolicy>, a header template the deterministic
// scheduler also runs).
// ThreadPool<...> owns the storage (cells, stacks, thread handles, worker blocks) and passes
// pointers to it; everything here is compiled once, in runtime/src/thread_pool.cpp.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "staticrt/detail/event_count.hpp"
#include "staticrt/detail/late_bind.hpp"
#include "staticrt/exec/detail/slot_pool.hpp"
#include "staticrt/exec/detail/task_ring.hpp"
#include "staticrt/exec/pool_options.hpp"
#include "staticrt/platform/arch.hpp"
#include "staticrt/platform/cpu.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/thread.hpp"
#include "staticrt/platform/time.hpp"

namespace staticrt {

namespace detail {

class PoolCore;

/// What a task sees of the worker that runs it.
struct RunContext {
    PoolCore* pool;
    std::size_t worker;
    void report_failure(Error e) const noexcept;
    /// report_failure() only when ThreadPoolOptions::report_future_failures is set.
    void report_future_failure(Error e) const noexcept;
};

/// The type-erased operations of a task stored in a cell. run() and cancel() also destroy it;
/// relocate() move-constructs the task at dst and destroys the one at src.
struct JobOps {
    void (*run)(void* job, const RunContext& ctx) noexcept;
    void (*cancel)(void* job) noexcept;
    void (*relocate)(void* dst, void* src) noexcept;
};

/// The ops of an empty cell: a submit that claimed a cell and then found no free result slot
/// publishes it with these and retries (ThreadPool::submit_impl). Workers pass over it; it is
/// not a task (WorkerStats does not count it) but it counts in pending() until passed.
inline constexpr JobOps kSkipOps{[](void*, const RunContext&) noexcept {}, [](void*) noexcept {},
                                 [](void*, void*) noexcept {}};

/// The fixed part of a queue cell (exec/detail/task_ring.hpp); the task's bytes follow at kCellDataOffset.
using CellHeader = BasicCellHeader<OsWaitPolicy>;
/// A claimed, not yet published queue cell.
using CellClaim = BasicCellClaim<OsWaitPolicy>;
/// A worker's own park word (ThreadPoolOptions::wake = WakePolicy::near_submitter).
using ParkSlot = BasicParkSlot<OsWaitPolicy>;

template <std::size_t TaskBytes>
struct PoolCell {
    CellHeader header;
    alignas(16) std::byte data[TaskBytes];
};

/// Counters and identity of one worker; one cache line group per worker.
struct alignas(platform::kCacheLine) WorkerBlock {
    PoolCore* pool = nullptr;
    std::uint32_t index = 0;
    std::size_t cpu = 0;  ///< set by start() (kMaxCpus: not pinned); zero so a constinit pool is .bss
    // Written by the worker only (relaxed load + store, no RMW); read by observers.
    std::atomic<std::uint64_t> done{0};  ///< tasks run + cancelled; [pool.done] release
    std::atomic<std::uint64_t> cancelled{0};
    std::atomic<std::uint64_t> busy_ns{0};
    std::atomic<std::uint64_t> idle_ns{0};
    std::atomic<std::uint64_t> spin_ns{0};  ///< published before the worker parks (TaskRing::sleep's on_park)
    std::atomic<std::uint64_t> sleeps{0};
    std::atomic<std::uint64_t> wakes{0};
    std::atomic<std::uint32_t> high_water{0};
    std::atomic<std::uint64_t> started{0};  ///< progress epoch: = done + 1 while a task runs
    // Written by check_stalls() (one checker at a time), read by stats().
    std::atomic<std::uint64_t> seen_task{0};
    std::atomic<std::int64_t> seen_ns{0};
    std::atomic<std::uint64_t> reported_task{0};
    std::atomic<std::uint64_t> stalls{0};
    char name[platform::kMaxThreadName] = {};
    void* scratch = nullptr;  ///< TaskBytes where the worker runs a task after freeing its cell
    /// Its park word for the targeted wake: written by a publisher only while the worker is
    /// parked (so it shares the block's lines with the worker's own counters).
    ParkSlot park;
    /// Empty cells passed over (kSkipOps), counted in `done`; rare, so last (the hot counters keep
    /// their lines).
    std::atomic<std::uint64_t> skipped{0};
};

/// A map/parallel_for in progress; lives on the caller's stack until every helper left.
struct ParallelJob {
    void (*body)(void* ctx, std::size_t begin, std::size_t end) noexcept = nullptr;
    void* ctx = nullptr;
    std::size_t first = 0;
    std::size_t count = 0;   ///< items
    std::size_t chunk = 1;   ///< items per chunk
    std::size_t chunks = 0;
    Deadline deadline = Deadline::never();  ///< no chunk is started after it
    bool has_deadline = false;
    alignas(platform::kCacheLine) std::atomic<std::size_t> next{0};   ///< next chunk to claim
    alignas(platform::kCacheLine) std::atomic<std::uint32_t> active{0}; ///< helpers not finished (futex word)
};

/// ThreadPool holds one as a private member and forwards the user-facing calls; the engine
/// calls (claim, publish, run_parallel, report) are reachable only through that member.
class PoolCore {
public:
    /// Zero-initialised (a constinit pool lands in .bss): the storage layout below is written on
    /// first use by bind_layout(), which ThreadPool calls before any other PoolCore call.
    constexpr PoolCore() noexcept = default;
    ~PoolCore() = default;
    PoolCore(const PoolCore&) = delete;
    PoolCore& operator=(const PoolCore&) = delete;

    // ---- lifetime
    [[nodiscard]] Result<void> start(const ThreadPoolOptions& options) noexcept;
    /// Stops accepting work, drains or cancels the queue, joins the workers. Idempotent.
    /// Errc::invalid_argument when called from one of the pool's own workers.
    /// With a deadline: Errc::timeout when the workers have not finished by then; the pool is
    /// closed and keeps draining (or cancelling) in the background, and a later shutdown() or
    /// the destructor joins. A later call may turn a drain into a cancel, never back.
    Result<void> shutdown(ShutdownMode mode = ShutdownMode::drain, Deadline deadline = Deadline::never()) noexcept;
    /// Python's shutdown(wait=False): closes and returns at once; the workers drain (or cancel)
    /// the queue in the background; shutdown() or the destructor joins them.
    void shutdown_nowait(ShutdownMode mode = ShutdownMode::drain) noexcept { (void)shutdown(mode, Deadline::poll()); }
    /// Reports workers stuck on one task for longer than ThreadPoolOptions::stall_timeout_ns (once per
    /// task, through on_failure and WorkerStats::stalls). Returns how many are stalled now.
    /// Any thread; a call while another runs returns 0 at once. No-op when stall reporting is off.
    std::size_t check_stalls() noexcept;

    // ---- blocking
    /// Blocks until every task submitted so far has finished. Errc::timeout at the deadline.
    [[nodiscard]] Result<void> wait_idle(Deadline deadline = Deadline::never()) noexcept;

    // ---- observers
    [[nodiscard]] bool started() const noexcept { return m_started; }
    [[nodiscard]] bool closed() const noexcept;
    [[nodiscard]] std::size_t worker_count() const noexcept { return m_worker_count; }
    [[nodiscard]] std::size_t queue_capacity() const noexcept { return m_ring.capacity(); }
    /// Tasks submitted and not yet finished (queued + running), a snapshot.
    [[nodiscard]] std::size_t pending() const noexcept;
    [[nodiscard]] WorkerStats stats(std::size_t worker) const noexcept;
    /// Every worker's TaskLatency merged into `out` (ThreadPoolOptions::task_latency).
    /// Errc::invalid_argument when task latency is off; Errc::would_block when a worker recorded
    /// without pause through every retry of one snapshot (out is then unspecified).
    /// Uses one Histogram snapshot (~17.5 KiB) of the caller's stack.
    [[nodiscard]] Result<void> task_latency(TaskLatencySnapshot& out) const noexcept;
    /// Non-fatal start-up errors (Errc::ok when none): real-time priority refused, memory lock refused.
    [[nodiscard]] Error priority_error() const noexcept { return m_priority_error; }
    [[nodiscard]] Error memory_lock_error() const noexcept { return m_lock_error; }
    /// True when start() found the calling thread pinned (its affinity narrower than the process's)
    /// and still put a worker on a core the caller is pinned to: the default placement does that
    /// only when workers outnumber the other CPUs (or options.cpus asked for it). Such a worker
    /// and the caller take turns on one core, e.g. parallel_for runs at about one thread's rate.
    [[nodiscard]] bool shares_caller_cpu() const noexcept { return m_shares_caller_cpu; }
    /// Index of the calling worker, or worker_count() when the caller is not one of them.
    [[nodiscard]] std::size_t current_worker() const noexcept;

    // ---- engine calls, used by ThreadPool's templates
    /// Claims a cell. Errc::closed; Errc::full (poll deadline); Errc::timeout.
    [[nodiscard]] Errc claim(CellClaim& c, Deadline deadline) noexcept;
    /// Publishes a claimed cell whose data now holds a task with `ops`; wakes a sleeper if any.
    void publish(const CellClaim& c, const JobOps* ops) noexcept;
    /// Runs a parallel job: submits up to `helpers` helper tasks, works on chunks itself, waits.
    [[nodiscard]] Result<void> run_parallel(ParallelJob& job, std::size_t helpers) noexcept;
    /// Calls the failure hook (on the worker that ran the failed task).
    void report(std::size_t worker, Error e) noexcept;
    [[nodiscard]] bool reports_future_failures() const noexcept { return m_report_futures; }

    /// Writes the storage layout once (later calls return at once); stacks may be nullptr
    /// where the OS provides thread stacks (platform::kThreadUsesCallerStack false).
    void bind_layout(void* cells, std::size_t stride, std::uint32_t capacity, WorkerBlock* workers,
                     platform::ThreadHandle* handles, std::byte* stacks, std::size_t stack_bytes,
                     std::uint32_t worker_count, std::byte* scratch, std::size_t scratch_bytes,
                     SlotPool<OsWaitPolicy>* result_slots = nullptr) noexcept {
        m_bind.once([&]() noexcept {
            m_result_slots = result_slots;
            m_ring.bind(cells, stride, capacity);
            m_workers = workers, m_handles = handles, m_stacks = stacks, m_stack_bytes = stack_bytes;
            m_worker_count = worker_count, m_scratch = scratch, m_scratch_bytes = scratch_bytes;
        });
    }
    [[nodiscard]] bool layout_bound() const noexcept { return m_bind.bound(); }

private:
    static void worker_entry(void* arg) noexcept;
    void worker_loop(WorkerBlock& w) noexcept;
    void notify_idle() noexcept;
    void run_or_cancel(CellHeader* c, std::uint32_t pos, std::size_t worker, bool cancel, void* scratch) noexcept;
    /// publish() with the task stamped for its queue wait (task latency on).
    [[gnu::noinline]] void publish_stamped(const CellClaim& c, const JobOps* ops) noexcept;
    /// run_or_cancel() (run) with the task's queue wait and run time recorded in `lat`. Out of
    /// line: with task latency off the worker loop stays as compact as before.
    [[gnu::noinline]] void run_timed(TaskLatency& lat, CellHeader* c, std::uint32_t pos, std::size_t worker, void* scratch) noexcept;
    void drain_leftovers() noexcept;
    /// Sleeps on `word` (expected value `v`) until `deadline`, in slices that run check_stalls().
    void wait_checking(std::atomic<std::uint32_t>& word, std::uint32_t v, Deadline deadline) noexcept;
    /// The deadline of one sleep: `deadline`, or a slice of it while stall reporting is on.
    [[nodiscard]] Deadline stall_slice(Deadline deadline) const noexcept;
    /// The spin budget of a blocking claim: none when options.spin_ns is 0; else the default
    /// spin without the yields: a parked submitter is woken with a quarter ring free
    /// (free_cell's hysteresis) and fills it in one go, while yielding re-claims one freed cell
    /// at a time against the workers (pool_dispatch measured 2x slower with the yields).
    [[nodiscard]] SpinPolicy spin_policy() const noexcept {
        return m_spin_ns == 0 ? kNoSpin : SpinPolicy{kDefaultSpin.spin_attempts, 0};
    }

    // Written once by bind_layout() (first use) / by start().
    LateBind m_bind;
    SlotPool<OsWaitPolicy>* m_result_slots = nullptr;  ///< closed by shutdown(): wakes a submit waiting for a slot
    WorkerBlock* m_workers = nullptr;
    platform::ThreadHandle* m_handles = nullptr;
    std::byte* m_stacks = nullptr;
    std::size_t m_stack_bytes = 0;
    std::uint32_t m_worker_count = 0;
    std::byte* m_scratch = nullptr;
    std::size_t m_scratch_bytes = 0;
    std::uint32_t m_started_count = 0;
    bool m_started = false;
    std::int64_t m_spin_ns = 0;  ///< set by start()
    FailureHook m_hook{};
    bool m_report_futures = false;
    std::int64_t m_stall_ns = 0;
    TaskLatency* m_latency = nullptr;  ///< options.task_latency (one per worker) or nullptr: off
    std::uint32_t m_joined = 0;  ///< workers joined so far (shutdown may resume after a timeout)
    Error m_priority_error{};
    Error m_lock_error{};
    bool m_shares_caller_cpu = false;

    std::atomic<bool> m_cancel{false};  ///< set by shutdown(cancel); read by the workers once per task
    // Rarely written words, in the padding before the ring's first line (no line of their own:
    // they were beside m_space before, read per freed cell; here beside m_cancel, read per task):
    // m_idle is bumped only while wait_idle() waits, m_par_epoch once per parallel job.
    EventCount<> m_idle;  ///< wait_idle() callers
    std::atomic<std::uint64_t> m_caller_done{0};  ///< tasks finished by shutdown() itself (no workers)
    std::atomic<std::uint32_t> m_shutdown_state{0};  ///< 0 open, 1 shutting down, 2 done, 3 closed: join pending
    std::atomic<bool> m_stall_check{false};          ///< one check_stalls() at a time
    std::atomic<std::uint32_t> m_par_epoch{0};       ///< bumped when a parallel job's last helper leaves

    // The ring, the sleep/wake protocol and the submitters' wait for a free cell: each hot word
    // on a cache line of its own (TaskRing's alignas groups).
    TaskRing<OsWaitPolicy> m_ring;
};

}  // namespace detail
}  // namespace staticrt
