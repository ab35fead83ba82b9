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
// flight is retried up to ProcessPoolOptions::max_retries times, then reported failed (MapReport /
// item_ok, Errc::process_died from get()): nothing is lost silently and no result is accepted
// twice. One thread drives a pool (map / submit / PoolFuture / shutdown); workers never call back.
//
// Faults (docs/processes.md "Faults"): every wait takes a Deadline (a map that misses it is
// cancelled: Errc::timeout, the workers still running its chunks are killed and replaced, the
// pool stays usable). With ProcessPoolOptions::stall_timeout, a worker that holds a chunk or call
// without finishing it for that long (a loop, SIGSTOP, a debugger) is killed, replaced, and
// its work retried or reported (MapReport::stalled_workers, Errc::process_stalled). The pool's
// segment has no name on Linux (memfd; spawn workers map it through /proc/<parent>/fd), so
// nothing is left in /dev/shm whatever kills the parent, and workers die with the parent
// (SIGKILL through PR_SET_PDEATHSIG, and a parent-pid check). A replacement that cannot start
// is retried with back-off at most ProcessPoolOptions::max_start_failures times in a row, then every
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

#include "staticrt/ipc/detail/process_pool_layout.hpp"
#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/process_pool_options.hpp"
#include "staticrt/ipc/shared_segment.hpp"
#include "staticrt/platform/cpu.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/shared_memory.hpp"
#include "staticrt/platform/time.hpp"

namespace staticrt::ipc {

/// A pool function: computes out[0..count) from in[0..count) (element types known to the caller).
using PoolFn = void (*)(const void* in, void* out, std::size_t count) noexcept;


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
    /// Python-style helper, a one-line forward: get(Deadline::after(d)).
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
class ProcessPool {
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
    [[nodiscard]] Result<void> start(const ProcessPoolOptions& options = {}) noexcept;

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
        return m_engine.map_impl(fn, in.data(), sizeof(In), out.data(), sizeof(Out), in.size(),
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
        return m_engine.map_shared_impl(fn, segment.name(), segment.id(), in_at - base, sizeof(In), out_at - base, sizeof(Out),
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
        auto r = m_engine.submit_impl(fn, &in, sizeof(In), sizeof(Out));
        if (!r) return unexpected(r.error());
        return PoolFuture<Out>(&m_engine, static_cast<std::uint32_t>(*r >> 32), static_cast<std::uint32_t>(*r));
    }

    /// Stops the workers (they finish their chunk), reaps them, removes the segment. Idempotent.
    /// Workers still running after 2 s are killed.
    void shutdown() noexcept { (void)shutdown(Deadline::after(std::chrono::seconds(2))); }
    /// Same, with the deadline after which the workers still running are killed: Errc::timeout
    /// when any was (the pool is shut down all the same, and may be started again).
    [[nodiscard]] Result<void> shutdown(Deadline deadline) noexcept {
        auto r = m_engine.shutdown_impl(deadline);
        m_segment.close();
        return r;
    }

    // ---- observers
    /// Worker processes alive now (a snapshot; dead ones are replaced while the pool waits).
    [[nodiscard]] std::size_t live_workers() noexcept { return m_engine.live_workers(); }
    /// Worker i's pid (known as soon as start() returned), 0 when none runs in that slot.
    [[nodiscard]] platform::ProcessId worker_pid(std::size_t i) const noexcept { return m_engine.worker_pid(i); }
    /// Worker processes started since start() (first starts and replacements): a diagnostic.
    [[nodiscard]] std::size_t worker_starts() const noexcept { return m_engine.worker_starts(); }

    static constexpr std::size_t kWorkers = Workers;
    static constexpr std::size_t kArenaBytes = ArenaBytes;

private:
    /// The engine: segment, dispatch, death handling. Private: its call_* plumbing belongs to
    /// PoolFuture, its *_impl calls to the templates above.
    detail::ProcessPoolBase m_engine;
    Process m_procs[Workers];
    platform::SharedMemory m_segment;
};

template <std::size_t Workers, std::size_t ArenaBytes>
constexpr std::size_t ProcessPool<Workers, ArenaBytes>::static_bytes = sizeof(ProcessPool<Workers, ArenaBytes>);


template <std::size_t Workers, std::size_t ArenaBytes>
constexpr std::size_t ProcessPool<Workers, ArenaBytes>::shared_bytes =
    detail::kPoolHeaderBytes + sizeof(detail::PoolBlock<ArenaBytes>);

template <std::size_t Workers, std::size_t ArenaBytes>
Result<void> ProcessPool<Workers, ArenaBytes>::start(const ProcessPoolOptions& options) noexcept {
    using Block = detail::PoolBlock<ArenaBytes>;
    static_assert(alignof(Block) <= detail::kPoolHeaderBytes, "ProcessPool: PoolBlock alignment exceeds its offset");
    if (m_segment.is_mapped()) return unexpected(Errc::invalid_argument);
    m_engine.bind_workers(m_procs, Workers);
    if (auto r = m_engine.create_segment(m_segment, detail::kPoolHeaderBytes + sizeof(Block)); !r) return r;
    // The segment is zero-filled: no job (gen 0), no calls, not stopped.
    auto* block = static_cast<Block*>(static_cast<void*>(static_cast<unsigned char*>(m_segment.data()) +
                                                         detail::kPoolHeaderBytes));
    auto r = m_engine.start_impl(&block->control, block->arena, ArenaBytes, &m_segment, options);
    if (!r) shutdown();
    return r;
}

}  // namespace staticrt::ipc
