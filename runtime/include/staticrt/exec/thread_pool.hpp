// SPDX-License-Identifier: MIT
// staticrt/exec/thread_pool.hpp — a fixed thread pool on static stacks, pinned to cores.
//
// ThreadPool<Workers, QueueCapacity, StackBytes, TaskBytes, ResultSlots, ResultBytes> owns
// everything it uses: worker stacks, a bounded ring of QueueCapacity task cells (each task is
// stored inline in TaskBytes), and ResultSlots result slots for futures. start() starts the
// workers (pinned one per physical core by default); after that, submit / map / wait_idle /
// shutdown never allocate. Any thread may submit; tasks run on the workers in FIFO order of
// their claim on the queue. Idle workers spin for ThreadPoolOptions::spin_ns, then sleep in the
// kernel; a submit makes a syscall only when a worker sleeps, and wakes exactly one.
//
// Memory ordering: everything a thread did before a successful submit happens-before the task
// runs; everything the task did happens-before its Future's get()/wait() returns and before a
// wait_idle() that counted it returns. See docs/thread_pool.md and docs/memory-ordering.md.
//
//   static staticrt::ThreadPool<4> pool;                 // static: the stacks live in the object
//   if (!pool.start({})) return 1;
//   auto f = pool.submit([](int x) { return x * x; }, 7); // Result<Future<int>>
//   int v = *f->get();                                    // 49
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <new>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>

#include "staticrt/detail/stack_storage.hpp"
#include "staticrt/exec/detail/pool_core.hpp"
#include "staticrt/exec/future.hpp"
#include "staticrt/exec/pool_options.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/thread.hpp"
#include "staticrt/platform/time.hpp"

namespace staticrt {

namespace detail {

template <class R>
struct FutureValue {
    using type = R;
    static constexpr bool is_result = false;
};
template <class U>
struct FutureValue<Result<U>> {
    using type = U;
    static constexpr bool is_result = true;
};

/// Shows both sizes in the compiler's note when a task does not fit.
template <std::size_t TaskSize, std::size_t SlotSize>
struct TaskFits {
    static constexpr bool value = TaskSize <= SlotSize;
};

template <class Fn, class Tuple, class R>
struct FutureJob {
    using V = typename FutureValue<R>::type;
    Fn fn;
    Tuple args;
    Promise<V> promise;

    static void run(void* p, const RunContext& ctx) noexcept {
        auto* self = static_cast<FutureJob*>(p);
        if constexpr (std::is_void_v<R>) {
            std::apply(self->fn, std::move(self->args));
            (void)self->promise.set(Result<void>());
        } else if constexpr (FutureValue<R>::is_result) {
            R r = std::apply(self->fn, std::move(self->args));
            if (!r) ctx.report_future_failure(r.error());
            (void)self->promise.set(std::move(r));
        } else {
            (void)self->promise.set(Result<V>(std::apply(self->fn, std::move(self->args))));
        }
        self->~FutureJob();
    }
    static void cancel(void* p) noexcept {
        auto* self = static_cast<FutureJob*>(p);
        (void)self->promise.cancel();  // Errc::closed, Future::cancelled() true
        self->~FutureJob();
    }
    static void relocate(void* dst, void* src) noexcept {
        auto* from = static_cast<FutureJob*>(src);
        ::new (dst) FutureJob{std::move(from->fn), std::move(from->args), std::move(from->promise)};
        from->~FutureJob();
    }
    static constexpr JobOps kOps{&run, &cancel, &relocate};
};

template <class Fn, class Tuple, class R>
struct DetachedJob {
    Fn fn;
    Tuple args;

