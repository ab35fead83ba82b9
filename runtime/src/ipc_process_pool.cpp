// SPDX-License-Identifier: MIT
// ProcessPool's engine: worker start/replacement, chunk dispatch and death handling, and the
// worker loop (spawned or forked).
#include "staticrt/ipc/process_pool.hpp"

#include <cstdlib>
#include <cstring>

#include "name_registry.hpp"
#include "staticrt/ipc/detail/shared_wait.hpp"
#include "staticrt/platform/memory.hpp"
#include "staticrt/platform/shared_memory.hpp"
#include "staticrt/platform/wait.hpp"

namespace staticrt::ipc {
namespace {

constexpr auto kShared = platform::WaitScope::process_shared;

constinit staticrt::detail::NameRegistry<PoolFn, kMaxPoolFunctions, kMaxPoolFunctionName> g_fns;

void put_decimal(char*& at, std::uint64_t v) noexcept {
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0) *at++ = tmp[--n];
    *at = '\0';
}

std::size_t align64(std::size_t v) noexcept { return (v + 63) & ~std::size_t{63}; }

constexpr std::uint32_t kGenMask = 0xFFFFFFu;
using detail::kPoolHeaderBytes;

/// A worker's progress epoch (PoolWorkerSlot::progress): odd while it holds a chunk or call.
/// Only this worker writes it.
struct Progress {
    std::atomic<std::uint64_t>* word;
    std::uint64_t v;
    // [pool.progress] relaxed: a liveness heuristic only; no data is published through it. A
    // stale value the parent reads only delays a stall verdict by one liveness check.
    void hold() noexcept {
        if ((v & 1u) == 0) word->store(++v, std::memory_order_relaxed);
    }
    void let_go() noexcept {
        if ((v & 1u) != 0) word->store(++v, std::memory_order_relaxed);
    }
};

Deadline earlier(Deadline a, Deadline b) noexcept { return a.instant().ns() <= b.instant().ns() ? a : b; }

/// A worker's view of the caller's segment of the last map_shared (kept mapped between maps).
struct RegionCache {
    platform::SharedMemory shm;
    std::uint64_t id = 0;
    /// 2 MiB blocks of the mapping already in this worker's page tables (bit per block).
    static constexpr std::size_t kBlockShift = 21, kBlocks = 4096;
    std::uint64_t populated[kBlocks / 64] = {};

