// ProcessPool's engine: worker start/replacement, chunk dispatch and death handling, and the
// worker loop (spawned or forked).
#include "staticrt/ipc/process_pool.hpp"

#include <cstdlib>
#include <cstring>

#include "staticrt/ipc/detail/shared_wait.hpp"
#include "staticrt/platform/shared_memory.hpp"
#include "staticrt/platform/wait.hpp"

namespace staticrt::ipc {
namespace {

constexpr auto kShared = platform::WaitScope::process_shared;

struct FnEntry {
    const char* name;
    PoolFn fn;
    std::atomic<std::uint32_t> ready;
};
constinit FnEntry g_fns[kMaxPoolFunctions] = {};
constinit std::atomic<std::uint32_t> g_fn_count{0};
constinit std::atomic<std::uint32_t> g_pool_counter{0};

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

[[noreturn]] void worker_loop(detail::PoolControl* control, unsigned char* arena, std::size_t index,
                              std::size_t cpu) noexcept {
    if (cpu < platform::kMaxCpus) (void)platform::pin_current_thread(platform::CpuSet::single(cpu));
    detail::PoolSlot& slot = control->slots[index];
    const platform::ProcessId parent = platform::parent_process_id();
    // [pool.pid] relaxed: informational (tests, diagnostics).
    slot.pid.store(platform::current_process_id(), std::memory_order_relaxed);
    for (;;) {
        // [pool.take] acquire: pairs with [pool.assign]; the task fields and inputs are visible.
        const std::uint32_t st = slot.state.load(std::memory_order_acquire);
        if (st == detail::kSlotAssigned) {
            const PoolFn fn = find_pool_function(slot.fn);
            if (fn != nullptr) {
                fn(arena + slot.in_off, arena + slot.out_off, static_cast<std::size_t>(slot.count));
            }
            // A missing function cannot happen (the parent checked the name in the same binary);
            // if it did, the chunk is reported done with untouched outputs rather than hanging.
            // [pool.done] release: outputs are written; pairs with [pool.collect].
            slot.state.store(detail::kSlotDone, std::memory_order_release);
            // [pool.event] release: pairs with the parent's acquire load before it sleeps.
            control->event.fetch_add(1, std::memory_order_release);
            platform::wake_all(control->event, kShared);
        } else if (st == detail::kSlotStop) {
            platform::exit_process(0);
        } else {
            auto r = detail::shared_wait(slot.state, st, Deadline::after(std::chrono::milliseconds(200)));
            if (r.code() == Errc::timeout && platform::parent_process_id() != parent) platform::exit_process(0);
        }
    }
}

}  // namespace

Result<void> register_pool_function(const char* name, PoolFn fn) noexcept {
    if (name == nullptr || fn == nullptr || name[0] == '\0' || std::strlen(name) > kMaxPoolFunctionName)
        return unexpected(Errc::invalid_argument);
    if (find_pool_function(name) != nullptr) return unexpected(Errc::invalid_argument);
    // [poolfn.claim] relaxed: distinct slots only; publication is [poolfn.publish].
    const std::uint32_t i = g_fn_count.fetch_add(1, std::memory_order_relaxed);
    if (i >= kMaxPoolFunctions) {
        g_fn_count.fetch_sub(1, std::memory_order_relaxed);
        return unexpected(Errc::exhausted);
    }
    g_fns[i].name = name;
    g_fns[i].fn = fn;
    // [poolfn.publish] release: pairs with [poolfn.lookup].
    g_fns[i].ready.store(1, std::memory_order_release);
    return ok();
}

PoolFn find_pool_function(const char* name) noexcept {
    if (name == nullptr) return nullptr;
    for (auto& e : g_fns) {
        // [poolfn.lookup] acquire: pairs with [poolfn.publish].
        if (e.ready.load(std::memory_order_acquire) == 1 && std::strcmp(e.name, name) == 0) return e.fn;
    }
    return nullptr;
}

namespace detail {

void make_pool_name(char* out) noexcept {
    std::strcpy(out, "staticrt-pool-");
    char* at = out + std::strlen(out);
    put_decimal(at, static_cast<std::uint64_t>(platform::current_process_id()));
    *at++ = '-';
    // [pool.name] relaxed: only uniqueness matters.
    put_decimal(at, g_pool_counter.fetch_add(1, std::memory_order_relaxed));
}

int pool_worker_main(int argc, const char* const* argv) noexcept {
    if (argc < 3) return 2;
    static platform::SharedMemory shm;  // lives until the process ends
    if (!shm.open(argv[0])) return 3;
    constexpr std::size_t kHeader = 64;  // SharedSegment<PoolBlock<N>>::kHeaderBytes
    static_assert(alignof(PoolControl) <= kHeader, "PoolControl alignment changed: update kHeader");
    if (shm.size() < kHeader + sizeof(PoolControl)) return 4;
    auto* base = static_cast<unsigned char*>(shm.data());
    auto* control = static_cast<PoolControl*>(static_cast<void*>(base + kHeader));
    auto* arena = base + kHeader + sizeof(PoolControl);
    const std::size_t index = static_cast<std::size_t>(std::atoll(argv[1]));
    const long long cpu = std::atoll(argv[2]);
    if (index >= control->workers) return 5;
    worker_loop(control, arena, index, cpu < 0 ? platform::kMaxCpus : static_cast<std::size_t>(cpu));
}

int ProcessPoolBase::fork_worker(void* arg) noexcept {
    auto* a = static_cast<ForkArgs*>(arg);
    worker_loop(a->control, a->arena, a->index, a->cpu);
}

Result<void> ProcessPoolBase::start_worker(std::size_t i) noexcept {
    std::size_t cpu = platform::kMaxCpus;
    if (m_options.cpus != nullptr && !m_options.cpus->empty()) cpu = m_options.cpus->nth(i % m_options.cpus->count());
    m_control->slots[i].pid.store(0, std::memory_order_relaxed);  // [pool.pid] see worker_loop
    ProcessOptions po;
    po.daemon = true;
    if (m_options.start_method == StartMethod::fork) {
        m_fork_args[i] = ForkArgs{m_control, m_arena, i, cpu};
        return m_procs[i].start_fork(&fork_worker, &m_fork_args[i], po);
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
    const char* args[] = {m_segment, index_arg, cpu_arg, nullptr};
    return m_procs[i].start(kPoolWorkerEntry, args, po);
}

Result<void> ProcessPoolBase::start_impl(PoolControl* control, unsigned char* arena, std::size_t arena_bytes,
                                         const char* segment, const PoolOptions& options) noexcept {
    if (m_started) return unexpected(Errc::invalid_argument);
    m_control = control;
    m_arena = arena;
    m_arena_bytes = arena_bytes;
    m_segment = segment;
    m_options = options;
    control->workers = static_cast<std::uint32_t>(m_workers);
    control->arena_bytes = arena_bytes;
    for (std::size_t i = 0; i < m_workers; ++i) {
        // [pool.assign] relaxed here: no worker runs yet; process start orders it.
        control->slots[i].state.store(kSlotIdle, std::memory_order_relaxed);
    }
    m_started = true;
    for (std::size_t i = 0; i < m_workers; ++i) {
        if (auto r = start_worker(i); !r) {
            shutdown_impl();
            return r;
        }
    }
    return ok();
}

void ProcessPoolBase::shutdown_impl() noexcept {
    if (!m_started) return;
    for (std::size_t i = 0; i < m_workers; ++i) {
        // [pool.stop] release: pairs with [pool.take].
        m_control->slots[i].state.store(kSlotStop, std::memory_order_release);
        platform::wake_all(m_control->slots[i].state, kShared);
    }
    for (std::size_t i = 0; i < m_workers; ++i) {
        if (m_procs[i].pid() == 0 || !m_procs[i].is_alive()) continue;
        if (!m_procs[i].join(Deadline::after(std::chrono::seconds(2)))) {
            (void)m_procs[i].kill();
            (void)m_procs[i].join(Deadline::never());
        }
    }
    m_started = false;
}

std::size_t ProcessPoolBase::live_workers() noexcept {
    std::size_t n = 0;
    for (std::size_t i = 0; i < m_workers; ++i) n += m_procs[i].is_alive() ? 1 : 0;
    return n;
}

platform::ProcessId ProcessPoolBase::worker_pid(std::size_t i) const noexcept {
    if (i >= m_workers || m_control == nullptr) return 0;
    return m_control->slots[i].pid.load(std::memory_order_relaxed);  // [pool.pid]
}

Result<MapReport> ProcessPoolBase::map_impl(const char* fn, const void* in, std::size_t in_size, void* out,
                                            std::size_t out_size, std::size_t count, bool* item_ok) noexcept {
    if (!m_started || find_pool_function(fn) == nullptr || std::strlen(fn) > kMaxPoolFunctionName)
        return unexpected(Errc::invalid_argument);
    MapReport total;
    if (count == 0) return total;
    // align64(b * in_size) <= b * in_size + 63, so this batch always fits with its padding.
    const std::size_t batch = (m_arena_bytes - 64) / (in_size + out_size);
    if (batch == 0) return unexpected(Errc::invalid_argument);  // one item does not fit the arena
    const auto* src = static_cast<const unsigned char*>(in);
    auto* dst = static_cast<unsigned char*>(out);
    for (std::size_t first = 0; first < count; first += batch) {
        const std::size_t n = count - first < batch ? count - first : batch;
        const std::size_t in_off = 0;
        const std::size_t out_off = align64(n * in_size);
        std::memcpy(m_arena + in_off, src + first * in_size, n * in_size);
        auto r = run_batch(fn, in_size, out_size, n, in_off, out_off, item_ok == nullptr ? nullptr : item_ok + first);
        if (!r) return r;
        std::memcpy(dst + first * out_size, m_arena + out_off, n * out_size);
        total.completed += r->completed;
        total.failed += r->failed;
        total.retried_chunks += r->retried_chunks;
        total.worker_restarts += r->worker_restarts;
    }
    return total;
}

Result<MapReport> ProcessPoolBase::run_batch(const char* fn, std::size_t in_size, std::size_t out_size,
                                             std::size_t count, std::size_t in_off, std::size_t out_off,
                                             bool* item_ok) noexcept {
    MapReport rep;
    std::size_t chunk = m_options.chunk;
    if (chunk == 0) chunk = count / (m_workers * 8);
    if (chunk == 0) chunk = 1;
    const std::size_t chunks = (count + chunk - 1) / chunk;
    std::size_t next = 0;
    std::size_t remaining = chunks;
    m_retry_count = 0;
    bool busy[kMaxPoolWorkers] = {};

    auto chunk_items = [&](std::size_t c, std::size_t& first, std::size_t& n) {
        first = c * chunk;
        n = count - first < chunk ? count - first : chunk;
    };
    auto finish = [&](std::size_t c, bool good) {
        std::size_t first = 0, n = 0;
        chunk_items(c, first, n);
        if (good) rep.completed += n;
        else rep.failed += n;
        if (item_ok != nullptr)
            for (std::size_t k = 0; k < n; ++k) item_ok[first + k] = good;
        --remaining;
    };

    while (remaining > 0) {
        // [pool.event] acquire: pairs with the workers' release bump; taken before the scan so a
        // completion during the scan makes the wait below return at once.
        const std::uint32_t ev = m_control->event.load(std::memory_order_acquire);
        std::size_t live = 0;
        for (std::size_t i = 0; i < m_workers; ++i) {
            PoolSlot& slot = m_control->slots[i];
            // [pool.collect] acquire: pairs with [pool.done]; outputs of the chunk are visible.
            std::uint32_t st = slot.state.load(std::memory_order_acquire);
            if (st == kSlotDone && busy[i]) {
                finish(m_current[i].chunk, true);
                busy[i] = false;
                slot.state.store(kSlotIdle, std::memory_order_relaxed);  // only the parent moves done->idle
                st = kSlotIdle;
            }
            if (!m_procs[i].is_alive()) {
                // Reaped. A chunk it published before dying counts; otherwise retry or fail it.
                st = slot.state.load(std::memory_order_acquire);  // [pool.collect]
                if (busy[i]) {
                    if (st == kSlotDone) {
                        finish(m_current[i].chunk, true);
                    } else if (m_current[i].attempts < m_options.max_retries) {
                        m_retry[m_retry_count++] = Work{m_current[i].chunk, m_current[i].attempts + 1};
                        ++rep.retried_chunks;
                    } else {
                        finish(m_current[i].chunk, false);
                    }
                    busy[i] = false;
                }
                slot.state.store(kSlotIdle, std::memory_order_relaxed);  // no worker runs on it now
                ++rep.worker_restarts;
                if (!start_worker(i)) continue;  // try again on the next round
                st = kSlotIdle;
            }
            ++live;
            if (st == kSlotIdle && !busy[i] && (m_retry_count > 0 || next < chunks)) {
                Work w = m_retry_count > 0 ? m_retry[--m_retry_count] : Work{next++, 0};
                std::size_t first = 0, n = 0;
                chunk_items(w.chunk, first, n);
                std::strcpy(slot.fn, fn);
                slot.in_off = in_off + first * in_size;
                slot.out_off = out_off + first * out_size;
                slot.count = n;
                slot.in_size = in_size;
                slot.out_size = out_size;
                m_current[i] = w;
                busy[i] = true;
                // [pool.assign] release: task fields and inputs are visible; pairs with [pool.take].
                slot.state.store(kSlotAssigned, std::memory_order_release);
                platform::wake_all(slot.state, kShared);
            }
        }
        if (live == 0) return unexpected(Errc::process_died);  // no worker could be (re)started
        if (remaining > 0) {
            (void)shared_wait(m_control->event, ev, Deadline::after(m_options.liveness_interval));
        }
    }
    return rep;
}

}  // namespace detail
}  // namespace staticrt::ipc