    static void run(void* p, const RunContext& ctx) noexcept {
        auto* self = static_cast<DetachedJob*>(p);
        if constexpr (FutureValue<R>::is_result) {
            R r = std::apply(self->fn, std::move(self->args));
            if (!r) ctx.report_failure(r.error());
        } else {
            std::apply(self->fn, std::move(self->args));
        }
        self->~DetachedJob();
    }
    static void cancel(void* p) noexcept { static_cast<DetachedJob*>(p)->~DetachedJob(); }
    static void relocate(void* dst, void* src) noexcept {
        auto* from = static_cast<DetachedJob*>(src);
        ::new (dst) DetachedJob{std::move(from->fn), std::move(from->args)};
        from->~DetachedJob();
    }
    static constexpr JobOps kOps{&run, &cancel, &relocate};
};

/// Failure bookkeeping of one map_checked / parallel_for_checked (on the caller's stack).
struct ParallelFailures {
    Error* errors = nullptr;  ///< per-item errors, or null
    std::atomic<std::size_t> failed{0};
    std::atomic<std::size_t> first{ParallelReport::npos};
    Error first_error{};

    void record(std::size_t index, Error e, std::size_t slot) noexcept {
        if (errors != nullptr) errors[slot] = e;
        // [par.fail] relaxed: counts; the results reach the caller through [pool.helper_done].
        failed.fetch_add(1, std::memory_order_relaxed);
        std::size_t none = ParallelReport::npos;
        // [par.first] relaxed CAS: elects the one recorder that writes first_error (published as above).
        if (first.compare_exchange_strong(none, index, std::memory_order_relaxed, std::memory_order_relaxed)) {
            first_error = e;
        }
    }
    void record(std::size_t index, Error e) noexcept { record(index, e, index); }
    ParallelReport report() const noexcept {
        ParallelReport r;
        r.failed = failed.load(std::memory_order_relaxed);
        r.first_failed = first.load(std::memory_order_relaxed);
        r.first_error = first_error;
        return r;
    }
};

}  // namespace detail

/// The default worker stack: 64 KiB, or the platform minimum where that is larger (aarch64: 128 KiB).
inline constexpr std::size_t kDefaultPoolStackBytes =
    platform::kMinStackBytes > 64 * 1024 ? platform::kMinStackBytes : 64 * 1024;

/// The value type of the Future that submit(f, args...) returns: R, or U when f returns Result<U>.
template <class F, class... Args>
using submit_value_t =
    typename detail::FutureValue<std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>...>>::type;

template <std::size_t Workers, std::size_t QueueCapacity = 1024, std::size_t StackBytes = kDefaultPoolStackBytes,
          std::size_t TaskBytes = 64, std::size_t ResultSlotCount = QueueCapacity, std::size_t ResultBytes = 32>
class ThreadPool {
    static_assert(Workers > 0, "ThreadPool needs at least one worker: use Workers >= 1, e.g. ThreadPool<4>");
    static_assert(Workers <= 1024, "ThreadPool: at most 1024 workers (platform::kMaxCpus)");
    static_assert(QueueCapacity >= 2 && (QueueCapacity & (QueueCapacity - 1)) == 0,
                  "ThreadPool QueueCapacity must be a power of two >= 2, e.g. 1024");
    static_assert(QueueCapacity <= (std::size_t{1} << 30), "ThreadPool QueueCapacity must be at most 2^30");
    static_assert(StackBytes >= platform::kMinStackBytes && StackBytes % 16 == 0,
                  "ThreadPool StackBytes must be a multiple of 16 and at least platform::kMinStackBytes (16 KiB; 128 KiB on aarch64), "
                  "e.g. staticrt::kDefaultPoolStackBytes");
    static_assert(TaskBytes >= 16 && TaskBytes % 16 == 0,
                  "ThreadPool TaskBytes must be a multiple of 16 and at least 16, e.g. 64");

    using Cell = detail::PoolCell<TaskBytes>;
    static_assert(offsetof(Cell, data) == detail::kCellDataOffset, "PoolCell layout changed");

public:
    static constexpr std::size_t kWorkers = Workers;
    static constexpr std::size_t kQueueCapacity = QueueCapacity;
    static constexpr std::size_t kTaskBytes = TaskBytes;
    static constexpr std::size_t kResultSlots = ResultSlotCount;
    /// Static RAM of the pool: sizeof, i.e. cells, result slots, worker blocks and (POSIX) the
    /// worker stacks. Defined below the class (sizeof needs the complete type).
    static const std::size_t static_bytes;
    /// Stack the OS reserves outside the object (Windows: Workers * StackBytes; else 0).
    static constexpr std::size_t os_stack_bytes = platform::kThreadUsesCallerStack ? 0 : Workers * StackBytes;

