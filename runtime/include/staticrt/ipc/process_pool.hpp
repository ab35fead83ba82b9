// SPDX-License-Identifier: MIT
// staticrt/ipc/process_pool.hpp — ProcessPool<Workers>: multiprocessing.Pool.map / apply_async,
// statically, and surviving workers that die.
//
// Functions are registered by name at start-up (register_pool_function / PoolFunction<F>) in
// parent and workers alike. A map is posted as one job: the items are cut into chunks whose
// state words live in the pool's control block; workers claim chunks themselves (CAS on the
// chunk's state; worker w walks the w-th share first, then steals from the others' ends), so they never wait for the parent between chunks,
// and the worker that finishes the last chunk wakes the parent (process-shared futex).
// map_shared() runs over spans that already lie in a SharedSegment: the workers map that
// segment by name once and read/write the items in place (offsets, never pointers); map()
// copies other memory through the pool's arena in batches. submit() posts one call into one of
// kMaxPoolCalls slots and returns a PoolFuture. Workers are processes started with the "spawn"
// start method (portable; needs child_main_hook() in main) or "fork" (POSIX), pinned to CPUs
// when asked. A worker that dies (crash, kill -9) is detected while the parent waits (one
// non-blocking reap per worker every liveness_interval), replaced, and its chunk or call in
// flight is retried up to PoolOptions::max_retries times, then reported failed (MapReport /
// item_ok, Errc::process_died from get()): nothing is lost silently and no result is accepted
// twice. One thread drives a pool (map / submit / PoolFuture / shutdown); workers never call back.
//
// Faults (docs/processes.md "Faults"): every wait takes a Deadline (a map that misses it is
// cancelled: Errc::timeout, the workers still running its chunks are killed and replaced, the
// pool stays usable). With PoolOptions::stall_timeout, a worker that holds a chunk or call
// without finishing it for that long (a loop, SIGSTOP, a debugger) is killed, replaced, and
// its work retried or reported (MapReport::stalled_workers, Errc::process_stalled). The pool's
// segment has no name on Linux (memfd; spawn workers map it through /proc/<parent>/fd), so
// nothing is left in /dev/shm whatever kills the parent, and workers die with the parent
// (SIGKILL through PR_SET_PDEATHSIG, and a parent-pid check). A replacement that cannot start
// is retried with back-off at most PoolOptions::max_start_failures times in a row, then every
// call reports the pool broken (Errc::corrupted when the control block was scribbled over,
// else Errc::process_died). Values read back from the segment are never used as indices.
//
// Memory ordering: the parent writes a job's fields, inputs and fresh chunk states, then
// [pool.post] (release) and [pool.work] (release, futex wake); a worker acquires them
// ([pool.post.see]) and owns a chunk by [pool.claim]; it publishes outputs with
// [pool.chunk.done] (release), which the parent acquires in [pool.collect]. Calls: argument
// [pool.call.post] -> [pool.call.take], result [pool.call.done] -> [pool.call.see].
// docs/memory-ordering.md "## ipc" has the argument.
//
//   long long square(long long x) noexcept { return x * x; }
//   const staticrt::ipc::PoolFunction<&square> g_square{"square"};
//   staticrt::ipc::ProcessPool<4> pool;  (void)pool.start();
//   (void)pool.map("square", std::span<const long long>(in), std::span<long long>(out));
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/shared_segment.hpp"
#include "staticrt/platform/cpu.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/shared_memory.hpp"
#include "staticrt/platform/time.hpp"

