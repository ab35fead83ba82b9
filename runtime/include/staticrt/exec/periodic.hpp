// SPDX-License-Identifier: MIT
// staticrt/exec/periodic.hpp — periodic tasks and timers on absolute monotonic deadlines.
//
// PeriodicTimer is the schedule: releases at first, first + period, first + 2 period, ... on the
// monotonic clock. wait_next() sleeps until the next release with an ABSOLUTE deadline
// (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) on POSIX, a high-resolution waitable timer on
// Windows), so a late wake-up or a long run never shifts later releases (no drift), and records
// how late it woke in a Histogram. complete() ends a run: a run that ends after its deadline
// (release + deadline, default one period) is a deadline miss, one that ends after the next
// release an overrun. Releases that passed while a run overran are either skipped
// (OverrunPolicy::skip, counted in `skipped`) or all run late (OverrunPolicy::catch_up, each one
// recorded late): never silently absorbed.
//
// PeriodicTask<Stack> runs a callable on its own thread (name, SCHED_FIFO priority, pinned CPU
// through ThreadOptions) at every release; start_on(pool, ...) instead submits each run to a
// ThreadPool from its timer thread (at most one run in flight: a release that finds the previous
// run still going is counted as skipped; the lateness is then release -> task start on the worker).
// max_runs = 1 makes a one-shot timer.
//
// Thread roles: one thread waits (wait_next/complete: the timer thread); stats(), lateness() and
// request_stop() from any thread. A stop request is seen within 50 ms (long sleeps are cut into
// absolute slices) or at the next release, whichever is first.
// Memory ordering: counters are relaxed single-writer values ([periodic.stat]); the lateness
// histogram has its own seqlock; request_stop() is a release store read with acquire
// ([periodic.stop]); pool runs are serialised by [periodic.inflight] (release at the end of a run,
// acquire before the next submit), which also keeps the histogram single-writer.
//
//   static staticrt::PeriodicTask<> control;
//   (void)control.start([] { step(); }, {.period = std::chrono::milliseconds(1),
//                                        .thread = {.name = "ctl", .priority = {SchedPolicy::fifo, 80}}});
//   ...; (void)control.stop();  // control.stats().deadline_misses, control.lateness(snapshot)
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "staticrt/diag/histogram.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/result.hpp"
#include "staticrt/task.hpp"
#include "staticrt/thread.hpp"

namespace staticrt {

/// What happens to releases that passed while a run was still going.
enum class OverrunPolicy : std::uint8_t {
    skip,      ///< run once, late, then continue at the next future release (the passed ones are counted as skipped)
    catch_up,  ///< run every passed release, back to back (each counted late)
};

struct PeriodicOptions {
    std::chrono::nanoseconds period{std::chrono::milliseconds(1)};  ///< > 0
    Instant first{};                                ///< first release; Instant{} (0): now + period
    std::chrono::nanoseconds deadline{0};          ///< relative deadline of each run; 0: one period
    OverrunPolicy overrun = OverrunPolicy::skip;
    std::uint64_t max_runs = 0;                     ///< 0: until stopped; 1: a one-shot timer
    ThreadOptions thread{};                         ///< PeriodicTask's timer thread: name, priority, affinity
};

/// Counters (each exact; read from any thread as a relaxed snapshot).
struct PeriodicStats {
    std::uint64_t releases = 0;         ///< releases handled (run, or skipped)
    std::uint64_t runs = 0;             ///< runs completed
    std::uint64_t deadline_misses = 0;  ///< runs that ended after release + deadline
    std::uint64_t overruns = 0;         ///< runs that ended after the next release
    std::uint64_t skipped = 0;          ///< releases not run (skip policy; pool: previous run in flight or submit refused)
};

/// One release as the waiting thread sees it.
struct PeriodicTick {
    std::uint64_t index = 0;     ///< release number (0 = first); skipped releases are not returned
    Instant release{};           ///< when it was due
    Instant woke{};              ///< when the waiting thread (or pool worker) started it
    std::int64_t lateness_ns = 0;///< woke - release (>= 0 but for clock granularity)
};

class PeriodicTimer {
public:
    constexpr PeriodicTimer() noexcept = default;
    PeriodicTimer(const PeriodicTimer&) = delete;
    PeriodicTimer& operator=(const PeriodicTimer&) = delete;