    // ---- lifetime
    /// Constant-initialisable and all zero: `constinit static ThreadPool<4> pool;` is .bss.
    /// Starts nothing; the first call (start, submit, ...) writes the self-pointers.
    constexpr ThreadPool() noexcept = default;
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;
    /// Drains the queue and joins the workers (shutdown(ShutdownMode::drain)). Every Future of
    /// this pool must be gone (or consumed) before the pool is destroyed.
    ~ThreadPool() { (void)shutdown(ShutdownMode::drain); }

    /// Starts the workers. Errc::invalid_argument when started (or shut down) already; with
    /// options.strict, a refused priority or memory lock; the OS error when a thread cannot start.
    [[nodiscard]] Result<void> start(const ThreadPoolOptions& options) noexcept {
        bind_storage();
        return m_core.start(options);
    }
    /// Stops accepting work, drains or cancels the queue, joins the workers. Idempotent.
    /// Errc::invalid_argument when called from one of the pool's own workers.
    /// Errc::timeout when the workers have not finished by `deadline`: the pool is closed and
    /// keeps draining (or cancelling) in the background, and a later shutdown() or the
    /// destructor joins. A later call may turn a drain into a cancel, never back.
    Result<void> shutdown(ShutdownMode mode = ShutdownMode::drain, Deadline deadline = Deadline::never()) noexcept {
        bind_storage();
        return m_core.shutdown(mode, deadline);
    }
    /// Python's shutdown(wait=False), a one-line forward: shutdown(mode, Deadline::poll()).
    void shutdown_nowait(ShutdownMode mode = ShutdownMode::drain) noexcept { (void)shutdown(mode, Deadline::poll()); }
    /// Reports workers stuck on one task for longer than ThreadPoolOptions::stall_timeout_ns (once
    /// per task, through on_failure and WorkerStats::stalls). Returns how many are stalled now.
    /// Any thread; a call while another runs returns 0 at once. No-op when stall reporting is off.
    std::size_t check_stalls() noexcept {
        bind_storage();
        return m_core.check_stalls();
    }

    // ---- non-blocking submission
    /// Never blocks: Errc::full (queue), Errc::exhausted (no free result slot), Errc::closed.
    template <class F, class... Args>
    [[nodiscard]] Result<Future<submit_value_t<F, Args...>>> try_submit(F&& f, Args&&... args) noexcept {
        return submit_impl(Deadline::poll(), Deadline::poll(), std::forward<F>(f), std::forward<Args>(args)...);
    }

    // ---- blocking submission: submit(deadline, f, args...) / submit(f, args...)
    /// Waits for queue space and a result slot until `deadline`: Errc::timeout, Errc::closed
    /// (also when the pool shuts down while it waits). Deadline::poll() is try_submit().
    template <class F, class... Args>
    [[nodiscard]] Result<Future<submit_value_t<F, Args...>>> submit(Deadline deadline, F&& f, Args&&... args) noexcept {
        return submit_impl(deadline, deadline, std::forward<F>(f), std::forward<Args>(args)...);
    }
    /// No deadline: blocks while the queue is full. Errc::exhausted at once when every result
    /// slot is in use (pass a Deadline to wait for one); Errc::closed after shutdown.
    template <class F, class... Args>
        requires(!std::is_same_v<std::remove_cvref_t<F>, Deadline>)
    [[nodiscard]] Result<Future<submit_value_t<F, Args...>>> submit(F&& f, Args&&... args) noexcept {
        return submit_impl(Deadline::poll(), Deadline::never(), std::forward<F>(f), std::forward<Args>(args)...);
    }
    /// Fire and forget: no result slot. Waits for queue space until `deadline` (Deadline::poll()
    /// never blocks and reports Errc::full); Errc::timeout, Errc::closed. A failed Result goes to
    /// the failure hook.
    template <class F, class... Args>
    [[nodiscard]] Result<void> submit_detached(Deadline deadline, F&& f, Args&&... args) noexcept {
        return detached_impl(deadline, std::forward<F>(f), std::forward<Args>(args)...);
    }
    /// No deadline: waits for queue space as long as it takes.
    template <class F, class... Args>
        requires(!std::is_same_v<std::remove_cvref_t<F>, Deadline>)
    [[nodiscard]] Result<void> submit_detached(F&& f, Args&&... args) noexcept {
        return detached_impl(Deadline::never(), std::forward<F>(f), std::forward<Args>(args)...);
    }