namespace staticrt::ipc {

/// A pool function: computes out[0..count) from in[0..count) (element types known to the caller).
using PoolFn = void (*)(const void* in, void* out, std::size_t count) noexcept;

inline constexpr std::size_t kMaxPoolFunctions = 32;
inline constexpr std::size_t kMaxPoolFunctionName = 47;
inline constexpr std::size_t kMaxPoolWorkers = 64;

/// Registers fn by name. Errc::invalid_argument (bad/duplicate name), Errc::exhausted (table full).
[[nodiscard]] Result<void> register_pool_function(const char* name, PoolFn fn) noexcept;
[[nodiscard]] PoolFn find_pool_function(const char* name) noexcept;

/// Adapts `Out f(In) noexcept` to a PoolFn and registers it at static-initialisation time
/// (traps on a duplicate name): `const PoolFunction<&square> g_sq{"square"};`
template <auto F>
class PoolFunction {
    template <class R, class A>
    static A arg_of(R (*)(A) noexcept);
    template <class R, class A>
    static R ret_of(R (*)(A) noexcept);

public:
    using In = std::remove_cvref_t<decltype(arg_of(F))>;
    using Out = decltype(ret_of(F));
    static_assert(std::is_trivially_copyable_v<In> && std::is_trivially_copyable_v<Out>,
                  "PoolFunction<F>: F's argument and result must be trivially copyable (they cross processes)");
    static void call(const void* in, void* out, std::size_t count) noexcept {
        const In* i = static_cast<const In*>(in);
        Out* o = static_cast<Out*>(out);
        for (std::size_t k = 0; k < count; ++k) o[k] = F(i[k]);
    }
    explicit PoolFunction(const char* name) noexcept {
        if (!register_pool_function(name, &call)) staticrt::detail::contract_violation("PoolFunction: bad or duplicate name");
    }
};

enum class StartMethod : std::uint8_t { spawn, fork };

struct PoolOptions {
    StartMethod start_method = StartMethod::spawn;
    /// Worker i is pinned to cpus->nth(i % cpus->count()); nullptr: not pinned.
    const platform::CpuSet* cpus = nullptr;
    /// How often a chunk (or a submitted call) whose worker died is given to another worker
    /// before it is reported failed.
    std::uint32_t max_retries = 2;
    /// Items per chunk; 0 picks count / (Workers * 16), at least 1 (and at most kMaxPoolChunks chunks).
    std::size_t chunk = 0;
    /// While the parent waits, how often it checks that its workers live (one non-blocking
    /// reap per worker); it is woken by the last chunk before that, so a map pays nothing.
    std::chrono::milliseconds liveness_interval{20};
    /// A worker that holds one chunk or call for longer than this without finishing it is
    /// killed (SIGKILL / TerminateProcess) and replaced; its work is retried like a dead
    /// worker's. 0 (the default): off, a slow chunk is never taken for a stuck one. Detection
    /// happens at the liveness checks, so it lands within stall_timeout + liveness_interval.
    std::chrono::milliseconds stall_timeout{0};
    /// Replacements that die before they come up (cannot map the segment, see a stop word they
    /// were not given, cannot be created), in a row for one worker, before the pool is broken.
    /// Attempts are spaced liveness_interval, doubled each time (capped at 1 s).
    std::uint32_t max_start_failures = 5;
};

/// What a map() did.
struct MapReport {
    std::size_t completed = 0;        ///< items with a result
    std::size_t failed = 0;           ///< items whose chunk died more than max_retries times
    std::size_t retried_chunks = 0;   ///< chunks given again after a worker died
    std::size_t worker_restarts = 0;  ///< workers replaced during this map
    std::size_t stalled_workers = 0;  ///< workers killed during this map for exceeding stall_timeout
};

/// Most chunks one map hands out (their states live in the control block).
inline constexpr std::size_t kMaxPoolChunks = 4096;
/// submit(): calls in flight at once, and the largest argument / result in bytes.
inline constexpr std::size_t kMaxPoolCalls = 32;
inline constexpr std::size_t kMaxPoolCallBytes = 64;

namespace detail {

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
    char fn[kMaxPoolFunctionName + 1];
    char region[platform::kMaxSharedMemoryName];
    alignas(64) std::atomic<std::uint32_t> done;  ///< chunks finished (futex word the parent sleeps on)
    alignas(64) std::atomic<std::uint32_t> state[kMaxPoolChunks];
};

/// One submitted call, inline arguments and result.
struct alignas(64) PoolCall {
    std::atomic<std::uint32_t> state;  ///< kCall*; also the futex word a get() sleeps on
    std::uint32_t in_size, out_size;
    char fn[kMaxPoolFunctionName + 1];
    alignas(16) unsigned char in[kMaxPoolCallBytes];
    alignas(16) unsigned char out[kMaxPoolCallBytes];
};

struct alignas(64) PoolControl {
    std::atomic<std::uint32_t> work;  ///< bumped (and woken) by the parent: a job, a call, stop
    std::atomic<std::uint32_t> stop;
    std::uint32_t workers;
    std::uint64_t arena_bytes;
    std::int64_t parent_pid;  ///< the pool's process: workers exit when their parent is another
    PoolWorkerSlot slots[kMaxPoolWorkers];
    PoolJob job;
    PoolCall calls[kMaxPoolCalls];
};

/// Entry of a spawned worker (dispatched by child_main_hook): argv = segment name, index, cpu.
int pool_worker_main(int argc, const char* const* argv) noexcept;
inline constexpr const char kPoolWorkerEntry[] = "staticrt.pool-worker";

/// The non-template engine of ProcessPool.
class ProcessPoolBase {
public:
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

protected:
    /// All zero (a constinit pool lands in .bss); ProcessPool::start() binds its Process table.
    constexpr ProcessPoolBase() noexcept = default;
    void bind_workers(Process* procs, std::size_t workers) noexcept { m_procs = procs, m_workers = workers; }
    /// Creates the pool's segment of `bytes` into shm (anonymous where the OS allows, else a
    /// random name created exclusively).
    [[nodiscard]] static Result<void> create_segment(platform::SharedMemory& shm, std::size_t bytes) noexcept;
    [[nodiscard]] Result<void> start_impl(PoolControl* control, unsigned char* arena, std::size_t arena_bytes,
                                          const platform::SharedMemory* segment, const PoolOptions& options) noexcept;
    [[nodiscard]] Result<MapReport> map_impl(const char* fn, const void* in, std::size_t in_size, void* out,
                                             std::size_t out_size, std::size_t count, bool* item_ok,
                                             Deadline deadline) noexcept;
    [[nodiscard]] Result<MapReport> map_shared_impl(const char* fn, const char* region, std::uint64_t region_id,
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
    [[nodiscard]] Result<void> start_spawned(std::size_t i, std::size_t cpu, const ProcessOptions& po) noexcept;
    [[nodiscard]] Result<MapReport> run_job(const char* fn, const char* region, std::uint64_t region_id,
                                            std::size_t in_off, std::size_t in_size, std::size_t out_off,
                                            std::size_t out_size, std::size_t count, bool* item_ok,
                                            Deadline deadline) noexcept;
    /// Kills stalled workers, reaps dead ones, recovers their chunks / calls, restarts them
    /// (with back-off). Sets m_broken when a worker failed to start max_start_failures times.
    void reap(MapReport* rep) noexcept;
    /// reap() when the last one is liveness_interval old (map and submit call it, so dead
    /// workers are replaced even when no wait lasts that long).
    void reap_if_due(MapReport* rep) noexcept;
    /// A deadline missed by the current job: drops its unclaimed chunks, kills the workers that
    /// run the others (they must not write after the caller got control back), replaces them.
    void cancel_job(MapReport* rep) noexcept;
    /// Refuses calls from a process that is not the pool's own (a fork-method worker's copy).
    [[nodiscard]] bool foreign() const noexcept;
    void post_work() noexcept;

    Process* m_procs = nullptr;
    std::size_t m_workers = 0;
    PoolControl* m_control = nullptr;
    unsigned char* m_base = nullptr;  ///< start of the pool's mapping (offsets are relative to it)
    unsigned char* m_arena = nullptr;
    std::size_t m_arena_bytes = 0;
    const platform::SharedMemory* m_segment = nullptr;
    // All zero (constinit: .bss); start() sets it.
    PoolOptions m_options{StartMethod::spawn, nullptr, 0, 0, std::chrono::milliseconds{0}, std::chrono::milliseconds{0}, 0};
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
    WorkerMeta m_meta[kMaxPoolWorkers] = {};
    /// worker_pid(): the pid the parent started in each slot (0: none). Atomic so that another
    /// thread (a watchdog, a test's killer) may read it while the driver replaces workers.
    std::atomic<platform::ProcessId> m_pids[kMaxPoolWorkers] = {};
    std::int64_t m_next_reap_ns = 0;  ///< Instant when reap_if_due() looks again
    std::uint8_t m_chunk_attempts[kMaxPoolChunks] = {};
    struct CallMeta {
        std::uint32_t gen;       ///< bumped each time the slot is handed out
        std::uint32_t attempts;  ///< retries used after worker deaths
        bool held;               ///< a PoolFuture refers to it
        bool stalled;            ///< failed because its last worker stalled
    };
    CallMeta m_calls[kMaxPoolCalls] = {};
    struct ForkArgs {
        PoolControl* control;
        unsigned char* base;
        std::size_t index;
        std::size_t cpu;
        platform::ProcessId parent;
    };
    ForkArgs m_fork_args[kMaxPoolWorkers] = {};
    static int fork_worker(void* arg) noexcept;
};

template <std::size_t ArenaBytes>
struct PoolBlock {
    PoolControl control;
    alignas(64) unsigned char arena[ArenaBytes];
};

}  // namespace detail

/// The result of ProcessPool::submit(): like Future<Out>, but the call runs in a worker process.
/// Move-only; one thread (the pool's driver) uses it. get() consumes it; destroying it (or
/// get()) gives its call slot back — a slot whose call still runs is recycled once it ends.
/// A PoolFuture must not outlive its pool.
template <class Out>
class PoolFuture {
public:
    PoolFuture() noexcept = default;
    PoolFuture(const PoolFuture&) = delete;
    PoolFuture& operator=(const PoolFuture&) = delete;
    PoolFuture(PoolFuture&& o) noexcept : m_pool(o.m_pool), m_slot(o.m_slot), m_gen(o.m_gen) { o.m_pool = nullptr; }
    PoolFuture& operator=(PoolFuture&& o) noexcept {
        if (this != &o) {
            reset();
            m_pool = o.m_pool;
            m_slot = o.m_slot;
            m_gen = o.m_gen;
            o.m_pool = nullptr;
        }
        return *this;
    }
    ~PoolFuture() { reset(); }

