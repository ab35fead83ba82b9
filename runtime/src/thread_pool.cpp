// SPDX-License-Identifier: MIT
// ThreadPool's capacity-erased engine: the worker loop, wait_idle, shutdown, parallel jobs, over
// the task ring and sleep/wake protocol of exec/detail/task_ring.hpp. Memory-ordering IDs are listed in docs/memory-ordering.md
// ("## thread pool").
#include "staticrt/exec/detail/pool_core.hpp"

#include <chrono>
#include <new>

#include "staticrt/platform/memory.hpp"
#include "staticrt/platform/wait.hpp"

namespace staticrt::detail {
namespace {

constexpr std::uint32_t kPosMask = TaskRing<OsWaitPolicy>::kPosMask;

void add_relaxed(std::atomic<std::uint64_t>& a, std::uint64_t v) noexcept {
    // [pool.stat] relaxed load + store: single writer (the worker); readers want a recent value only.
    a.store(a.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
}

/// A publish time for CellHeader::stamp: the monotonic clock in 4 ns units, low 32 bits (wraps
/// every ~17.18 s; a queue wait is the wrapping difference of two stamps).
std::uint32_t latency_stamp(std::int64_t ns) noexcept { return static_cast<std::uint32_t>(static_cast<std::uint64_t>(ns) >> 2); }

/// Marks a polling stretch that began at a kernel wake: its start is the next clock read.
constexpr std::int64_t kSinceWake = -1;

void run_chunks(ParallelJob& job) noexcept {
    for (;;) {
        // With a deadline, no chunk starts after it; the caller reports Errc::timeout.
        if (job.has_deadline && job.deadline.expired()) return;
        // [pool.chunk] relaxed: hands out distinct chunk indices; results are published by
        // [pool.helper_done] (helpers) or belong to the caller itself.
        const std::size_t k = job.next.fetch_add(1, std::memory_order_relaxed);
        if (k >= job.chunks) return;
        const std::size_t b = job.first + k * job.chunk;
        const std::size_t left = job.first + job.count - b;
        job.body(job.ctx, b, b + (left < job.chunk ? left : job.chunk));
    }
}

struct HelperTask {
    ParallelJob* job;
    std::atomic<std::uint32_t>* epoch;
};

void helper_finish(const HelperTask& h) noexcept {
    std::atomic<std::uint32_t>* epoch = h.epoch;
    // [pool.helper_done] acq_rel: release publishes this helper's results to the caller's acquire
    // load of `active`; after this the ParallelJob may be gone, so only pool memory is touched.
    if (h.job->active.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        epoch->fetch_add(1, std::memory_order_release);  // [pool.par_epoch] pairs with run_parallel's acquire
        platform::wake_all(*epoch);
    }
}

void helper_run(void* data, const RunContext&) noexcept {
    const HelperTask h = *static_cast<HelperTask*>(data);
    run_chunks(*h.job);
    helper_finish(h);
}
void helper_cancel(void* data) noexcept { helper_finish(*static_cast<HelperTask*>(data)); }
void helper_relocate(void* dst, void* src) noexcept { ::new (dst) HelperTask(*static_cast<HelperTask*>(src)); }

constexpr JobOps kHelperOps{&helper_run, &helper_cancel, &helper_relocate};

}  // namespace

void RunContext::report_failure(Error e) const noexcept { pool->report(worker, e); }
void RunContext::report_future_failure(Error e) const noexcept {
    if (pool->reports_future_failures()) pool->report(worker, e);
}

bool PoolCore::closed() const noexcept { return m_ring.closed(); }

Errc PoolCore::claim(CellClaim& c, Deadline deadline) noexcept { return m_ring.claim(c, deadline, spin_policy()); }

// Out of line, as before the ring became a header template: the submit templates stay small.
// With task latency on, publish_stamped() (a tail call) stamps the task; [pool.publish] in
// m_ring.publish() publishes the stamp. Off, this path is one compare longer than before.
void PoolCore::publish(const CellClaim& c, const JobOps* ops) noexcept {
    if (m_latency != nullptr) return publish_stamped(c, ops);
    m_ring.publish(c, ops);
}

void PoolCore::publish_stamped(const CellClaim& c, const JobOps* ops) noexcept {
    c.cell->stamp = latency_stamp(Instant::now().ns());
    m_ring.publish(c, ops);
}

void PoolCore::run_or_cancel(CellHeader* c, std::uint32_t pos, std::size_t worker, bool cancel,
                             void* scratch) noexcept {
    const JobOps* ops = c->ops;
    void* data = reinterpret_cast<std::byte*>(c) + kCellDataOffset;
    if (scratch != nullptr) {
        // Move the task out and free the cell first: the queue keeps its full capacity while
        // long tasks run.
        ops->relocate(scratch, data);
        m_ring.free_cell(c, pos);
        if (cancel) ops->cancel(scratch);
        else ops->run(scratch, RunContext{this, worker});
        return;
    }
    if (cancel) ops->cancel(data);
    else ops->run(data, RunContext{this, worker});
    m_ring.free_cell(c, pos);
}

void PoolCore::run_timed(TaskLatency& lat, CellHeader* c, std::uint32_t pos, std::size_t worker,
                         void* scratch) noexcept {
    const std::uint32_t stamp = c->stamp;  // came with the task's bytes ([pool.take] acquire)
    const std::int64_t start = Instant::now().ns();
    // The queue wait is recorded before the task runs: a snapshot taken while it runs has it.
    lat.queue_wait.record(static_cast<std::uint64_t>(latency_stamp(start) - stamp) << 2);
    run_or_cancel(c, pos, worker, false, scratch);
    lat.run.record(static_cast<std::uint64_t>(Instant::now().ns() - start));
}

void PoolCore::report(std::size_t worker, Error e) noexcept {
    if (m_hook.fn != nullptr) m_hook.fn(m_hook.user, worker, e);
}

// ---------------------------------------------------------------- idle

void PoolCore::notify_idle() noexcept {
    // The [pool.done] stores before this call are the published change; wait_idle() re-checks
    // pending() after registering (the waiting layer's handshake).
    m_idle.notify_all();
}

// ---------------------------------------------------------------- workers

void PoolCore::worker_entry(void* arg) noexcept {
    auto* w = static_cast<WorkerBlock*>(arg);
    w->pool->worker_loop(*w);
}

void PoolCore::worker_loop(WorkerBlock& w) noexcept {
    std::uint64_t done = 0;
    std::uint32_t high_water = 0;
    bool busy = false;
    TaskLatency* const lat = m_latency != nullptr ? &m_latency[w.index] : nullptr;  // fixed by start()
    std::int64_t mark = Instant::now().ns();
    // Start of the current polling stretch (WorkerStats::spin_ns), or kSinceWake: the stretch
    // began at a kernel wake and starts at the next clock read (none is added to the wake path).
    std::int64_t spin_from = mark;
    for (;;) {
        std::uint32_t pos = 0;
        CellHeader* c = nullptr;
        if (m_ring.pop(pos, c)) {
            if (!busy) {
                const std::int64_t now = Instant::now().ns();
                if (spin_from != kSinceWake) add_relaxed(w.spin_ns, static_cast<std::uint64_t>(now - spin_from));
                add_relaxed(w.idle_ns, static_cast<std::uint64_t>(now - mark));
                mark = now;
                busy = true;
            }
            if (c->ops == &kSkipOps) [[unlikely]] {  // an empty cell (a submit found no free result slot): not a task
                m_ring.free_cell(c, pos);
                add_relaxed(w.skipped, 1);
                w.done.store(++done, std::memory_order_release);  // [pool.done]: pending() counts it
                continue;
            }
            const std::uint32_t depth = m_ring.sampled_depth(pos);  // 0 between samples: the tail is the submitters' line
            if (depth > high_water) {
                high_water = depth;
                w.high_water.store(depth, std::memory_order_relaxed);  // [pool.stat]
            }
            // [pool.cancel] relaxed: a task taken just after shutdown(cancel) may still run; its
            // future then reports its value, which is allowed.
            const bool cancel = m_cancel.load(std::memory_order_relaxed);
            // [pool.progress] relaxed: the progress epoch check_stalls() reads; a snapshot only.
            w.started.store(done + 1, std::memory_order_relaxed);
            if (lat == nullptr || cancel) run_or_cancel(c, pos, w.index, cancel, w.scratch);
            else run_timed(*lat, c, pos, w.index, w.scratch);
            if (cancel) add_relaxed(w.cancelled, 1);
            // [pool.done] release: the task's effects happen-before an acquire read in pending().
            w.done.store(++done, std::memory_order_release);
            continue;
        }
        if (busy) {
            const std::int64_t now = Instant::now().ns();
            add_relaxed(w.busy_ns, static_cast<std::uint64_t>(now - mark));
            mark = now;
            spin_from = now;
            busy = false;
            notify_idle();
        }
        if (m_ring.finished()) break;  // [pool.closed] acquire: pairs with [pool.close]
        // Spin: new work usually arrives within microseconds in a busy service. The budget runs
        // from the start of the idle stretch (mark), so after a wake without work the worker
        // re-parks at the first clock check.
        bool work = false;
        const std::int64_t spin_start = mark;
        std::int64_t spin_end = spin_from;  // the clock read that ended the polling, if any
        for (std::uint32_t i = 1;; ++i) {
            if (m_ring.work_hint()) {  // [pool.tail_peek] / [pool.head_peek] relaxed: a hint; pop() validates
                work = true;
                break;
            }
            if ((i & 63) == 0) {
                const std::int64_t now = Instant::now().ns();
                if (spin_from == kSinceWake) spin_from = now;
                if (now - spin_start >= m_spin_ns) {
                    spin_end = now;
                    break;
                }
                // Give the CPU to any other runnable thread here: with more threads than CPUs the
                // submitter may share this one, and a pure spin kept it off the CPU until the budget
                // ran out (bench/notes.md, "Futures path"). A syscall per 64 polls when alone.
                platform::yield_now();
            }
            if (m_spin_ns == 0) break;
            platform::cpu_relax();
        }
        if (work) {
            // A claimed cell may not be published yet: let the submitter finish.
            if (!m_ring.pop_ready()) platform::yield_now();
            continue;
        }
        // The spin and sleep counters are published right before the worker parks, so a parked
        // worker's stats are current while it sleeps (and do not move until it wakes).
        const std::uint32_t wakes = m_ring.sleep(w.index, [&]() noexcept {
            if (spin_from != kSinceWake && spin_end != kSinceWake) {
                add_relaxed(w.spin_ns, static_cast<std::uint64_t>(spin_end - spin_from));
            }
            add_relaxed(w.sleeps, 1);
        });
        if (wakes != 0) {
            add_relaxed(w.wakes, wakes);
            spin_from = kSinceWake;
        }
    }
    const std::int64_t now = Instant::now().ns();
    if (!busy && spin_from != kSinceWake) add_relaxed(w.spin_ns, static_cast<std::uint64_t>(now - spin_from));
    add_relaxed(busy ? w.busy_ns : w.idle_ns, static_cast<std::uint64_t>(now - mark));
}

// ---------------------------------------------------------------- lifetime

Result<void> PoolCore::start(const ThreadPoolOptions& options) noexcept {
    if (m_started || m_shutdown_state.load(std::memory_order_acquire) != 0) return unexpected(Errc::invalid_argument);
    m_spin_ns = options.spin_ns < 0 ? 0 : options.spin_ns;
    m_hook = options.on_failure;
    m_report_futures = options.report_future_failures;
    m_stall_ns = options.stall_timeout_ns < 0 ? 0 : options.stall_timeout_ns;
    if ((options.task_latency == nullptr) != (options.task_latency_count == 0) ||
        (options.task_latency != nullptr && options.task_latency_count != m_worker_count)) {
        return unexpected(Errc::invalid_argument);
    }
    m_latency = options.task_latency;
    if (m_latency != nullptr) {
        // Tasks submitted before start(): their queue wait counts from here.
        const std::uint32_t now = latency_stamp(Instant::now().ns());
        m_ring.for_each_queued([now](CellHeader& c) noexcept { c.stamp = now; });
    }
    if (options.lock_memory) {
        if (auto r = platform::lock_all_memory(); !r) {
            if (options.strict) return unexpected(r.error());
            m_lock_error = r.error();
        }
    }
    bool pin = options.pin;
    CpuSet cpus = options.cpus;
    if (pin && cpus.empty()) {
        if (auto p = platform::physical_core_cpus(); p && !p->empty()) {
            cpus = *p;
        } else if (auto a = platform::process_affinity(); a && !a->empty()) {
            cpus = *a;
        } else {
            pin = false;
        }
    }
    // Caller-aware placement (issue 15): CPUs on a core the calling thread is pinned to go last,
    // so a caller pinned to CPU 0 does not share it with a worker while other CPUs are free.
    // `apart` is taken first, `near` only when workers outnumber the CPUs in `apart`. A caller
    // that is not pinned is treated the same for the default set, with the CPU it runs on now
    // (it tends to stay there: a worker pinned onto it would wait for the load balancer), but
    // sharing is then not reported, since that caller may move.
    CpuSet apart = cpus;
    CpuSet near;
    bool caller_pinned = false;
    if (pin) {
        auto mine = platform::current_thread_affinity();
        auto all = platform::process_affinity();
        CpuSet caller;
        if (mine && all && !mine->empty() && (*mine & *all) != *all) {
            caller_pinned = true;
            caller = *mine;
        } else if (auto now = platform::current_cpu(); now && options.cpus.empty()) {
            caller = CpuSet::single(*now);
        }
        if (!caller.empty()) {
            CpuSet caller_cores;  // indexed by CpuTopology::core_index
            for (std::size_t c = caller.first(); c < platform::kMaxCpus; c = caller.next(c + 1)) {
                if (auto t = platform::topology(c)) caller_cores.add(t->core_index);
            }
            apart = CpuSet{};
            for (std::size_t c = cpus.first(); c < platform::kMaxCpus; c = cpus.next(c + 1)) {
                auto t = platform::topology(c);
                const bool shared = caller.contains(c) || (t && caller_cores.contains(t->core_index));
                (shared ? near : apart).add(c);
            }
        }
    }
    // Explicit options.cpus keep their order (worker i on the i-th CPU); only the default is reordered.
    const bool reorder = options.cpus.empty();
    const std::size_t ncpus = cpus.count();
    const std::size_t napart = apart.count();
    m_shares_caller_cpu = false;
    // Which worker a submit wakes (ThreadPoolOptions::wake): near_submitter gives the first 64
    // workers a park word each (their CPU is set below, before each one starts).
    m_ring.bind_park(&m_workers[0].park, sizeof(WorkerBlock),
                     options.wake == WakePolicy::near_submitter ? m_worker_count : 0);
    for (std::uint32_t i = 0; i < m_worker_count; ++i) {
        WorkerBlock& w = m_workers[i];
        w.pool = this;
        w.index = i;
        w.scratch = m_scratch + static_cast<std::size_t>(i) * m_scratch_bytes;
        // "<name>-<i>", truncated to the OS limit; no snprintf needed.
        std::size_t n = 0;
        const char* base = options.name != nullptr ? options.name : "srt-pool";
        char digits[12];
        std::size_t nd = 0;
        std::uint32_t v = i;
        do { digits[nd++] = static_cast<char>('0' + v % 10); v /= 10; } while (v != 0 && nd < sizeof digits);
        while (base[n] != '\0' && n + nd + 2 < platform::kMaxThreadName) { w.name[n] = base[n]; ++n; }
        w.name[n++] = '-';
        while (nd > 0) w.name[n++] = digits[--nd];
        w.name[n] = '\0';

        w.cpu = platform::kMaxCpus;  // not pinned unless set below
        CpuSet one;
        platform::ThreadOptions to{};
        to.name = w.name;
        to.priority = options.priority;
        if (pin) {
            const std::size_t k = i % ncpus;
            w.cpu = !reorder ? cpus.nth(k) : k < napart ? apart.nth(k) : near.nth(k - napart);
            if (caller_pinned && near.contains(w.cpu)) m_shares_caller_cpu = true;
            one = CpuSet::single(w.cpu);
            to.affinity = &one;
        }
        w.park.cpu_plus_one = w.cpu < platform::kMaxCpus ? static_cast<std::uint32_t>(w.cpu) + 1 : 0;
        // m_stacks is nullptr where the OS provides stacks (platform::kThreadUsesCallerStack false).
        const platform::StackSpan stack{m_stacks != nullptr ? m_stacks + static_cast<std::size_t>(i) * m_stack_bytes
                                                             : nullptr,
                                        m_stack_bytes};
        auto r = platform::start_thread(m_handles[i], stack, &PoolCore::worker_entry, &w, to);
        if (!r && !options.strict && options.priority.policy != platform::SchedPolicy::normal &&
            (r.error() == Errc::permission_denied || r.error() == Errc::os_error)) {
            m_priority_error = r.error();
            to.priority = {};
            r = platform::start_thread(m_handles[i], stack, &PoolCore::worker_entry, &w, to);
        }
        if (!r) {
            m_started = true;  // so shutdown() joins what runs
            (void)shutdown(ShutdownMode::cancel);
            return unexpected(r.error());
        }
        m_started_count = i + 1;
    }
    m_started = true;
    return ok();
}

std::size_t PoolCore::current_worker() const noexcept {
    const platform::ThreadId me = platform::current_thread_id();
    for (std::uint32_t i = 0; i < m_started_count; ++i) {
        if (m_handles[i].id() == me) return i;
    }
    return m_worker_count;
}

Result<void> PoolCore::shutdown(ShutdownMode mode, Deadline deadline) noexcept {
    const bool is_worker = m_started && current_worker() < m_worker_count;
    // [pool.shutdown_state] acquire loads / acq_rel CAS: one caller at a time runs the shutdown
    // (state 1); state 3 means closed with workers still to join, which any later call resumes.
    std::uint32_t state = m_shutdown_state.load(std::memory_order_acquire);
    for (;;) {
        if (state == 2) return ok();
        if (state == 1 || (state == 3 && is_worker)) {
            if (is_worker) return ok();  // a worker cannot wait for its own pool
            if (deadline.expired()) return unexpected(Errc::timeout);
            platform::yield_now();
            state = m_shutdown_state.load(std::memory_order_acquire);
            continue;
        }
        if (m_shutdown_state.compare_exchange_weak(state, 1, std::memory_order_acq_rel, std::memory_order_acquire)) break;
    }
    if (mode == ShutdownMode::cancel) m_cancel.store(true, std::memory_order_relaxed);  // [pool.cancel]
    if (state == 0) {
        if (is_worker) {
            m_shutdown_state.store(0, std::memory_order_release);
            return unexpected(Errc::invalid_argument);  // a worker cannot join itself
        }
        // [pool.close]: no claim succeeds after it; wakes the sleeping workers and the submitters
        // blocked for a free cell. Then the result-slot pool: a submit blocked for a slot sees closed.
        (void)m_ring.close();
        if (m_result_slots != nullptr) m_result_slots->close();
    }
    while (m_joined < m_started_count) {
        // With stall reporting on, join in slices so a stuck worker is reported while we wait.
        Deadline slice = deadline;
        if (m_stall_ns > 0) {
            const Deadline step = Deadline::after(std::chrono::nanoseconds(m_stall_ns / 4 + 1'000'000));
            if (step.instant() < deadline.instant()) slice = step;
        }
        const auto r = platform::join(m_handles[m_joined], slice);
        if (r) {
            ++m_joined;
            continue;
        }
        if (r.code() != Errc::timeout) {
            m_shutdown_state.store(3, std::memory_order_release);
            return r;
        }
        (void)check_stalls();
        if (deadline.expired()) {
            m_shutdown_state.store(3, std::memory_order_release);  // [pool.shutdown_state]
            return unexpected(Errc::timeout);
        }
    }
    drain_leftovers();
    notify_idle();
    m_shutdown_state.store(2, std::memory_order_release);  // [pool.shutdown_state]
    return ok();
}

void PoolCore::drain_leftovers() noexcept {
    // Leftovers exist only when no worker ran (never started, or start() failed early).
    const bool cancel = m_cancel.load(std::memory_order_relaxed);
    for (;;) {
        if (m_ring.drained()) break;  // [pool.closed] acquire
        std::uint32_t pos = 0;
        CellHeader* c = nullptr;
        if (m_ring.pop(pos, c)) {
            run_or_cancel(c, pos, m_worker_count, cancel, nullptr);
            m_caller_done.fetch_add(1, std::memory_order_release);  // [pool.done]
        } else {
            platform::yield_now();  // a submitter is between claim and publish
        }
    }
}

std::size_t PoolCore::check_stalls() noexcept {
    if (m_stall_ns <= 0) return 0;
    // [pool.stall_check] acquire/release: one checker at a time owns the seen_* fields.
    if (m_stall_check.exchange(true, std::memory_order_acquire)) return 0;
    const std::int64_t now = Instant::now().ns();
    std::size_t stalled = 0;
    for (std::uint32_t i = 0; i < m_started_count; ++i) {
        WorkerBlock& w = m_workers[i];
        // [pool.progress] relaxed loads, started first: a task counts as running only when the
        // later load of `done` has not passed it. A snapshot; a stall is decided over many checks.
        const std::uint64_t started = w.started.load(std::memory_order_relaxed);
        const std::uint64_t done = w.done.load(std::memory_order_relaxed);
        if (started != done + 1) continue;  // idle (or between tasks)
        if (w.seen_task.load(std::memory_order_relaxed) != started) {
            w.seen_task.store(started, std::memory_order_relaxed);  // first seen now: the clock starts
            w.seen_ns.store(now, std::memory_order_relaxed);
            continue;
        }
        if (now - w.seen_ns.load(std::memory_order_relaxed) < m_stall_ns) continue;
        ++stalled;
        if (w.reported_task.load(std::memory_order_relaxed) == started) continue;  // once per task
        w.reported_task.store(started, std::memory_order_relaxed);
        w.stalls.store(w.stalls.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        report(i, Error{Errc::process_stalled});
    }
    m_stall_check.store(false, std::memory_order_release);  // [pool.stall_check]
    return stalled;
}

Deadline PoolCore::stall_slice(Deadline deadline) const noexcept {
    if (m_stall_ns <= 0) return deadline;
    const Deadline step = Deadline::after(std::chrono::nanoseconds(m_stall_ns / 4 + 1'000'000));
    return step.instant() < deadline.instant() ? step : deadline;
}

void PoolCore::wait_checking(std::atomic<std::uint32_t>& word, std::uint32_t v, Deadline deadline) noexcept {
    (void)platform::wait(word, v, stall_slice(deadline));
    (void)check_stalls();
}

std::size_t PoolCore::pending() const noexcept {
    // [pool.done] acquire loads: pair with the workers' release stores.
    std::uint64_t done = m_caller_done.load(std::memory_order_acquire);
    for (std::uint32_t i = 0; i < m_worker_count; ++i) done += m_workers[i].done.load(std::memory_order_acquire);
    const std::uint32_t t = m_ring.tail_position();  // [pool.closed] acquire
    return (t - static_cast<std::uint32_t>(done)) & kPosMask;
}

Result<void> PoolCore::wait_idle(Deadline deadline) noexcept {
    if (m_started && current_worker() < m_worker_count) return unexpected(Errc::invalid_argument);  // would wait on itself
    // The waiting layer's prepare / re-check / commit loop; notify_idle() is the notifier.
    EventCount<>::Key key = m_idle.prepare_wait();
    Result<void> out = ok();
    for (;;) {
        if (pending() == 0) break;
        if (deadline.expired()) {
            out = unexpected(Errc::timeout);
            break;
        }
        (void)m_idle.commit_wait(key, stall_slice(deadline));  // with stall reporting on: in slices
        (void)check_stalls();
    }
    m_idle.cancel_wait();
    return out;
}

WorkerStats PoolCore::stats(std::size_t worker) const noexcept {
    WorkerStats s;
    if (worker >= m_worker_count) return s;
    const WorkerBlock& w = m_workers[worker];
    // [pool.stat] relaxed loads: a recent snapshot is all a statistic promises.
    const std::uint64_t done = w.done.load(std::memory_order_relaxed);
    s.tasks_cancelled = w.cancelled.load(std::memory_order_relaxed);
    const std::uint64_t not_run = s.tasks_cancelled + w.skipped.load(std::memory_order_relaxed);
    s.tasks_run = done - (not_run <= done ? not_run : done);
    s.busy_ns = w.busy_ns.load(std::memory_order_relaxed);
    s.idle_ns = w.idle_ns.load(std::memory_order_relaxed);
    s.spin_ns = w.spin_ns.load(std::memory_order_relaxed);
    s.sleeps = w.sleeps.load(std::memory_order_relaxed);
    s.wakes = w.wakes.load(std::memory_order_relaxed);
    if (worker < m_started_count) {
        s.thread = m_handles[worker].id();  // 0 once joined
        if (s.thread != 0) {
            if (auto cpu = platform::thread_cpu_ns(s.thread)) s.cpu_ns = *cpu;
        }
    }
    s.queue_high_water = w.high_water.load(std::memory_order_relaxed);
    s.cpu = worker < m_started_count ? w.cpu : platform::kMaxCpus;
    s.stalls = w.stalls.load(std::memory_order_relaxed);
    const std::uint64_t started = w.started.load(std::memory_order_relaxed);  // [pool.progress]
    s.stalled = started == done + 1 && w.reported_task.load(std::memory_order_relaxed) == started;
    return s;
}

Result<void> PoolCore::task_latency(TaskLatencySnapshot& out) const noexcept {
    if (m_latency == nullptr) return unexpected(Errc::invalid_argument);
    // Worker 0 straight into `out`, the others through one snapshot on the stack.
    if (auto r = m_latency[0].queue_wait.snapshot(out.queue_wait); !r) return r;
    if (auto r = m_latency[0].run.snapshot(out.run); !r) return r;
    LatencyHistogram::Snapshot one;
    for (std::uint32_t i = 1; i < m_worker_count; ++i) {
        if (auto r = m_latency[i].queue_wait.snapshot(one); !r) return r;
        out.queue_wait.merge(one);
        if (auto r = m_latency[i].run.snapshot(one); !r) return r;
        out.run.merge(one);
    }
    return ok();
}

Result<void> PoolCore::run_parallel(ParallelJob& job, std::size_t helpers) noexcept {
    if (closed()) return unexpected(Errc::closed);
    job.has_deadline = !job.deadline.is_never();
    job.next.store(0, std::memory_order_relaxed);
    job.active.store(0, std::memory_order_relaxed);
    if (current_worker() < m_worker_count) helpers = 0;  // nested: run inline, never wait on our own queue
    for (std::size_t i = 0; i < helpers; ++i) {
        CellClaim c;
        if (claim(c, Deadline::poll()) != Errc::ok) break;  // full or closed: the caller does more itself
        job.active.fetch_add(1, std::memory_order_relaxed);  // [pool.helper_count] relaxed: published by [pool.publish]
        ::new (c.data) HelperTask{&job, &m_par_epoch};
        publish(c, &kHelperOps);
    }
    run_chunks(job);
    for (int spin = 0;; ++spin) {
        const std::uint32_t epoch = m_par_epoch.load(std::memory_order_acquire);  // [pool.par_epoch]
        // [pool.helper_done] acquire: the helpers' results are visible once this reads 0.
        if (job.active.load(std::memory_order_acquire) == 0) {
            // Chunks below `next` were each run whole; any at or above it were never started.
            return job.next.load(std::memory_order_relaxed) < job.chunks ? Result<void>(unexpected(Errc::timeout)) : ok();
        }
        if (spin < 2048) {
            platform::cpu_relax();
            continue;
        }
        wait_checking(m_par_epoch, epoch, Deadline::never());
    }
}

}  // namespace staticrt::detail
