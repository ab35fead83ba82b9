// staticrt/ipc/process_pool.hpp — ProcessPool<Workers>: multiprocessing.Pool.map, statically,
// and surviving workers that die.
//
// Functions are registered by name at start-up (register_pool_function / PoolFunction<F>) in
// parent and workers alike. map() copies the inputs into the pool's shared-memory arena (in
// batches when they do not fit), hands chunks to the workers one per worker slot, and copies
// the results back. Workers are processes started with the "spawn"
// start method (portable; needs child_main_hook() in main) or "fork" (POSIX), pinned to CPUs
// when asked. A worker that dies (crash, kill -9) is detected (its pid is reaped), replaced, and
// its in-flight chunk is retried up to PoolOptions::max_retries times, then reported failed
// (Errc::process_died in the report, per item in `item_ok`): nothing is lost silently and no
// result is accepted twice. One thread drives a pool (map / shutdown); workers never call back.
//
// Memory ordering: the parent writes a chunk's task and inputs, then [pool.assign] (release);
// the worker acquires it ([pool.take]), computes, and publishes with [pool.done] (release),
// which the parent acquires in [pool.collect] before reading outputs.
//
//   long long square(long long x) noexcept { return x * x; }
//   const staticrt::ipc::PoolFunction<&square> g_square{"square"};
//   staticrt::ipc::ProcessPool<4> pool;  (void)pool.start();
//   (void)pool.map("square", std::span<const long long>(in), std::span<long long>(out));
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/shared_segment.hpp"
#include "staticrt/platform/cpu.hpp"
#include "staticrt/platform/result.hpp"
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
    /// How often a chunk whose worker died is given to another worker before it is reported failed.
    std::uint32_t max_retries = 2;
    /// Items per chunk; 0 picks count / (Workers * 8), at least 1.
    std::size_t chunk = 0;
    /// How often the parent checks worker liveness while it waits.
    std::chrono::milliseconds liveness_interval{20};
};

/// What a map() did.
struct MapReport {
    std::size_t completed = 0;        ///< items with a result
    std::size_t failed = 0;           ///< items whose chunk died more than max_retries times
    std::size_t retried_chunks = 0;   ///< chunks given again after a worker died
    std::size_t worker_restarts = 0;  ///< workers replaced during this map
};

namespace detail {

struct alignas(64) PoolSlot {
    std::atomic<std::uint32_t> state;  ///< PoolSlotState; parent: idle->assigned, stop; worker: assigned->done
    char fn[kMaxPoolFunctionName + 1]; ///< registered name of the function to run
    std::uint64_t in_off, out_off, count, in_size, out_size;
    std::atomic<std::int64_t> pid;     ///< the worker's pid, written by the worker at start
};
enum PoolSlotState : std::uint32_t { kSlotIdle = 0, kSlotAssigned = 1, kSlotDone = 2, kSlotStop = 3 };

struct alignas(64) PoolControl {
    std::atomic<std::uint32_t> event;  ///< bumped (and woken) by a worker on each done chunk
    std::uint32_t workers;
    std::uint64_t arena_bytes;
    PoolSlot slots[kMaxPoolWorkers];
};

/// Entry of a spawned worker (dispatched by child_main_hook): argv = segment name, index, cpu.
int pool_worker_main(int argc, const char* const* argv) noexcept;
inline constexpr const char kPoolWorkerEntry[] = "staticrt.pool-worker";

/// The non-template engine of ProcessPool.
class ProcessPoolBase {
public:
    [[nodiscard]] std::size_t live_workers() noexcept;
    [[nodiscard]] platform::ProcessId worker_pid(std::size_t i) const noexcept;

protected:
    ProcessPoolBase(Process* procs, std::size_t workers) noexcept : m_procs(procs), m_workers(workers) {}
    [[nodiscard]] Result<void> start_impl(PoolControl* control, unsigned char* arena, std::size_t arena_bytes,
                                          const char* segment, const PoolOptions& options) noexcept;
    [[nodiscard]] Result<MapReport> map_impl(const char* fn, const void* in, std::size_t in_size, void* out,
                                             std::size_t out_size, std::size_t count, bool* item_ok) noexcept;
    void shutdown_impl() noexcept;

private:
    [[nodiscard]] Result<void> start_worker(std::size_t i) noexcept;
    [[nodiscard]] Result<MapReport> run_batch(const char* fn, std::size_t in_size, std::size_t out_size,
                                              std::size_t count, std::size_t in_off, std::size_t out_off,
                                              bool* item_ok) noexcept;