    /// True until get() returned (or the handle was moved from / reset).
    [[nodiscard]] bool valid() const noexcept { return m_pool != nullptr; }
    /// True when get() would not block (done, or failed after its worker died). Checks the
    /// workers' liveness when not done yet. Never blocks.
    [[nodiscard]] bool ready() noexcept { return m_pool != nullptr && m_pool->call_ready(m_slot, m_gen); }
    /// Waits until ready. Errc::timeout at the deadline; Errc::invalid_argument when !valid().
    [[nodiscard]] Result<void> wait(Deadline deadline = Deadline::never()) noexcept {
        if (m_pool == nullptr) return unexpected(Errc::invalid_argument);
        return m_pool->call_wait(m_slot, m_gen, deadline);
    }
    /// Waits, then returns the result and gives the slot back. Errc::timeout (the handle stays
    /// valid), Errc::process_died (the call's worker died more than max_retries times),
    /// Errc::invalid_argument when !valid().
    [[nodiscard]] Result<Out> get(Deadline deadline = Deadline::never()) noexcept {
        if (auto w = wait(deadline); !w) return unexpected(w.error());
        Out out{};
        auto r = m_pool->call_take(m_slot, m_gen, &out, sizeof(Out));
        m_pool = nullptr;
        if (!r) return unexpected(r.error());
        return out;
    }
    template <class Rep, class Period>
    [[nodiscard]] Result<Out> get_for(std::chrono::duration<Rep, Period> d) noexcept {
        return get(Deadline::after(d));
    }
    /// Gives the slot back without the result.
    void reset() noexcept {
        if (m_pool != nullptr) m_pool->call_release(m_slot, m_gen);
        m_pool = nullptr;
    }

private:
    template <std::size_t, std::size_t>
    friend class ProcessPool;
    PoolFuture(detail::ProcessPoolBase* pool, std::uint32_t slot, std::uint32_t gen) noexcept
        : m_pool(pool), m_slot(slot), m_gen(gen) {}
    detail::ProcessPoolBase* m_pool = nullptr;
    std::uint32_t m_slot = 0;
    std::uint32_t m_gen = 0;
};

template <std::size_t Workers, std::size_t ArenaBytes = 1u << 20>
class ProcessPool : public detail::ProcessPoolBase {
    static_assert(Workers >= 1 && Workers <= kMaxPoolWorkers, "ProcessPool<Workers>: Workers must be 1..64");
    static_assert(ArenaBytes >= 4096, "ProcessPool<..., ArenaBytes>: the arena needs at least 4096 bytes");

public:
    /// Static RAM in this process: sizeof (the Process table and bookkeeping); defined below.
    static const std::size_t static_bytes;
    /// The shared segment start() creates (mapped by the parent and every worker).
    static const std::size_t shared_bytes;  // defined below (needs detail::kPoolHeaderBytes)

