// SPDX-License-Identifier: MIT
// staticrt/ipc/detail/process_pool_layout.hpp — ProcessPool's shared-memory layout (control
// block, job, call slots, worker slots) and its non-template engine, ProcessPoolBase (not
// public API).
//
// Everything in PoolControl lives in the pool's shared segment and is read by worker
// processes; values read back from it are never used as indices. ProcessPool<Workers> holds a
// ProcessPoolBase as a private member; its bodies are in runtime/src/ipc_process_pool.cpp.
// Memory ordering: see ipc/process_pool.hpp and docs/memory-ordering.md "## ipc".
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/process_pool_options.hpp"
#include "staticrt/platform/cpu.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/shared_memory.hpp"
#include "staticrt/platform/time.hpp"

namespace staticrt::detail {

/// Chunk state word: generation (24 bits) << 8 | owner. Owner 0: free; 1..64: worker index + 1
/// runs it; kChunkDone: outputs written; kChunkFailed: given up (parent); kChunkNoRegion: a
/// worker could not map the caller's segment.
inline constexpr std::uint32_t kChunkDone = 0xFF, kChunkFailed = 0xFE, kChunkNoRegion = 0xFD;
/// Call state word: free, pending (waits for a worker), done, failed (parent), or
/// kCallRunning + worker index.
inline constexpr std::uint32_t kCallFree = 0, kCallPending = 1, kCallDone = 2, kCallFailed = 3, kCallRunning = 16;

struct alignas(64) PoolWorkerSlot {
    std::atomic<std::int64_t> pid;  ///< the worker's pid, written by the worker once it is up
    /// Progress epoch, written only by the worker's own dispatch loop: odd while it holds a
    /// chunk or call (set before it tries to claim one), +1 when it lets go of it.
    std::atomic<std::uint64_t> progress;
};

/// One map: written by the parent between maps, read by the workers.
struct PoolJob {
    alignas(64) std::atomic<std::uint32_t> gen;  ///< generation of the posted job (0: none yet)
    std::uint32_t chunks;
    std::uint64_t count, chunk, in_off, out_off, in_size, out_size;
    std::uint64_t region_id;  ///< 0: the pool's own segment; else SegmentHeader::id of `region`
    char fn[ipc::kMaxPoolFunctionName + 1];
    char region[platform::kMaxSharedMemoryName];
    alignas(64) std::atomic<std::uint32_t> done;  ///< chunks finished (futex word the parent sleeps on)
    alignas(64) std::atomic<std::uint32_t> state[ipc::kMaxPoolChunks];
};

/// One submitted call, inline arguments and result.
struct alignas(64) PoolCall {
    std::atomic<std::uint32_t> state;  ///< kCall*; also the futex word a get() sleeps on
    std::uint32_t in_size, out_size;
    char fn[ipc::kMaxPoolFunctionName + 1];
    alignas(16) unsigned char in[ipc::kMaxPoolCallBytes];
    alignas(16) unsigned char out[ipc::kMaxPoolCallBytes];
};

struct alignas(64) PoolControl {
    std::atomic<std::uint32_t> work;  ///< bumped (and woken) by the parent: a job, a call, stop
    std::atomic<std::uint32_t> stop;
    std::uint32_t workers;
    std::uint64_t arena_bytes;
    std::int64_t parent_pid;  ///< the pool's process: workers exit when their parent is another
    PoolWorkerSlot slots[ipc::kMaxPoolWorkers];
    PoolJob job;
    PoolCall calls[ipc::kMaxPoolCalls];
};

/// Entry of a spawned worker (dispatched by child_main_hook): argv = segment name, index, cpu.
int pool_worker_main(int argc, const char* const* argv) noexcept;
inline constexpr const char kPoolWorkerEntry[] = "staticrt.pool-worker";

/// The non-template engine of ProcessPool, held by it as a private member (user code reaches
/// none of these calls; PoolFuture keeps a pointer to it).
class ProcessPoolBase {
public:
    /// All zero (a constinit pool lands in .bss); ProcessPool::start() binds its Process table.
    constexpr ProcessPoolBase() noexcept = default;
    ProcessPoolBase(const ProcessPoolBase&) = delete;
    ProcessPoolBase& operator=(const ProcessPoolBase&) = delete;