    /// Sets the schedule and clears the counters and the histogram (not while a thread waits).
    /// Errc::invalid_argument: period <= 0 or deadline < 0.
    [[nodiscard]] Result<void> arm(const PeriodicOptions& o) noexcept;

    /// Sleeps until the next release and returns it (lateness recorded). Errc::closed: stop was
    /// requested, or max_runs releases were returned. Timer thread only.
    [[nodiscard]] Result<PeriodicTick> wait_next() noexcept;
    /// Ends the run of `tick` at `end`: counts the run, a deadline miss, an overrun. Timer thread
    /// (or the one thread running the tick, see PeriodicTask::start_on).
    void complete(const PeriodicTick& tick, Instant end) noexcept;
    void complete(const PeriodicTick& tick) noexcept { complete(tick, Instant::now()); }

    /// Any thread: the waiting thread returns Errc::closed within 50 ms or at its next release.
    void request_stop() noexcept {
        // [periodic.stop] release: pairs with the acquire load in wait_next().
        m_stop.store(1, std::memory_order_release);
    }
    [[nodiscard]] bool stop_requested() const noexcept { return m_stop.load(std::memory_order_acquire) != 0; }

    [[nodiscard]] PeriodicStats stats() const noexcept;
    /// A consistent copy of the wake-up lateness histogram (ns). Errc::would_block: see Histogram.
    [[nodiscard]] Result<void> lateness(LatencyHistogram::Snapshot& out, unsigned max_tries = 1000) const noexcept {
        return m_lateness.snapshot(out, max_tries);
    }
    [[nodiscard]] std::int64_t period_ns() const noexcept { return m_period_ns; }
    [[nodiscard]] std::int64_t deadline_ns() const noexcept { return m_deadline_ns; }

    // Used by PeriodicTask::start_on (the worker records lateness; the timer thread counts releases).
    void record_lateness(std::int64_t ns) noexcept { m_lateness.record_signed(ns); }
    void count_skipped(std::uint64_t n = 1) noexcept { bump(m_skipped, n); }  ///< timer thread
    /// Like wait_next() but does not record lateness (the pool worker does, at task start).
    [[nodiscard]] Result<PeriodicTick> wait_release() noexcept;

private:
    static void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
        // [periodic.stat] relaxed: single writer; readers take a snapshot.
        c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }

    std::int64_t m_period_ns = 0;
    std::int64_t m_deadline_ns = 0;
    std::int64_t m_next_ns = 0;  ///< next release (timer thread)
    std::uint64_t m_index = 0;
    std::uint64_t m_max_runs = 0;
    std::uint64_t m_returned = 0;
    OverrunPolicy m_policy = OverrunPolicy::skip;
    std::atomic<std::uint32_t> m_stop{0};
    // Written by the timer thread.
    std::atomic<std::uint64_t> m_releases{0};
    std::atomic<std::uint64_t> m_skipped{0};
    // Written by the thread that runs the ticks (the timer thread, or one pool worker at a time).
    std::atomic<std::uint64_t> m_runs{0};
    std::atomic<std::uint64_t> m_deadline_misses{0};
    std::atomic<std::uint64_t> m_overruns{0};
    LatencyHistogram m_lateness;
};

/// The default timer-thread stack: 64 KiB, or the platform's minimum where that is larger (aarch64).
inline constexpr std::size_t kPeriodicStackBytes =
    platform::kMinStackBytes > 64 * 1024 ? platform::kMinStackBytes : 64 * 1024;

template <std::size_t StackBytes = kPeriodicStackBytes, std::size_t TaskBytes = 64>
class PeriodicTask {
public:
    constexpr PeriodicTask() noexcept = default;
    PeriodicTask(const PeriodicTask&) = delete;
    PeriodicTask& operator=(const PeriodicTask&) = delete;
    /// Must be stopped and joined before destruction (as a Thread).
    ~PeriodicTask() = default;

    /// Starts the timer thread; it calls f() (or f(const PeriodicTick&)) at every release.
    /// Errc::invalid_argument: bad options or already started; thread errors as Thread::start.
    template <class F>
    [[nodiscard]] Result<void> start(F&& f, const PeriodicOptions& o) noexcept {
        if (m_thread.joinable()) return unexpected(Errc::invalid_argument);
        if (Result<void> r = m_timer.arm(o); !r) return r;
        m_fn = adapt(std::forward<F>(f));
        return m_thread.start([this]() noexcept { run_inline(); }, o.thread);
    }