    constexpr ProcessPool() noexcept = default;
    ProcessPool(const ProcessPool&) = delete;
    ProcessPool& operator=(const ProcessPool&) = delete;
    ~ProcessPool() { shutdown(); }

    /// Creates the pool's segment (Linux: anonymous, a memfd; elsewhere a random name
    /// "staticrt-pool-<16 hex>" made exclusively) and starts the workers: worker_pid(i) is set
    /// when it returns. Errc::no_such_cpu: options.cpus names a CPU this process may not use;
    /// Errc::no_space: no room for the segment (a full /dev/shm); invalid_argument: started.
    [[nodiscard]] Result<void> start(const PoolOptions& options = {}) noexcept;

    /// out[i] = fn(in[i]) for every i, computed by the workers. in/out may be any memory (copied
    /// through the arena in batches). item_ok (optional,
    /// in.size() elements) tells which items have a result. Errc::invalid_argument: unknown fn,
    /// size mismatch, pool not started.
    ///
    /// deadline: a map still running then is cancelled and returns Errc::timeout: unclaimed
    /// chunks are dropped, workers still inside one of its chunks are killed and replaced (so
    /// nothing writes into `out` after the return; its contents are then unspecified), and the
    /// pool stays usable. A deadline that has passed already (or Deadline::poll()): Errc::timeout
    /// at once, nothing runs. Errc::process_died / corrupted: the pool is broken (a replacement
    /// could not be started max_start_failures times); shut it down.
    template <class In, class Out>
    [[nodiscard]] Result<MapReport> map(const char* fn, std::span<const In> in, std::span<Out> out,
                                        std::span<bool> item_ok = {}, Deadline deadline = Deadline::never()) noexcept {
        static_assert(std::is_trivially_copyable_v<In> && std::is_trivially_copyable_v<Out>,
                      "ProcessPool::map: element types must be trivially copyable (they cross processes)");
        if (in.size() != out.size() || (!item_ok.empty() && item_ok.size() != in.size()))
            return unexpected(Errc::invalid_argument);
        return map_impl(fn, in.data(), sizeof(In), out.data(), sizeof(Out), in.size(),
                        item_ok.empty() ? nullptr : item_ok.data(), deadline);
    }