    // ---- blocking
    /// Blocks until every task submitted so far has finished. Errc::timeout at the deadline.
    [[nodiscard]] Result<void> wait_idle(Deadline deadline = Deadline::never()) noexcept {
        bind_storage();
        return m_core.wait_idle(deadline);
    }

    // ---- data parallel (the caller helps; returns when every item is done)
    /// out[i] = fn(in[i]) for every i. Errc::invalid_argument when out is shorter than in;
    /// Errc::closed after shutdown. chunk == 0 picks about 16 chunks per participating thread.
    /// Deadline: no chunk starts after it, and then the call returns Errc::timeout once the
    /// chunks already running are finished (their items are written; the others are not run).
    /// The pool stays usable. A chunk cannot be abandoned mid-way: its fn and spans are the
    /// caller's, so a fn that never returns delays the return (stall reporting tells).
    template <class Fn, class In, class Out>
    [[nodiscard]] Result<void> map(Fn&& fn, std::span<const In> in, std::span<Out> out, std::size_t chunk = 0,
                                   Deadline deadline = Deadline::never()) noexcept {
        if (out.size() < in.size()) return unexpected(Errc::invalid_argument);
        struct Ctx {
            std::remove_reference_t<Fn>* fn;
            const In* in;
            Out* out;
        } ctx{&fn, in.data(), out.data()};
        return parallel(in.size(), 0, chunk, deadline, &ctx, [](void* p, std::size_t b, std::size_t e) noexcept {
            auto* c = static_cast<Ctx*>(p);
            for (std::size_t i = b; i < e; ++i) c->out[i] = (*c->fn)(c->in[i]);
        });
    }
    /// fn(i) for every i in [first, last). Errc::invalid_argument when last < first; Errc::closed;
    /// Errc::timeout as map().
    template <class Fn>
    [[nodiscard]] Result<void> parallel_for(std::size_t first, std::size_t last, Fn&& fn, std::size_t chunk = 0,
                                            Deadline deadline = Deadline::never()) noexcept {
        if (last < first) return unexpected(Errc::invalid_argument);
        auto* f = &fn;
        return parallel(last - first, first, chunk, deadline, static_cast<void*>(f),
                        [](void* p, std::size_t b, std::size_t e) noexcept {
                            auto& g = *static_cast<std::remove_reference_t<Fn>*>(p);
                            for (std::size_t i = b; i < e; ++i) g(i);
                        });
    }