    /// Maps the pages of [at, at+bytes) of the region before first use: one populate call per
    /// 2 MiB block instead of one page fault per page (what makes the first map over a large
    /// segment slow otherwise, each worker faulting every page it touches).
    void ensure_populated(unsigned char* base, std::uint64_t at, std::uint64_t bytes) noexcept {
        if (bytes == 0) return;
        const std::uint64_t first = at >> kBlockShift;
        const std::uint64_t last = (at + bytes - 1) >> kBlockShift;
        for (std::uint64_t b = first; b <= last; ++b) {
            if (b < kBlocks && (populated[b / 64] >> (b % 64) & 1u) != 0) continue;
            std::uint64_t lo = b << kBlockShift;
            std::uint64_t hi = (b + 1) << kBlockShift;
            if (hi > shm.size()) hi = shm.size();
            if (lo >= hi) break;
            platform::populate(base + lo, static_cast<std::size_t>(hi - lo));
            if (b < kBlocks) populated[b / 64] |= std::uint64_t{1} << (b % 64);
        }
    }
};

/// Base address of the job's region in this worker, or nullptr when it cannot be mapped.
unsigned char* region_base(const detail::PoolJob& job, unsigned char* pool_base, RegionCache& cache) noexcept {
    if (job.region_id == 0) return pool_base;
    if (cache.id == job.region_id && cache.shm.is_mapped()) return static_cast<unsigned char*>(cache.shm.data());
    cache.shm.close();
    cache.id = 0;
    for (auto& w : cache.populated) w = 0;
    if (!cache.shm.open(job.region)) return nullptr;
    if (cache.shm.size() < sizeof(detail::SegmentHeader)) return nullptr;
    const auto* h = static_cast<const detail::SegmentHeader*>(cache.shm.data());
    if (h->id != job.region_id) {  // the name now belongs to another segment
        cache.shm.close();
        return nullptr;
    }
    cache.id = job.region_id;
    return static_cast<unsigned char*>(cache.shm.data());
}

/// Runs chunk c of the job (claimed by this worker) and publishes it.
void run_chunk(detail::PoolJob& job, std::uint32_t c, std::uint32_t tag, std::uint32_t chunks,
               unsigned char* pool_base, RegionCache& cache) noexcept {
    std::uint32_t result = tag | detail::kChunkDone;
    unsigned char* base = region_base(job, pool_base, cache);
    const PoolFn fn = find_pool_function(job.fn);
    if (base != nullptr && fn != nullptr) {
        const std::uint64_t first = static_cast<std::uint64_t>(c) * job.chunk;
        const std::uint64_t n = job.count - first < job.chunk ? job.count - first : job.chunk;
        if (job.region_id != 0) {
            cache.ensure_populated(base, job.in_off + first * job.in_size, n * job.in_size);
            cache.ensure_populated(base, job.out_off + first * job.out_size, n * job.out_size);
        }
        fn(base + job.in_off + first * job.in_size, base + job.out_off + first * job.out_size,
           static_cast<std::size_t>(n));
    } else {
        result = tag | detail::kChunkNoRegion;  // (a missing fn cannot happen: same binary)
    }
    // [pool.chunk.done] release: the chunk's outputs are written; pairs with [pool.collect].
    job.state[c].store(result, std::memory_order_release);
    // [pool.count] release: pairs with the parent's [pool.count.see]; only the last chunk wakes it.
    const std::uint32_t done = job.done.fetch_add(1, std::memory_order_release) + 1;
    if (done >= chunks) platform::wake_all(job.done, kShared);
}

/// Claims and runs chunks of the posted job until a full pass finds none free. Worker w owns
/// the w-th of `workers` equal ranges of chunks and walks it forward (so repeated maps over the
/// same data give each worker the same pages), then steals from the other ranges backward (from
/// their ends, away from their owners). True when it ran any.
bool run_chunks(detail::PoolControl* control, unsigned char* pool_base, std::size_t index, RegionCache& cache,
                Progress& progress) noexcept {
    detail::PoolJob& job = control->job;
    // [pool.post.see] acquire: pairs with [pool.post]; the job's fields and fresh states are visible.
    const std::uint32_t gen = job.gen.load(std::memory_order_acquire);
    if (gen == 0) return false;
    const std::uint32_t tag = (gen & kGenMask) << 8;
    const std::uint32_t mine = tag | static_cast<std::uint32_t>(index + 1);
    const std::uint32_t chunks = job.chunks < kMaxPoolChunks ? job.chunks : static_cast<std::uint32_t>(kMaxPoolChunks);
    const std::uint64_t workers = control->workers == 0 ? 1 : control->workers;
    auto claim = [&](std::uint32_t c) noexcept {
        std::uint32_t v = job.state[c].load(std::memory_order_relaxed);  // [pool.claim] see below
        if (v != tag) return false;
        progress.hold();  // before the claim: a worker that holds a chunk always shows odd
        // [pool.claim] acquire: pairs with [pool.post] / [pool.work] (a reset for a retry); owning
        // the chunk of generation `gen` means the job (fields, inputs) is still the one posted.
        if (job.state[c].compare_exchange_strong(v, mine, std::memory_order_acquire, std::memory_order_relaxed))
            return true;
        progress.let_go();
        return false;
    };
    bool ran = false;
    for (std::uint64_t k = 0; k < workers; ++k) {
        const std::uint64_t w = (index + k) % workers;
        const auto lo = static_cast<std::uint32_t>(w * chunks / workers);
        const auto hi = static_cast<std::uint32_t>((w + 1) * chunks / workers);
        if (k == 0) {
            for (std::uint32_t c = lo; c < hi; ++c) {
                if (!claim(c)) continue;
                run_chunk(job, c, tag, chunks, pool_base, cache);
                progress.let_go();
                ran = true;
            }
        } else {
            for (std::uint32_t c = hi; c-- > lo;) {
                if (!claim(c)) continue;
                run_chunk(job, c, tag, chunks, pool_base, cache);
                progress.let_go();
                ran = true;
            }
        }
    }
    return ran;
}

/// Runs submitted calls that wait for a worker. True when it ran any.
bool run_calls(detail::PoolControl* control, std::size_t index, Progress& progress) noexcept {
    bool ran = false;
    for (auto& call : control->calls) {
        std::uint32_t st = call.state.load(std::memory_order_relaxed);  // [pool.call.take] see below
        if (st != detail::kCallPending) continue;
        progress.hold();
        // [pool.call.take] acquire: pairs with [pool.call.post]; the argument and name are visible.
        if (!call.state.compare_exchange_strong(st, detail::kCallRunning + static_cast<std::uint32_t>(index),
                                                std::memory_order_acquire, std::memory_order_relaxed)) {
            progress.let_go();
            continue;
        }
        char name[kMaxPoolFunctionName + 1];  // the name is shared memory: copy, and terminate it
        std::memcpy(name, call.fn, kMaxPoolFunctionName);
        name[kMaxPoolFunctionName] = '\0';
        if (const PoolFn fn = find_pool_function(name); fn != nullptr) fn(call.in, call.out, 1);
        // [pool.call.done] release: the result is written; pairs with [pool.call.see].
        call.state.store(detail::kCallDone, std::memory_order_release);
        platform::wake_all(call.state, kShared);
        progress.let_go();
        ran = true;
    }
    return ran;
}

constexpr int kWorkerStopAtStart = 6;
/// True in a pool worker process (spawned or forked).
constinit bool g_in_worker = false;

[[noreturn]] void worker_loop(detail::PoolControl* control, unsigned char* pool_base, std::size_t index,
                              std::size_t cpu, platform::ProcessId parent) noexcept {
    g_in_worker = true;
    // Default signal dispositions (a forked worker must not run the parent's handlers), SIGKILL
    // when the parent dies, and exit now when it is gone already.
    if (platform::harden_worker_process(parent).code() == Errc::process_died) platform::exit_process(0);
    if (cpu < platform::kMaxCpus) (void)platform::pin_current_thread(platform::CpuSet::single(cpu));
    // [pool.stop.see] acquire: a stop word set before this worker came up (a stray write: the
    // parent is not shutting down a pool it is still starting workers for) is a failed start.
    if (control->stop.load(std::memory_order_acquire) != 0) platform::exit_process(kWorkerStopAtStart);
    // [pool.pid] relaxed: "up" marker; the parent compares it with the pid it started.
    control->slots[index].pid.store(platform::current_process_id(), std::memory_order_relaxed);
    Progress progress{&control->slots[index].progress, 0};
    // On this worker's stack (worker_loop never returns; the kernel unmaps at exit). Not a
    // function-local static: its guard could be held by another parent thread at fork time.
    RegionCache cache;
    for (;;) {
        // [pool.work.see] acquire: pairs with [pool.work]; taken before looking for work so a post
        // after the look makes the wait below return at once.
        const std::uint32_t work = control->work.load(std::memory_order_acquire);
        // [pool.stop.see] acquire: pairs with [pool.stop].
        if (control->stop.load(std::memory_order_acquire) != 0) platform::exit_process(0);
        bool ran = run_calls(control, index, progress);
        ran = run_chunks(control, pool_base, index, cache, progress) || ran;
        if (ran) continue;
        auto r = detail::shared_wait(control->work, work, Deadline::after(std::chrono::milliseconds(200)));
        if (r.code() == Errc::timeout && platform::parent_process_id() != parent) platform::exit_process(0);
    }
}

}  // namespace