    /// Zero-copy map: in and out lie inside `segment` (any SharedSegment this process created or
    /// opened, kept open and its name linked during the call). The workers map the segment by
    /// name (once; they keep the mapping until another segment comes) and read and write the
    /// spans in place at their offsets. Items of a chunk whose worker died and that was given up
    /// are left untouched (item_ok false). Errc::invalid_argument: a span outside the segment,
    /// size mismatch, unknown fn, pool not started. deadline: as map().
    template <class In, class Out, class T>
    [[nodiscard]] Result<MapReport> map_shared(const char* fn, const SharedSegment<T>& segment,
                                               std::span<const In> in, std::span<Out> out,
                                               std::span<bool> item_ok = {},
                                               Deadline deadline = Deadline::never()) noexcept {
        static_assert(std::is_trivially_copyable_v<In> && std::is_trivially_copyable_v<Out>,
                      "ProcessPool::map_shared: element types must be trivially copyable (they cross processes)");
        if (!segment.is_open() || in.size() != out.size() || (!item_ok.empty() && item_ok.size() != in.size()))
            return unexpected(Errc::invalid_argument);
        const auto base = reinterpret_cast<std::uintptr_t>(segment.mapping());
        const auto end = base + segment.mapping_bytes();
        const auto in_at = reinterpret_cast<std::uintptr_t>(in.data());
        const auto out_at = reinterpret_cast<std::uintptr_t>(out.data());
        if (!in.empty() && (in_at < base || in_at > end || in.size_bytes() > end - in_at))
            return unexpected(Errc::invalid_argument);
        if (!out.empty() && (out_at < base || out_at > end || out.size_bytes() > end - out_at))
            return unexpected(Errc::invalid_argument);
        return map_shared_impl(fn, segment.name(), segment.id(), in_at - base, sizeof(In), out_at - base, sizeof(Out),
                               in.size(), item_ok.empty() ? nullptr : item_ok.data(), deadline);
    }