    Process* m_procs;
    std::size_t m_workers;
    PoolControl* m_control = nullptr;
    unsigned char* m_arena = nullptr;
    std::size_t m_arena_bytes = 0;
    const char* m_segment = nullptr;
    PoolOptions m_options{};
    bool m_started = false;
    struct Work {
        std::size_t chunk;
        std::uint32_t attempts;
    };
    Work m_current[kMaxPoolWorkers] = {};
    Work m_retry[kMaxPoolWorkers] = {};
    std::size_t m_retry_count = 0;
    struct ForkArgs {
        PoolControl* control;
        unsigned char* arena;
        std::size_t index;
        std::size_t cpu;
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

template <std::size_t Workers, std::size_t ArenaBytes = 1u << 20>
class ProcessPool : public detail::ProcessPoolBase {
    static_assert(Workers >= 1 && Workers <= kMaxPoolWorkers, "ProcessPool<Workers>: Workers must be 1..64");
    static_assert(ArenaBytes >= 4096, "ProcessPool<..., ArenaBytes>: the arena needs at least 4096 bytes");

public:
    ProcessPool() noexcept : detail::ProcessPoolBase(m_procs, Workers) {}
    ProcessPool(const ProcessPool&) = delete;
    ProcessPool& operator=(const ProcessPool&) = delete;
    ~ProcessPool() { shutdown(); }

    /// Creates the shared segment (named "staticrt-pool-<pid>-<n>") and starts the workers.
    [[nodiscard]] Result<void> start(const PoolOptions& options = {}) noexcept;

    /// out[i] = fn(in[i]) for every i, computed by the workers. in/out may be any memory (copied
    /// through the arena in batches). item_ok (optional,
    /// in.size() elements) tells which items have a result. Errc::invalid_argument: unknown fn,
    /// size mismatch, pool not started.
    template <class In, class Out>
    [[nodiscard]] Result<MapReport> map(const char* fn, std::span<const In> in, std::span<Out> out,
                                        std::span<bool> item_ok = {}) noexcept {
        static_assert(std::is_trivially_copyable_v<In> && std::is_trivially_copyable_v<Out>,
                      "ProcessPool::map: element types must be trivially copyable (they cross processes)");
        if (in.size() != out.size() || (!item_ok.empty() && item_ok.size() != in.size()))
            return unexpected(Errc::invalid_argument);
        return map_impl(fn, in.data(), sizeof(In), out.data(), sizeof(Out), in.size(),
                        item_ok.empty() ? nullptr : item_ok.data());
    }

    /// One item through one worker (Python's Pool.apply): blocks until done. Errc::process_died
    /// when its worker died more than max_retries times; otherwise as map().
    template <class Out, class In>
    [[nodiscard]] Result<Out> apply(const char* fn, const In& in) noexcept {
        Out out{};
        bool item_ok = false;
        auto r = map(fn, std::span<const In>(&in, 1), std::span<Out>(&out, 1), std::span<bool>(&item_ok, 1));
        if (!r) return unexpected(r.error());
        if (!item_ok) return unexpected(Errc::process_died);
        return out;
    }

    /// Stops the workers (they finish their chunk), reaps them, removes the segment. Idempotent.
    void shutdown() noexcept {
        shutdown_impl();
        m_segment.close();
    }

    static constexpr std::size_t kWorkers = Workers;
    static constexpr std::size_t kArenaBytes = ArenaBytes;

private:
    Process m_procs[Workers];
    SharedSegment<detail::PoolBlock<ArenaBytes>> m_segment;
};

namespace detail {
/// Writes a fresh pool segment name into out (kMaxSharedMemoryName bytes).
void make_pool_name(char* out) noexcept;
}  // namespace detail

template <std::size_t Workers, std::size_t ArenaBytes>
Result<void> ProcessPool<Workers, ArenaBytes>::start(const PoolOptions& options) noexcept {
    if (m_segment.is_open()) return unexpected(Errc::invalid_argument);
    char name[platform::kMaxSharedMemoryName];
    detail::make_pool_name(name);
    if (auto r = m_segment.create(name); !r) return r;
    auto r = start_impl(&m_segment->control, m_segment->arena, ArenaBytes, m_segment.name(), options);
    if (!r) shutdown();
    return r;
}

}  // namespace staticrt::ipc