    /// map() for an fn that can fail: fn(in[i]) returns Result<U>. out[i] = the value for each
    /// item that succeeded; errors[i] = Error{} or the item's error (errors may be empty: then
    /// only the report counts). Item failures are the report's business, never the call's: the
    /// call's own errors are pool signals only (invalid_argument, closed, timeout), so neither
    /// can be mistaken for the other. On Errc::timeout, items never run have errors[i] ==
    /// Errc::timeout. Item failures do not call on_failure (the caller has them).
    template <class Fn, class In, class Out>
    [[nodiscard]] Result<ParallelReport> map_checked(Fn&& fn, std::span<const In> in, std::span<Out> out,
                                                     std::span<Error> errors, Deadline deadline = Deadline::never(),
                                                     std::size_t chunk = 0) noexcept {
        if (out.size() < in.size() || (!errors.empty() && errors.size() < in.size())) return unexpected(Errc::invalid_argument);
        struct Ctx {
            std::remove_reference_t<Fn>* fn;
            const In* in;
            Out* out;
            detail::ParallelFailures* fail;
        };
        detail::ParallelFailures fail{errors.empty() ? nullptr : errors.data()};
        Ctx ctx{&fn, in.data(), out.data(), &fail};
        std::size_t unrun = 0;
        auto r = parallel(in.size(), 0, chunk, deadline, &ctx, [](void* p, std::size_t b, std::size_t e) noexcept {
            auto* c = static_cast<Ctx*>(p);
            for (std::size_t i = b; i < e; ++i) {
                auto v = (*c->fn)(c->in[i]);
                if (v) {
                    c->out[i] = std::move(*v);
                    if (c->fail->errors != nullptr) c->fail->errors[i] = Error{};
                } else {
                    c->fail->record(i, v.error());
                }
            }
        }, &unrun);
        return finish_checked(r, fail, in.size(), 0, unrun);
    }
    /// parallel_for() for an fn(i) that returns Result<void>; errors[i - first] as map_checked().
    template <class Fn>
    [[nodiscard]] Result<ParallelReport> parallel_for_checked(std::size_t first, std::size_t last, Fn&& fn,
                                                              std::span<Error> errors,
                                                              Deadline deadline = Deadline::never(),
                                                              std::size_t chunk = 0) noexcept {
        if (last < first || (!errors.empty() && errors.size() < last - first)) return unexpected(Errc::invalid_argument);
        struct Ctx {
            std::remove_reference_t<Fn>* fn;
            std::size_t first;
            detail::ParallelFailures* fail;
        };
        detail::ParallelFailures fail{errors.empty() ? nullptr : errors.data()};
        Ctx ctx{&fn, first, &fail};
        std::size_t unrun = 0;
        auto r = parallel(last - first, first, chunk, deadline, &ctx, [](void* p, std::size_t b, std::size_t e) noexcept {
            auto* c = static_cast<Ctx*>(p);
            for (std::size_t i = b; i < e; ++i) {
                Result<void> v = (*c->fn)(i);
                if (v) {
                    if (c->fail->errors != nullptr) c->fail->errors[i - c->first] = Error{};
                } else {
                    c->fail->record(i, v.error(), i - c->first);
                }
            }
        }, &unrun);
        return finish_checked(r, fail, last - first, first, unrun);
    }