    [[nodiscard]] std::size_t live_workers() noexcept;
    /// Worker i's pid (known as soon as start() returned), 0 when none runs in that slot.
    [[nodiscard]] platform::ProcessId worker_pid(std::size_t i) const noexcept;
    /// Worker processes started since start() (first starts and replacements): a diagnostic.
    [[nodiscard]] std::size_t worker_starts() const noexcept { return m_worker_starts; }

    // submit() plumbing, used by PoolFuture (driver thread only).
    [[nodiscard]] bool call_ready(std::uint32_t slot, std::uint32_t gen) noexcept;
    [[nodiscard]] Result<void> call_wait(std::uint32_t slot, std::uint32_t gen, Deadline deadline) noexcept;
    /// Copies the result out and frees the slot; Errc::process_died when the call failed.
    [[nodiscard]] Result<void> call_take(std::uint32_t slot, std::uint32_t gen, void* out, std::size_t out_size) noexcept;
    void call_release(std::uint32_t slot, std::uint32_t gen) noexcept;

    // ---- used by ProcessPool's templates
    void bind_workers(ipc::Process* procs, std::size_t workers) noexcept { m_procs = procs, m_workers = workers; }
    /// Creates the pool's segment of `bytes` into shm (anonymous where the OS allows, else a
    /// random name created exclusively).
    [[nodiscard]] static Result<void> create_segment(platform::SharedMemory& shm, std::size_t bytes) noexcept;
    [[nodiscard]] Result<void> start_impl(PoolControl* control, unsigned char* arena, std::size_t arena_bytes,
                                          const platform::SharedMemory* segment, const ipc::ProcessPoolOptions& options) noexcept;
    [[nodiscard]] Result<ipc::MapReport> map_impl(const char* fn, const void* in, std::size_t in_size, void* out,
                                             std::size_t out_size, std::size_t count, bool* item_ok,
                                             Deadline deadline) noexcept;
    [[nodiscard]] Result<ipc::MapReport> map_shared_impl(const char* fn, const char* region, std::uint64_t region_id,
                                                    std::size_t in_off, std::size_t in_size, std::size_t out_off,
                                                    std::size_t out_size, std::size_t count, bool* item_ok,
                                                    Deadline deadline) noexcept;
    /// Takes a call slot, copies the argument in and posts it: the slot index and generation.
    [[nodiscard]] Result<std::uint64_t> submit_impl(const char* fn, const void* in, std::size_t in_size,
                                                    std::size_t out_size) noexcept;
    /// Stops the workers; those still running at the deadline are killed. Errc::timeout when
    /// any had to be killed (the pool is shut down all the same).
    Result<void> shutdown_impl(Deadline deadline) noexcept;

private:
    [[nodiscard]] Result<void> start_worker(std::size_t i) noexcept;
    [[nodiscard]] Result<void> start_spawned(std::size_t i, std::size_t cpu, const ipc::ProcessOptions& po) noexcept;
    [[nodiscard]] Result<ipc::MapReport> run_job(const char* fn, const char* region, std::uint64_t region_id,
                                            std::size_t in_off, std::size_t in_size, std::size_t out_off,
                                            std::size_t out_size, std::size_t count, bool* item_ok,
                                            Deadline deadline) noexcept;
    /// Kills stalled workers, reaps dead ones, recovers their chunks / calls, restarts them
    /// (with back-off). Sets m_broken when a worker failed to start max_start_failures times.
    void reap(ipc::MapReport* rep) noexcept;
    /// reap() when the last one is liveness_interval old (map and submit call it, so dead
    /// workers are replaced even when no wait lasts that long).
    void reap_if_due(ipc::MapReport* rep) noexcept;
    /// m_broken, after checking the control block: a stop word the parent did not set (a stray
    /// write into the segment) breaks the pool with Errc::corrupted before anything is posted,
    /// not only once a worker has seen it.
    [[nodiscard]] Errc health() noexcept;
    /// A deadline missed by the current job: drops its unclaimed chunks, kills the workers that
    /// run the others (they must not write after the caller got control back), replaces them.
    void cancel_job(ipc::MapReport* rep) noexcept;
    /// Refuses calls from a process that is not the pool's own (a fork-method worker's copy).
    [[nodiscard]] bool foreign() const noexcept;
    void post_work() noexcept;