    /// One item through one worker (Python's Pool.apply): submit() and get() — blocks until
    /// done. Errc::process_died when its worker died more than max_retries times;
    /// Errc::process_stalled when it stalled (stall_timeout) that often; Errc::timeout at the
    /// deadline (the call is abandoned: its slot comes back once the call ends);
    /// Errc::exhausted when every call slot is held by a PoolFuture; otherwise as submit().
    template <class Out, class In>
    [[nodiscard]] Result<Out> apply(const char* fn, const In& in, Deadline deadline = Deadline::never()) noexcept {
        auto f = submit<Out>(fn, in);
        if (!f) return unexpected(f.error());
        return f->get(deadline);
    }

    /// Starts fn(in) in a worker without waiting (Python's Pool.apply_async): the handle's
    /// get(deadline) gives the result. At most kMaxPoolCalls calls are in flight:
    /// Errc::exhausted when every slot is taken (get() or destroy a handle to free one).
    /// Errc::invalid_argument: unknown fn, pool not started. Same death policy as map().
    template <class Out, class In>
    [[nodiscard]] Result<PoolFuture<Out>> submit(const char* fn, const In& in) noexcept {
        static_assert(std::is_trivially_copyable_v<In> && std::is_trivially_copyable_v<Out>,
                      "ProcessPool::submit: argument and result must be trivially copyable (they cross processes)");
        static_assert(sizeof(In) <= kMaxPoolCallBytes && sizeof(Out) <= kMaxPoolCallBytes,
                      "ProcessPool::submit: argument or result larger than kMaxPoolCallBytes (64); pass an offset "
                      "into a SharedSegment instead");
        static_assert(alignof(In) <= 16 && alignof(Out) <= 16, "ProcessPool::submit: over-aligned argument or result");
        auto r = submit_impl(fn, &in, sizeof(In), sizeof(Out));
        if (!r) return unexpected(r.error());
        return PoolFuture<Out>(this, static_cast<std::uint32_t>(*r >> 32), static_cast<std::uint32_t>(*r));
    }

    /// Stops the workers (they finish their chunk), reaps them, removes the segment. Idempotent.
    /// Workers still running after 2 s are killed.
    void shutdown() noexcept { (void)shutdown(Deadline::after(std::chrono::seconds(2))); }
    /// Same, with the deadline after which the workers still running are killed: Errc::timeout
    /// when any was (the pool is shut down all the same, and may be started again).
    [[nodiscard]] Result<void> shutdown(Deadline deadline) noexcept {
        auto r = shutdown_impl(deadline);
        m_segment.close();
        return r;
    }

    static constexpr std::size_t kWorkers = Workers;
    static constexpr std::size_t kArenaBytes = ArenaBytes;

private:
    Process m_procs[Workers];
    platform::SharedMemory m_segment;
};

template <std::size_t Workers, std::size_t ArenaBytes>
constexpr std::size_t ProcessPool<Workers, ArenaBytes>::static_bytes = sizeof(ProcessPool<Workers, ArenaBytes>);

namespace detail {
/// Bytes before the PoolBlock in the pool's segment (workers compute offsets from it).
inline constexpr std::size_t kPoolHeaderBytes = 64;
}  // namespace detail

template <std::size_t Workers, std::size_t ArenaBytes>
constexpr std::size_t ProcessPool<Workers, ArenaBytes>::shared_bytes =
    detail::kPoolHeaderBytes + sizeof(detail::PoolBlock<ArenaBytes>);

template <std::size_t Workers, std::size_t ArenaBytes>
Result<void> ProcessPool<Workers, ArenaBytes>::start(const PoolOptions& options) noexcept {
    using Block = detail::PoolBlock<ArenaBytes>;
    static_assert(alignof(Block) <= detail::kPoolHeaderBytes, "ProcessPool: PoolBlock alignment exceeds its offset");
    if (m_segment.is_mapped()) return unexpected(Errc::invalid_argument);
    bind_workers(m_procs, Workers);
    if (auto r = create_segment(m_segment, detail::kPoolHeaderBytes + sizeof(Block)); !r) return r;
    // The segment is zero-filled: no job (gen 0), no calls, not stopped.
    auto* block = static_cast<Block*>(static_cast<void*>(static_cast<unsigned char*>(m_segment.data()) +
                                                         detail::kPoolHeaderBytes));
    auto r = start_impl(&block->control, block->arena, ArenaBytes, &m_segment, options);
    if (!r) shutdown();
    return r;
}

}  // namespace staticrt::ipc