Result<void> register_pool_function(const char* name, PoolFn fn) noexcept { return g_fns.add(name, fn); }

PoolFn find_pool_function(const char* name) noexcept { return g_fns.find(name); }

}  // namespace staticrt::ipc

namespace staticrt::detail {
// The engine's bodies use the pool's public vocabulary (ProcessPoolOptions, MapReport, the
// limits, Process) and the worker loop above, all in staticrt::ipc.
using namespace staticrt::ipc;

Result<void> ProcessPoolBase::create_segment(platform::SharedMemory& shm, std::size_t bytes) noexcept {
    auto r = shm.create_anonymous(bytes);
    if (r || r.code() != Errc::not_supported) return r;
    // A name nobody can guess (another user cannot squat it), created exclusively.
    return shm.create_unique("staticrt-pool-", bytes);
}

int pool_worker_main(int argc, const char* const* argv) noexcept {
    if (argc < 3) return 2;
    static platform::SharedMemory shm;  // lives until the process ends
    // argv[0]: "fd:<parent pid>:<fd>" (the parent's anonymous segment) or the segment's name.
    if (std::strncmp(argv[0], "fd:", 3) == 0) {
        const char* at = argv[0] + 3;
        const long long owner = std::atoll(at);
        const char* colon = std::strchr(at, ':');
        if (colon == nullptr || !shm.open_inherited(owner, static_cast<std::intptr_t>(std::atoll(colon + 1)))) return 3;
    } else if (!shm.open(argv[0])) {
        return 3;
    }
    static_assert(alignof(PoolControl) <= kPoolHeaderBytes, "PoolControl alignment changed: update kPoolHeaderBytes");
    if (shm.size() < kPoolHeaderBytes + sizeof(PoolControl)) return 4;
    auto* base = static_cast<unsigned char*>(shm.data());
    auto* control = static_cast<PoolControl*>(static_cast<void*>(base + kPoolHeaderBytes));
    const std::size_t index = static_cast<std::size_t>(std::atoll(argv[1]));
    const long long cpu = std::atoll(argv[2]);
    if (index >= control->workers || index >= kMaxPoolWorkers) return 5;
    worker_loop(control, base, index, cpu < 0 ? platform::kMaxCpus : static_cast<std::size_t>(cpu),
                control->parent_pid);
}

int ProcessPoolBase::fork_worker(void* arg) noexcept {
    auto* a = static_cast<ForkArgs*>(arg);
    worker_loop(a->control, a->base, a->index, a->cpu, a->parent);
}

bool ProcessPoolBase::foreign() const noexcept {
    // A fork-method worker holds a copy of the pool object (started, same control block): its
    // map would post into the pool it is serving. Any call from a process other than the one
    // that started the pool is refused, like a spawn worker's own (never started) pool does.
    return g_in_worker || (m_started && m_owner != platform::current_process_id());
}

Result<void> ProcessPoolBase::start_worker(std::size_t i) noexcept {
    std::size_t cpu = platform::kMaxCpus;
    if (m_options.cpus != nullptr && !m_options.cpus->empty()) cpu = m_options.cpus->nth(i % m_options.cpus->count());
    // Zeroed before the start; the worker writes them after it (process start orders this).
    m_control->slots[i].pid.store(0, std::memory_order_relaxed);       // [pool.pid]
    m_control->slots[i].progress.store(0, std::memory_order_relaxed);  // [pool.progress]
    WorkerMeta& w = m_meta[i];
    w.stalled = false;
    w.seen_progress = 0;
    w.seen_at_ns = Instant::now().ns();
    ++m_worker_starts;
    ProcessOptions po;
    po.daemon = true;
    m_pids[i].store(0, std::memory_order_relaxed);  // [pool.pids]
    Result<void> started = ok();
    if (m_options.start_method == StartMethod::fork) {
        m_fork_args[i] = ForkArgs{m_control, m_base, i, cpu, m_owner};
        started = m_procs[i].start_fork(&fork_worker, &m_fork_args[i], po);
    } else {
        started = start_spawned(i, cpu, po);
    }
    if (started) m_pids[i].store(m_procs[i].pid(), std::memory_order_relaxed);  // [pool.pids]
    return started;
}

Result<void> ProcessPoolBase::start_spawned(std::size_t i, std::size_t cpu, const ProcessOptions& po) noexcept {
    char seg_arg[platform::kMaxSharedMemoryName + 48];
    if (m_segment->handle() >= 0) {
        char* at = seg_arg;
        std::strcpy(at, "fd:");
        at += 3;
        put_decimal(at, static_cast<std::uint64_t>(m_owner));
        *at++ = ':';
        put_decimal(at, static_cast<std::uint64_t>(m_segment->handle()));
    } else {
        std::strcpy(seg_arg, m_segment->name());
    }
    char index_arg[24];
    char cpu_arg[24];
    char* at = index_arg;
    put_decimal(at, i);
    if (cpu < platform::kMaxCpus) {
        at = cpu_arg;
        put_decimal(at, cpu);
    } else {
        std::strcpy(cpu_arg, "-1");
    }
    const char* args[] = {seg_arg, index_arg, cpu_arg, nullptr};
    return m_procs[i].start(kPoolWorkerEntry, args, po);
}

Result<void> ProcessPoolBase::start_impl(PoolControl* control, unsigned char* arena, std::size_t arena_bytes,
                                         const platform::SharedMemory* segment, const ProcessPoolOptions& options) noexcept {
    if (m_started || g_in_worker) return unexpected(Errc::invalid_argument);
    if (options.cpus != nullptr && !options.cpus->empty()) {
        // Like ThreadPool: a CPU outside this process's affinity (or the machine) is refused
        // here, not discovered by a worker that silently runs unpinned.
        auto allowed = platform::process_affinity();
        for (std::size_t k = 0; k < options.cpus->count(); ++k) {
            const std::size_t cpu = options.cpus->nth(k);
            const bool ok_cpu = allowed ? allowed->contains(cpu) : cpu < platform::logical_cpu_count();
            if (!ok_cpu) return unexpected(Errc::no_such_cpu);
        }
    }
    m_control = control;
    m_base = reinterpret_cast<unsigned char*>(control) - kPoolHeaderBytes;
    m_arena = arena;
    m_arena_bytes = arena_bytes;
    m_segment = segment;
    m_options = options;
    m_job_active = false;
    m_job_chunks = 0;
    m_broken = Errc::ok;
    m_worker_starts = 0;
    m_owner = platform::current_process_id();
    m_next_reap_ns = Instant::now().ns() + std::chrono::nanoseconds(options.liveness_interval).count();
    for (auto& c : m_calls) c.held = false;
    for (auto& w : m_meta) w = WorkerMeta{};
    control->workers = static_cast<std::uint32_t>(m_workers);
    control->arena_bytes = arena_bytes;
    control->parent_pid = m_owner;
    // A fresh segment is zero-filled: no job (gen 0), no calls, not stopped. Process start
    // orders these writes before the workers' reads.
    m_started = true;
    for (std::size_t i = 0; i < m_workers; ++i) {
        if (auto r = start_worker(i); !r) {
            (void)shutdown_impl(Deadline::after(std::chrono::seconds(2)));
            return r;
        }
    }
    return ok();
}

void ProcessPoolBase::post_work() noexcept {
    // [pool.work] release: what was posted (job, call, stop) is visible; pairs with [pool.work.see].
    m_control->work.fetch_add(1, std::memory_order_release);
    platform::wake_all(m_control->work, kShared);
}

Result<void> ProcessPoolBase::shutdown_impl(Deadline deadline) noexcept {
    if (!m_started) return ok();
    if (foreign()) return unexpected(Errc::invalid_argument);  // a forked worker's copy: not its pool
    // [pool.stop] release: pairs with [pool.stop.see].
    m_control->stop.store(1, std::memory_order_release);
    post_work();
    bool killed = false;
    for (std::size_t i = 0; i < m_workers; ++i) {
        if (m_procs[i].pid() == 0 || !m_procs[i].is_alive()) continue;
        if (!m_procs[i].join(deadline)) {  // stuck (a loop, SIGSTOP): killed
            (void)m_procs[i].kill();
            (void)m_procs[i].join(Deadline::never());
            killed = true;
        }
    }
    // Calls still in flight end failed (their handles see the generation change).
    for (auto& c : m_calls) {
        c.held = false;
        ++c.gen;
    }
    m_job_active = false;
    m_started = false;
    for (auto& p : m_pids) p.store(0, std::memory_order_relaxed);  // [pool.pids]
    if (killed) return unexpected(Errc::timeout);
    return ok();
}

std::size_t ProcessPoolBase::live_workers() noexcept {
    std::size_t n = 0;
    for (std::size_t i = 0; i < m_workers; ++i) n += m_procs[i].is_alive() ? 1 : 0;
    return n;
}

platform::ProcessId ProcessPoolBase::worker_pid(std::size_t i) const noexcept {
    if (i >= m_workers) return 0;
    // [pool.pids] relaxed: a diagnostic value; the parent's own record (set when the start
    // returned), never read back from the segment.
    return m_pids[i].load(std::memory_order_relaxed);
}

Errc ProcessPoolBase::health() noexcept {
    // [pool.stop.see] relaxed: the parent only sets stop in shutdown(), after its last call, so a
    // stop word seen here is a stray write; nothing else is read on its strength.
    if (m_broken == Errc::ok && m_started && m_control->stop.load(std::memory_order_relaxed) != 0)
        m_broken = Errc::corrupted;
    return m_broken;
}

void ProcessPoolBase::reap_if_due(MapReport* rep) noexcept {
    if (Instant::now().ns() < m_next_reap_ns) return;
    reap(rep);
}

void ProcessPoolBase::reap(MapReport* rep) noexcept {
    const std::int64_t now = Instant::now().ns();
    const std::int64_t interval_ns = std::chrono::nanoseconds(m_options.liveness_interval).count();
    const std::int64_t stall_ns = std::chrono::nanoseconds(m_options.stall_timeout).count();
    m_next_reap_ns = now + interval_ns;
    if (!m_started) return;
    bool repost = false;
    PoolJob& job = m_control->job;
    const std::uint32_t tag = (m_gen & kGenMask) << 8;
    // The parent's own count, never job.chunks: the segment is writable by every worker.
    const std::uint32_t chunks = m_job_active ? m_job_chunks : 0;
    auto schedule_retry = [&](WorkerMeta& w) noexcept {
        ++w.start_failures;
        std::int64_t backoff = interval_ns << (w.start_failures < 8 ? w.start_failures - 1 : 7);
        if (backoff > 1'000'000'000) backoff = 1'000'000'000;
        w.next_start_ns = now + backoff;
        if (w.start_failures >= m_options.max_start_failures && m_broken == Errc::ok) {
            // [pool.stop.see] relaxed: diagnosis only. The parent never sets stop while running,
            // so a stop word here is a stray write into the control block.
            m_broken = m_control->stop.load(std::memory_order_relaxed) != 0 ? Errc::corrupted : Errc::process_died;
        }
    };
    for (std::size_t i = 0; i < m_workers; ++i) {
        WorkerMeta& w = m_meta[i];
        if (!w.down) {
            if (m_procs[i].pid() != 0 && m_procs[i].is_alive()) {
                if (stall_ns > 0) {
                    // [pool.progress] relaxed: see Progress.
                    const std::uint64_t p = m_control->slots[i].progress.load(std::memory_order_relaxed);
                    if (p != w.seen_progress) {
                        w.seen_progress = p;
                        w.seen_at_ns = now;
                    } else if ((p & 1u) != 0 && now - w.seen_at_ns > stall_ns && !w.stalled) {
                        // Holds one chunk / call for longer than stall_timeout: stuck (a loop,
                        // SIGSTOP, a debugger). SIGKILL ends a stopped process too.
                        w.stalled = true;
                        if (rep != nullptr) ++rep->stalled_workers;
                        (void)m_procs[i].kill();
                        (void)m_procs[i].join(Deadline::after(std::chrono::seconds(5)));
                    }
                }
                if (m_procs[i].status().kind == ExitKind::running) continue;
            }
            // Reaped: worker i runs nothing any more. Its chunk / call in flight is retried or failed.
            const std::uint32_t owner = tag | static_cast<std::uint32_t>(i + 1);
            for (std::uint32_t c = 0; c < chunks; ++c) {
                // [pool.collect] acquire: pairs with [pool.chunk.done] (a chunk it finished counts).
                if (job.state[c].load(std::memory_order_acquire) != owner) continue;
                if (m_chunk_attempts[c] < m_options.max_retries) {
                    ++m_chunk_attempts[c];
                    if (rep != nullptr) ++rep->retried_chunks;
                    // [pool.retry] relaxed: the job is unchanged; [pool.work] publishes the repost.
                    job.state[c].store(tag, std::memory_order_relaxed);
                    repost = true;
                } else {
                    job.state[c].store(tag | kChunkFailed, std::memory_order_relaxed);  // parent-only reader
                }
            }
            for (std::size_t k = 0; k < kMaxPoolCalls; ++k) {
                PoolCall& call = m_control->calls[k];
                // [pool.call.see] acquire: pairs with [pool.call.done].
                if (call.state.load(std::memory_order_acquire) != kCallRunning + i) continue;
                m_calls[k].stalled = w.stalled;
                if (m_calls[k].attempts < m_options.max_retries) {
                    ++m_calls[k].attempts;
                    // [pool.call.post] release: argument unchanged; pairs with [pool.call.take].
                    call.state.store(kCallPending, std::memory_order_release);
                    repost = true;
                } else {
                    call.state.store(kCallFailed, std::memory_order_relaxed);  // parent-only reader
                }
            }
            if (rep != nullptr) ++rep->worker_restarts;
            w.down = true;
            m_pids[i].store(0, std::memory_order_relaxed);  // [pool.pids]
            // [pool.pid] relaxed: did it come up? A replacement that exited by itself before it
            // did (cannot map the segment, saw a stray stop word) is a failed start.
            const bool came_up = m_control->slots[i].pid.load(std::memory_order_relaxed) == m_procs[i].pid();
            if (came_up || m_procs[i].status().kind != ExitKind::exited) {
                if (came_up) w.start_failures = 0;
                w.next_start_ns = now;
            } else {
                schedule_retry(w);
            }
        }
        if (w.down && m_broken == Errc::ok && now >= w.next_start_ns) {
            if (start_worker(i)) w.down = false;
            else schedule_retry(w);
        }
    }
    if (repost) post_work();
}

void ProcessPoolBase::cancel_job(MapReport* rep) noexcept {
    if (!m_job_active) return;
    PoolJob& job = m_control->job;
    const std::uint32_t tag = (m_gen & kGenMask) << 8;
    for (std::uint32_t c = 0; c < m_job_chunks; ++c) {
        std::uint32_t v = tag;
        // [pool.cancel] relaxed: a free chunk becomes failed; a worker's claim CAS (which expects
        // `tag`) fails from then on. Nothing is published with it.
        (void)job.state[c].compare_exchange_strong(v, tag | kChunkFailed, std::memory_order_relaxed);
    }
    // No chunk can be claimed any more: the workers that hold one are killed before the caller
    // gets its memory back, and their chunks are given up (not retried).
    for (std::size_t i = 0; i < m_workers; ++i) {
        const std::uint32_t owner = tag | static_cast<std::uint32_t>(i + 1);
        bool holds = false;
        for (std::uint32_t c = 0; c < m_job_chunks; ++c) {
            // [pool.collect] acquire: pairs with [pool.chunk.done].
            if (job.state[c].load(std::memory_order_acquire) == owner) {
                holds = true;
                job.state[c].store(tag | kChunkFailed, std::memory_order_relaxed);  // parent-only reader
            }
        }
        if (!holds || m_meta[i].down || m_procs[i].pid() == 0) continue;
        (void)m_procs[i].kill();
        (void)m_procs[i].join(Deadline::never());
    }
    m_job_active = false;
    reap(rep);  // replaces the killed workers (their calls in flight are retried as after a death)
}

Result<MapReport> ProcessPoolBase::map_impl(const char* fn, const void* in, std::size_t in_size, void* out,
                                            std::size_t out_size, std::size_t count, bool* item_ok,
                                            Deadline deadline) noexcept {
    if (!m_started || foreign() || find_pool_function(fn) == nullptr || std::strlen(fn) > kMaxPoolFunctionName)
        return unexpected(Errc::invalid_argument);
    if (health() != Errc::ok) return unexpected(m_broken);
    MapReport total;
    if (count == 0) return total;
    if (deadline.is_poll() || deadline.expired()) return unexpected(Errc::timeout);  // passed: nothing runs
    // align64(b * in_size) <= b * in_size + 63, so this batch always fits with its padding.
    const std::size_t batch = (m_arena_bytes - 64) / (in_size + out_size);
    if (batch == 0) return unexpected(Errc::invalid_argument);  // one item does not fit the arena
    const auto* src = static_cast<const unsigned char*>(in);
    auto* dst = static_cast<unsigned char*>(out);
    const std::size_t arena_off = static_cast<std::size_t>(m_arena - m_base);
    for (std::size_t first = 0; first < count; first += batch) {
        const std::size_t n = count - first < batch ? count - first : batch;
        const std::size_t out_off = align64(n * in_size);
        std::memcpy(m_arena, src + first * in_size, n * in_size);
        auto r = run_job(fn, "", 0, arena_off, in_size, arena_off + out_off, out_size, n,
                         item_ok == nullptr ? nullptr : item_ok + first, deadline);
        if (!r) return r;
        std::memcpy(dst + first * out_size, m_arena + out_off, n * out_size);
        total.completed += r->completed;
        total.failed += r->failed;
        total.retried_chunks += r->retried_chunks;
        total.worker_restarts += r->worker_restarts;
        total.stalled_workers += r->stalled_workers;
    }
    return total;
}

Result<MapReport> ProcessPoolBase::map_shared_impl(const char* fn, const char* region, std::uint64_t region_id,
                                                   std::size_t in_off, std::size_t in_size, std::size_t out_off,
                                                   std::size_t out_size, std::size_t count, bool* item_ok,
                                                   Deadline deadline) noexcept {
    if (!m_started || foreign() || find_pool_function(fn) == nullptr || std::strlen(fn) > kMaxPoolFunctionName ||
        region == nullptr || region_id == 0 || std::strlen(region) >= platform::kMaxSharedMemoryName)
        return unexpected(Errc::invalid_argument);
    if (health() != Errc::ok) return unexpected(m_broken);
    if (count == 0) return MapReport{};
    if (deadline.is_poll() || deadline.expired()) return unexpected(Errc::timeout);  // passed: nothing runs
    return run_job(fn, region, region_id, in_off, in_size, out_off, out_size, count, item_ok, deadline);
}

Result<MapReport> ProcessPoolBase::run_job(const char* fn, const char* region, std::uint64_t region_id,
                                           std::size_t in_off, std::size_t in_size, std::size_t out_off,
                                           std::size_t out_size, std::size_t count, bool* item_ok,
                                           Deadline deadline) noexcept {
    MapReport rep;
    std::size_t chunk = m_options.chunk;
    if (chunk == 0) chunk = count / (m_workers * 16);
    if (chunk == 0) chunk = 1;
    if ((count + chunk - 1) / chunk > kMaxPoolChunks) chunk = (count + kMaxPoolChunks - 1) / kMaxPoolChunks;
    const auto chunks = static_cast<std::uint32_t>((count + chunk - 1) / chunk);

    reap_if_due(&rep);
    if (health() != Errc::ok) return unexpected(m_broken);
    PoolJob& job = m_control->job;
    m_gen = (m_gen + 1) & kGenMask;
    if (m_gen == 0) m_gen = 1;
    const std::uint32_t tag = m_gen << 8;
    job.chunks = chunks;
    m_job_chunks = chunks;
    job.count = count;
    job.chunk = chunk;
    job.in_off = in_off;
    job.out_off = out_off;
    job.in_size = in_size;
    job.out_size = out_size;
    job.region_id = region_id;
    std::strcpy(job.fn, fn);
    std::strcpy(job.region, region);
    for (std::uint32_t c = 0; c < chunks; ++c) {
        job.state[c].store(tag, std::memory_order_relaxed);  // [pool.post] publishes these
        m_chunk_attempts[c] = 0;
    }
    job.done.store(0, std::memory_order_relaxed);  // [pool.post] publishes it
    // [pool.post] release: fields, inputs and fresh chunk states are visible; pairs with [pool.post.see].
    job.gen.store(m_gen, std::memory_order_release);
    m_job_active = true;
    post_work();

    // Completion: the worker that finishes the last chunk wakes us ([pool.count]); then one scan
    // of the chunk states confirms it. Every liveness_interval while waiting we also reap dead
    // (and stalled) workers; after a death, counts can fall short (a worker killed between its
    // chunk and its count), so from then on each check scans.
    bool scan_each_check = false;
    Deadline check = Deadline::after(m_options.liveness_interval);
    for (;;) {
        // [pool.count.see] acquire: pairs with [pool.count].
        const std::uint32_t done = job.done.load(std::memory_order_acquire);
        const bool checking = check.expired();
        if (done >= chunks || checking) {
            if (checking) {
                const std::size_t restarts = rep.worker_restarts;
                reap(&rep);
                if (m_broken != Errc::ok) {
                    cancel_job(&rep);
                    return unexpected(m_broken);  // workers cannot be (re)started
                }
                if (rep.worker_restarts != restarts) scan_each_check = true;
                check = Deadline::after(m_options.liveness_interval);
            }
            if (done >= chunks || scan_each_check) {
                bool complete = true;
                std::uint32_t first_free = chunks;
                for (std::uint32_t c = 0; c < chunks; ++c) {
                    // [pool.collect] acquire: pairs with [pool.chunk.done]; the outputs are visible.
                    const std::uint32_t v = job.state[c].load(std::memory_order_acquire);
                    const std::uint32_t owner = v & 0xFFu;
                    if (owner != kChunkDone && owner != kChunkFailed && owner != kChunkNoRegion) {
                        complete = false;
                        if (owner == 0 && first_free == chunks) first_free = c;
                    }
                }
                if (complete) break;
                // Belt and braces after a death: free chunks and maybe sleeping workers.
                if (scan_each_check && first_free < chunks) post_work();
            }
        }
        if (deadline.expired() || deadline.is_poll()) {
            cancel_job(&rep);
            return unexpected(Errc::timeout);
        }
        (void)shared_wait(job.done, done, earlier(check, deadline));
    }
    m_job_active = false;
    for (std::uint32_t c = 0; c < chunks; ++c) {
        const std::uint32_t owner = job.state[c].load(std::memory_order_relaxed) & 0xFFu;  // [pool.collect] seen above
        const std::size_t first = static_cast<std::size_t>(c) * chunk;
        const std::size_t n = count - first < chunk ? count - first : chunk;
        const bool good = owner == kChunkDone;
        (good ? rep.completed : rep.failed) += n;
        if (item_ok != nullptr)
            for (std::size_t k = 0; k < n; ++k) item_ok[first + k] = good;
    }
    return rep;
}

Result<std::uint64_t> ProcessPoolBase::submit_impl(const char* fn, const void* in, std::size_t in_size,
                                                   std::size_t out_size) noexcept {
    if (!m_started || foreign() || find_pool_function(fn) == nullptr || std::strlen(fn) > kMaxPoolFunctionName)
        return unexpected(Errc::invalid_argument);
    reap_if_due(nullptr);  // replaces dead workers even when no get() waits long enough to look
    if (health() != Errc::ok) return unexpected(m_broken);
    for (std::size_t k = 0; k < kMaxPoolCalls; ++k) {
        if (m_calls[k].held) continue;
        PoolCall& call = m_control->calls[k];
        // [pool.call.see] acquire: pairs with [pool.call.done]; a released call still running keeps its slot.
        const std::uint32_t st = call.state.load(std::memory_order_acquire);
        if (st != kCallFree && st != kCallDone && st != kCallFailed) continue;
        m_calls[k].held = true;
        m_calls[k].attempts = 0;
        m_calls[k].stalled = false;
        const std::uint32_t gen = ++m_calls[k].gen;
        std::strcpy(call.fn, fn);
        call.in_size = static_cast<std::uint32_t>(in_size);
        call.out_size = static_cast<std::uint32_t>(out_size);
        std::memcpy(call.in, in, in_size);
        // [pool.call.post] release: name and argument are visible; pairs with [pool.call.take].
        call.state.store(kCallPending, std::memory_order_release);
        post_work();
        return (static_cast<std::uint64_t>(k) << 32) | gen;
    }
    return unexpected(Errc::exhausted);
}

bool ProcessPoolBase::call_ready(std::uint32_t slot, std::uint32_t gen) noexcept {
    if (slot >= kMaxPoolCalls || !m_calls[slot].held || m_calls[slot].gen != gen) return false;
    auto final_state = [&] {
        // [pool.call.see] acquire: pairs with [pool.call.done].
        const std::uint32_t st = m_control->calls[slot].state.load(std::memory_order_acquire);
        return st == kCallDone || st == kCallFailed;
    };
    if (final_state()) return true;
    reap(nullptr);
    return final_state() || m_broken != Errc::ok;
}

Result<void> ProcessPoolBase::call_wait(std::uint32_t slot, std::uint32_t gen, Deadline deadline) noexcept {
    if (slot >= kMaxPoolCalls || !m_calls[slot].held || m_calls[slot].gen != gen) return unexpected(Errc::invalid_argument);
    PoolCall& call = m_control->calls[slot];
    Deadline check = Deadline::after(m_options.liveness_interval);
    for (;;) {
        // [pool.call.see] acquire: pairs with [pool.call.done].
        const std::uint32_t st = call.state.load(std::memory_order_acquire);
        if (st == kCallDone || st == kCallFailed) return ok();
        if (health() != Errc::ok) return unexpected(m_broken);
        if (check.expired()) {
            reap(nullptr);
            check = Deadline::after(m_options.liveness_interval);
            continue;
        }
        if (deadline.expired() || deadline.is_poll()) return unexpected(Errc::timeout);
        (void)shared_wait(call.state, st, earlier(deadline, check));
    }
}

Result<void> ProcessPoolBase::call_take(std::uint32_t slot, std::uint32_t gen, void* out, std::size_t out_size) noexcept {
    if (slot >= kMaxPoolCalls || !m_calls[slot].held || m_calls[slot].gen != gen) return unexpected(Errc::invalid_argument);
    PoolCall& call = m_control->calls[slot];
    // [pool.call.see] acquire: pairs with [pool.call.done]; the result is visible.
    const std::uint32_t st = call.state.load(std::memory_order_acquire);
    m_calls[slot].held = false;
    if (st == kCallDone) {
        std::memcpy(out, call.out, out_size);
        call.state.store(kCallFree, std::memory_order_relaxed);  // parent-only transition out of done
        return ok();
    }
    if (st == kCallFailed) {
        call.state.store(kCallFree, std::memory_order_relaxed);
        return unexpected(m_calls[slot].stalled ? Errc::process_stalled : Errc::process_died);
    }
    return unexpected(Errc::invalid_argument);  // not ready: call_wait() first
}

void ProcessPoolBase::call_release(std::uint32_t slot, std::uint32_t gen) noexcept {
    if (slot >= kMaxPoolCalls || !m_calls[slot].held || m_calls[slot].gen != gen) return;
    m_calls[slot].held = false;
    // Not started yet: cancel it. Running: the slot comes back when its worker is done (submit
    // skips slots that are not final).
    std::uint32_t expected = kCallPending;
    // [pool.call.cancel] relaxed: only the state word changes hands; nothing is read after it.
    (void)m_control->calls[slot].state.compare_exchange_strong(expected, kCallFree, std::memory_order_relaxed);
}

}  // namespace staticrt::detail