    ipc::Process* m_procs = nullptr;
    std::size_t m_workers = 0;
    PoolControl* m_control = nullptr;
    unsigned char* m_base = nullptr;  ///< start of the pool's mapping (offsets are relative to it)
    unsigned char* m_arena = nullptr;
    std::size_t m_arena_bytes = 0;
    const platform::SharedMemory* m_segment = nullptr;
    // All zero (constinit: .bss); start() sets it.
    ipc::ProcessPoolOptions m_options{ipc::StartMethod::spawn, nullptr, 0, 0, std::chrono::milliseconds{0}, std::chrono::milliseconds{0}, 0};
    bool m_started = false;
    bool m_job_active = false;
    Errc m_broken = Errc::ok;            ///< not ok: workers cannot be (re)started; every call reports it
    platform::ProcessId m_owner = 0;     ///< the process that started the pool
    std::size_t m_worker_starts = 0;
    std::uint32_t m_gen = 0;  ///< generation of the current / last job
    std::uint32_t m_job_chunks = 0;  ///< chunks of the current job (the parent's copy: job.chunks is shared)
    struct WorkerMeta {
        bool down;                  ///< dead and not replaced yet (waits for next_start_ns)
        bool stalled;               ///< killed for a stall: its work is reported process_stalled
        std::uint32_t start_failures;  ///< replacements in a row that never came up
        std::int64_t next_start_ns;
        std::uint64_t seen_progress;   ///< last progress epoch read, and when it changed
        std::int64_t seen_at_ns;
    };
    WorkerMeta m_meta[ipc::kMaxPoolWorkers] = {};
    /// worker_pid(): the pid the parent started in each slot (0: none). Atomic so that another
    /// thread (a watchdog, a test's killer) may read it while the driver replaces workers.
    std::atomic<platform::ProcessId> m_pids[ipc::kMaxPoolWorkers] = {};
    std::int64_t m_next_reap_ns = 0;  ///< Instant when reap_if_due() looks again
    std::uint8_t m_chunk_attempts[ipc::kMaxPoolChunks] = {};
    struct CallMeta {
        std::uint32_t gen;       ///< bumped each time the slot is handed out
        std::uint32_t attempts;  ///< retries used after worker deaths
        bool held;               ///< a PoolFuture refers to it
        bool stalled;            ///< failed because its last worker stalled
    };
    CallMeta m_calls[ipc::kMaxPoolCalls] = {};
    struct ForkArgs {
        PoolControl* control;
        unsigned char* base;
        std::size_t index;
        std::size_t cpu;
        platform::ProcessId parent;
    };
    ForkArgs m_fork_args[ipc::kMaxPoolWorkers] = {};
    static int fork_worker(void* arg) noexcept;
};

template <std::size_t ArenaBytes>
struct PoolBlock {
    PoolControl control;
    alignas(64) unsigned char arena[ArenaBytes];
};

/// Bytes before the PoolBlock in the pool's segment (workers compute offsets from it).
inline constexpr std::size_t kPoolHeaderBytes = 64;

}  // namespace staticrt::detail