    /// Starts the timer thread; at every release it submits one run of f to `pool`
    /// (submit_detached(Deadline::poll(), ...)). At most one run is in flight.
    template <class Pool, class F>
    [[nodiscard]] Result<void> start_on(Pool& pool, F&& f, const PeriodicOptions& o) noexcept {
        if (m_thread.joinable()) return unexpected(Errc::invalid_argument);
        if (Result<void> r = m_timer.arm(o); !r) return r;
        m_fn = adapt(std::forward<F>(f));
        m_in_flight.store(0, std::memory_order_relaxed);
        return m_thread.start([this, &pool]() noexcept { run_on(pool); }, o.thread);
    }

    void request_stop() noexcept { m_timer.request_stop(); }
    /// Waits for the timer thread (and, with a pool, for the run in flight) to finish.
    [[nodiscard]] Result<void> join(Deadline deadline = Deadline::never()) noexcept {
        if (Result<void> r = m_thread.join(deadline); !r) return r;
        // [periodic.inflight] acquire: pairs with the release at the end of a pool run.
        while (m_in_flight.load(std::memory_order_acquire) != 0) {
            if (deadline.expired()) return unexpected(Errc::timeout);
            platform::yield_now();
        }
        return ok();
    }
    /// request_stop() + join().
    [[nodiscard]] Result<void> stop(Deadline deadline = Deadline::never()) noexcept {
        request_stop();
        return join(deadline);
    }

    [[nodiscard]] PeriodicStats stats() const noexcept { return m_timer.stats(); }
    [[nodiscard]] Result<void> lateness(LatencyHistogram::Snapshot& out, unsigned max_tries = 1000) const noexcept {
        return m_timer.lateness(out, max_tries);
    }
    [[nodiscard]] bool running() const noexcept { return m_thread.is_alive(); }
    [[nodiscard]] const PeriodicTimer& timer() const noexcept { return m_timer; }

private:
    using Fn = Task<TaskBytes, void(const PeriodicTick&)>;

    template <class F>
    static Fn adapt(F&& f) noexcept {
        using D = std::decay_t<F>;
        if constexpr (std::is_invocable_v<D&, const PeriodicTick&>) {
            return Fn(std::forward<F>(f));
        } else {
            static_assert(std::is_invocable_v<D&>, "PeriodicTask: the callable takes () or (const PeriodicTick&)");
            return Fn([g = std::forward<F>(f)](const PeriodicTick&) mutable noexcept { g(); });
        }
    }

    void run_inline() noexcept {
        for (;;) {
            Result<PeriodicTick> t = m_timer.wait_next();
            if (!t) return;
            m_fn(*t);
            m_timer.complete(*t);
        }
    }

    template <class Pool>
    void run_on(Pool& pool) noexcept {
        for (;;) {
            Result<PeriodicTick> t = m_timer.wait_release();
            if (!t) return;
            // [periodic.inflight] acquire: pairs with the release at the end of the previous run,
            // so that run's histogram/counter writes happen-before the next run's.
            if (m_in_flight.load(std::memory_order_acquire) != 0) {
                m_timer.count_skipped();
                continue;
            }
            m_in_flight.store(1, std::memory_order_relaxed);  // published to the worker by the submit
            PeriodicTick tick = *t;
            Result<void> r = pool.submit_detached(Deadline::poll(), [this, tick]() mutable noexcept {
                tick.woke = Instant::now();
                tick.lateness_ns = tick.woke.ns_since(tick.release);
                m_timer.record_lateness(tick.lateness_ns);
                m_fn(tick);
                m_timer.complete(tick);
                // [periodic.inflight] release: the run's writes happen-before the next submit.
                m_in_flight.store(0, std::memory_order_release);
            });
            if (!r) {
                m_in_flight.store(0, std::memory_order_relaxed);  // nothing was published
                m_timer.count_skipped();                          // queue full or pool closed
            }
        }
    }

    Thread<StackBytes, 32> m_thread;
    PeriodicTimer m_timer;
    Fn m_fn;
    std::atomic<std::uint32_t> m_in_flight{0};
};

}  // namespace staticrt
