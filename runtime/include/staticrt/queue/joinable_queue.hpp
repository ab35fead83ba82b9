// SPDX-License-Identifier: MIT
// staticrt/queue/joinable_queue.hpp — an MpmcQueue that knows when all its work is done.
//
// JoinableQueue<T, N> is Python's queue.Queue(maxsize=N): producers put items, consumers take
// them and call task_done() once per item when they finished processing it, and join() blocks
// until every item ever put has been taken and marked done. Any thread may call anything.
// task_done() more often than items were put is Errc::over_release (Python: ValueError).
// Memory ordering: everything the consumers did before their task_done() calls happens-before
// join() returns ([join.done]/[join.wait]). Shared memory: as MpmcQueue.
//
//   staticrt::JoinableQueue<Job, 64> q;
//   (void)q.push(job);                          // producer
//   auto j = q.pop(); run(*j); (void)q.task_done();   // worker
//   (void)q.join(staticrt::Deadline::after(1s));       // waits until every job is done
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

#include "staticrt/detail/event_count.hpp"
#include "staticrt/detail/wait_policy.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"
#include "staticrt/queue/mpmc_queue.hpp"

namespace staticrt {
namespace detail {

/// The queue itself, over a wait policy P (detail/wait_policy.hpp); JoinableQueue is this with
/// OsWaitPolicy.
template <class T, std::size_t N, class P, WaitScope Scope = WaitScope::process_private>
class JoinableRing {
public:
    using value_type = T;
    static constexpr std::size_t kCapacity = N;

    // ---------------------------------------------------------------- lifetime
    constexpr JoinableRing() noexcept = default;
    JoinableRing(const JoinableRing&) = delete;
    JoinableRing& operator=(const JoinableRing&) = delete;
    ~JoinableRing() = default;

    // ---------------------------------------------------------------- non-blocking
    /// false: full or closed. A put item counts as unfinished until its task_done().
    [[nodiscard]] bool try_push(const T& v) noexcept { return try_emplace(v); }
    [[nodiscard]] bool try_push(T&& v) noexcept { return try_emplace(std::move(v)); }
    template <class... Args>
    [[nodiscard]] bool try_emplace(Args&&... args) noexcept {
        return m_queue.try_emplace_placed([this]() noexcept { add_unfinished(); }, std::forward<Args>(args)...);
    }
    [[nodiscard]] bool try_pop(T& out) noexcept { return m_queue.try_pop(out); }

    // ---------------------------------------------------------------- blocking
    [[nodiscard]] Result<void> push(const T& v, Deadline d = Deadline::never()) noexcept { return emplace(d, v); }
    [[nodiscard]] Result<void> push(T&& v, Deadline d = Deadline::never()) noexcept { return emplace(d, std::move(v)); }
    /// An item counts as unfinished from the moment it is placed in the queue (Python counts
    /// inside put's lock): a push blocked on a full queue, timed out or refused by close() is
    /// never counted, so unfinished(), join() and task_done() see only placed items.
    template <class... Args>
    [[nodiscard]] Result<void> emplace(Deadline d, Args&&... args) noexcept {
        return m_queue.emplace_placed(d, [this]() noexcept { add_unfinished(); }, std::forward<Args>(args)...);
    }
    [[nodiscard]] Result<T> pop(Deadline d = Deadline::never()) noexcept { return m_queue.pop(d); }
    [[nodiscard]] Result<void> pop(T& out, Deadline d = Deadline::never()) noexcept { return m_queue.pop(out, d); }

    /// Marks one taken item as processed. Errc::over_release when every item is already done.
    [[nodiscard]] Result<void> task_done() noexcept { return finish_one(); }

    /// Blocks until every item put so far has been marked done. Errc::timeout.
    [[nodiscard]] Result<void> join(Deadline d = Deadline::never()) noexcept {
        return m_joiners.wait_for(
            [&]() noexcept {
                // [join.wait] acquire: pairs with [join.done]; the consumers' work is visible.
                return m_unfinished.load(std::memory_order_acquire) == 0 ? Attempt::done : Attempt::would_block;
            },
            d);
    }
    /// Producers get Errc::closed from now on; consumers drain, then get Errc::closed.
    void close() noexcept { m_queue.close(); }

    // ---------------------------------------------------------------- observers
    /// Items placed and not yet marked done (queued + being processed); blocked pushes not counted.
    [[nodiscard]] std::uint32_t unfinished() const noexcept { return m_unfinished.load(std::memory_order_relaxed); }
    [[nodiscard]] std::size_t size_approx() const noexcept { return m_queue.size_approx(); }
    [[nodiscard]] bool closed() const noexcept { return m_queue.closed(); }
    /// Producers asleep in push() on a full queue, a snapshot (none of their items is counted).
    [[nodiscard]] std::uint32_t blocked_producers() const noexcept { return m_queue.blocked_producers(); }
    [[nodiscard]] static constexpr std::size_t capacity() noexcept { return N; }

private:
    void add_unfinished() noexcept {
        // [join.add] relaxed: runs between the cell's claim and its publish ([mpmc.publish]
        // release), so a consumer's task_done() for this item ([join.done], after its
        // [mpmc.consume] acquire) always finds the count already raised; join() waits for zero.
        m_unfinished.fetch_add(1, std::memory_order_relaxed);
    }
    Result<void> finish_one() noexcept {
        std::uint32_t n = m_unfinished.load(std::memory_order_relaxed);
        do {
            if (n == 0) return unexpected(Errc::over_release);
            // [join.done] acq_rel CAS: releases this consumer's work to join(); pairs with [join.wait].
        } while (!m_unfinished.compare_exchange_weak(n, n - 1, std::memory_order_acq_rel, std::memory_order_relaxed));
        if (n == 1) m_joiners.notify_all();
        return ok();
    }

    MpmcRing<T, N, P, Scope> m_queue;
    alignas(platform::kCacheLine) typename P::template atomic<std::uint32_t> m_unfinished{0};  // producers and consumers
    alignas(platform::kCacheLine) EventCount<P, Scope> m_joiners;                               // join() sleeps here
};

}  // namespace detail

/// The public queue: JoinableRing with the OS wait policy (see the top of this file).
template <class T, std::size_t N, WaitScope Scope = WaitScope::process_private>
class JoinableQueue : public detail::JoinableRing<T, N, detail::OsWaitPolicy, Scope> {
public:
    constexpr JoinableQueue() noexcept = default;
};

}  // namespace staticrt