    // ---- observers
    [[nodiscard]] bool started() const noexcept { return m_core.started(); }
    [[nodiscard]] bool closed() const noexcept { return m_core.closed(); }
    [[nodiscard]] static constexpr std::size_t worker_count() noexcept { return Workers; }
    [[nodiscard]] static constexpr std::size_t queue_capacity() noexcept { return QueueCapacity; }
    [[nodiscard]] static constexpr std::size_t result_slot_capacity() noexcept { return ResultSlotCount; }
    /// Tasks submitted and not yet finished (queued + running), a snapshot.
    [[nodiscard]] std::size_t pending() const noexcept { return m_core.pending(); }
    /// A snapshot of worker i's counters (i < worker_count()).
    [[nodiscard]] WorkerStats stats(std::size_t worker) const noexcept { return m_core.stats(worker); }
    /// Every worker's per-task latency histograms merged (ThreadPoolOptions::task_latency): queue
    /// wait and run time. Any thread. Errc::invalid_argument when task latency is off (or not
    /// started); Errc::would_block when a worker recorded through every snapshot retry. Uses
    /// ~17.5 KiB of the caller's stack; `out` itself is ~35 KiB (keep it static or on a big stack).
    [[nodiscard]] Result<void> task_latency(TaskLatencySnapshot& out) const noexcept {
        return m_core.task_latency(out);
    }
    /// Non-fatal start-up errors (Errc::ok when none): real-time priority refused, memory lock refused.
    [[nodiscard]] Error priority_error() const noexcept { return m_core.priority_error(); }
    [[nodiscard]] Error memory_lock_error() const noexcept { return m_core.memory_lock_error(); }
    /// True when start() found the calling thread pinned (its affinity narrower than the process's)
    /// and still put a worker on a core the caller is pinned to: the default placement does that
    /// only when workers outnumber the other CPUs (or options.cpus asked for it). Such a worker
    /// and the caller take turns on one core, e.g. parallel_for runs at about one thread's rate.
    [[nodiscard]] bool shares_caller_cpu() const noexcept { return m_core.shares_caller_cpu(); }
    /// Index of the calling worker, or worker_count() when the caller is not one of them.
    [[nodiscard]] std::size_t current_worker() const noexcept {
        return m_core.layout_bound() ? m_core.current_worker() : Workers;
    }

private:
    template <class F, class... Args>
    Result<Future<submit_value_t<F, Args...>>> submit_impl(Deadline slot_deadline, Deadline queue_deadline, F&& f,
                                                           Args&&... args) noexcept {
        using R = std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>...>;
        using V = submit_value_t<F, Args...>;
        using Job = detail::FutureJob<std::decay_t<F>, std::tuple<std::decay_t<Args>...>, R>;
        static_assert(detail::TaskFits<sizeof(Job), TaskBytes>::value,
                      "ThreadPool: the task (callable + arguments + promise) is larger than TaskBytes: "
                      "raise the TaskBytes template argument (the note shows both sizes)");
        static_assert(alignof(Job) <= 16, "ThreadPool: the task needs more than 16-byte alignment");
        static_assert(std::is_nothrow_move_constructible_v<Job>,
                      "ThreadPool: the callable and its arguments must be nothrow move-constructible");
        static_assert(decltype(m_slots)::template fits<V>,
                      "ThreadPool: the task's Result<T> is larger than ResultBytes: raise the ResultBytes "
                      "template argument");
        bind_storage();
        if (closed()) return unexpected(Errc::closed);
        // The queue cell first: owning it makes its home result slot ours without an atomic
        // read-modify-write (exec/detail/slot_pool.hpp). When neither the home slot nor the free
        // list has one, the cell goes out empty (a skip the workers pass over) and we wait for any
        // slot to free; shutdown() closes the slot pool, which wakes us with Errc::closed.
        for (std::size_t skipped = 0;; ++skipped) {
            detail::CellClaim c;
            if (const Errc e = m_core.claim(c, queue_deadline); e != Errc::ok) return unexpected(e);
            auto pf = m_slots.template make_for_cell<V>(c.pos & (QueueCapacity - 1));
            if (pf) {
                ::new (c.data) Job{std::forward<F>(f), std::tuple<std::decay_t<Args>...>(std::forward<Args>(args)...),
                                   std::move(pf->promise)};
                m_core.publish(c, &Job::kOps);
                return std::move(pf->future);
            }
            m_core.publish(c, &detail::kSkipOps);
            // A free slot whose cell other submitters keep claiming before us must not keep us
            // walking past the deadline (or, polling, for more than a lap of the queue).
            if (slot_deadline.is_poll() ? skipped >= QueueCapacity : slot_deadline.expired()) {
                return unexpected(slot_deadline.is_poll() ? Errc::exhausted : Errc::timeout);
            }
            if (auto w = m_slots.wait_any_free(slot_deadline); !w) return unexpected(w.error());
        }
    }

    template <class F, class... Args>
    Result<void> detached_impl(Deadline deadline, F&& f, Args&&... args) noexcept {
        using R = std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>...>;
        using Job = detail::DetachedJob<std::decay_t<F>, std::tuple<std::decay_t<Args>...>, R>;
        static_assert(detail::TaskFits<sizeof(Job), TaskBytes>::value,
                      "ThreadPool: the task (callable + arguments) is larger than TaskBytes: "
                      "raise the TaskBytes template argument (the note shows both sizes)");
        static_assert(alignof(Job) <= 16, "ThreadPool: the task needs more than 16-byte alignment");
        bind_storage();
        detail::CellClaim c;
        if (const Errc e = m_core.claim(c, deadline); e != Errc::ok) return unexpected(e);
        ::new (c.data) Job{std::forward<F>(f), std::tuple<std::decay_t<Args>...>(std::forward<Args>(args)...)};
        m_core.publish(c, &Job::kOps);
        return ok();
    }

    /// *unrun (when given) = the first item index not run (first + count when all ran).
    Result<void> parallel(std::size_t count, std::size_t first, std::size_t chunk, Deadline deadline, void* ctx,
                          void (*body)(void*, std::size_t, std::size_t) noexcept,
                          std::size_t* unrun = nullptr) noexcept {
        bind_storage();
        if (count == 0) return closed() ? Result<void>(unexpected(Errc::closed)) : ok();
        detail::ParallelJob job;
        job.deadline = deadline;
        job.body = body;
        job.ctx = ctx;
        job.first = first;
        job.count = count;
        if (chunk == 0) {
            // 16 chunks per thread: the last chunk to finish is ~1/16 of a thread's share (with 4
            // the compute-bound map ran 0.84x tbb::parallel_for at 16 threads, 0.99x with 16;
            // docs/bench/SCALING.md). A claim costs one fetch_add per chunk.
            const std::size_t target = (Workers + 1) * 16;
            chunk = (count + target - 1) / target;
        }
        job.chunk = chunk;
        job.chunks = (count + chunk - 1) / chunk;
        const std::size_t helpers = job.chunks - 1 < Workers ? job.chunks - 1 : Workers;
        auto r = m_core.run_parallel(job, helpers);
        if (unrun != nullptr) *unrun = r.code() == Errc::timeout ? unrun_begin(job) : first + count;
        return r;
    }
    static std::size_t unrun_begin(const detail::ParallelJob& job) noexcept {
        // Chunks below `next` ran whole (read after every helper left: [pool.helper_done]).
        const std::size_t k = job.next.load(std::memory_order_relaxed);
        return k >= job.chunks ? job.first + job.count : job.first + k * job.chunk;
    }
    static Result<ParallelReport> finish_checked(const Result<void>& r, detail::ParallelFailures& fail,
                                                 std::size_t count, std::size_t first, std::size_t unrun) noexcept {
        if (!r) {
            if (r.code() == Errc::timeout && fail.errors != nullptr) {
                for (std::size_t i = unrun - first; i < count; ++i) fail.errors[i] = Error{Errc::timeout};
            }
            return unexpected(r.error());
        }
        return fail.report();
    }

    /// Writes the self-pointers on first use (never at compile time: the object stays all zero).
    void bind_storage() noexcept {
        if (m_core.layout_bound()) return;
        m_slots.prepare(kHomeSlots);
        m_core.bind_layout(static_cast<void*>(m_cells), sizeof(Cell), static_cast<std::uint32_t>(QueueCapacity), m_workers,
                    m_handles, m_stacks.base(), StackBytes, static_cast<std::uint32_t>(Workers), &m_scratch[0][0],
                    TaskBytes, &m_slots);
    }

    /// The engine: queue protocol, workers, shutdown, stats. Private: its claim/publish calls
    /// must never be reachable from user code (a claim without a publish jams the queue).
    detail::PoolCore m_core;
    // Storage. Cells and result slots are written by submitters and workers (their atomics say how).
    Cell m_cells[QueueCapacity] = {};
    /// Every queue cell has a home result slot when there are at least as many slots as cells.
    static constexpr std::uint32_t kHomeSlots =
        ResultSlotCount >= QueueCapacity ? static_cast<std::uint32_t>(QueueCapacity) : 0;
    ResultSlots<ResultSlotCount, ResultBytes> m_slots;
    detail::WorkerBlock m_workers[Workers] = {};
    platform::ThreadHandle m_handles[Workers];
    alignas(16) std::byte m_scratch[Workers][TaskBytes] = {};  ///< worker i runs its task here
    /// Worker i runs on [i * StackBytes, (i + 1) * StackBytes); empty where the OS provides stacks.
    [[no_unique_address]] detail::StackStorage<detail::kInObjectStackBytes<Workers * StackBytes>> m_stacks;
};

template <std::size_t W, std::size_t Q, std::size_t S, std::size_t T, std::size_t R, std::size_t RB>
constexpr std::size_t ThreadPool<W, Q, S, T, R, RB>::static_bytes = sizeof(ThreadPool<W, Q, S, T, R, RB>);

}  // namespace staticrt
