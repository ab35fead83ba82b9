// SPDX-License-Identifier: MIT
// tests/relacy/relacy_policy.hpp — the runtime's wait-policy templates under Relacy (Debian
// relacy-dev), which models the C++ memory model itself: a load may return any store its
// happens-before and coherence rules allow, fences and acquire/release pairs are tracked per
// thread, and a plain variable (rl::var) read or written without a happens-before edge to the
// last write is a data race. tests/dsched explores interleavings of sequentially consistent
// operations; this explores what a weak CPU (ARM) may do, so a memory order one step too weak
// fails here and nowhere else on an x86 host.
//
// Include this file FIRST in a Relacy test (before any other header): it includes the runtime
// headers the tests use, then relacy.hpp, then removes the macros relacy.hpp defines over
// standard names (memory_order_*, new, delete, malloc, ...), which would rewrite the runtime's
// own code. Test code only (Relacy allocates and runs each thread on a fiber); host, Linux.
//
// What the policy models (the members of staticrt::detail::OsWaitPolicy):
//   atomic<T>        RAtomic<T>: std::atomic's interface over rl::atomic<T>, every memory order
//                    passed through.
//   wait / wake_*    a futex: compare-with-the-latest-value-and-sleep as one step, and a wake
//                    after the waker's store, as the kernel orders them under its hash-bucket
//                    lock; a wait may also return spuriously, and a timed one time out at any
//                    point.
//   notifier_fence / waiter_fence   a seq_cst fence on both sides. That is the fence flavour of
//                    the Dekker pair (process-shared structures, or no membarrier); the
//                    membarrier flavour (a compiler barrier against heavy_barrier()) is a
//                    property of the kernel that Relacy cannot model: docs/memory-ordering.md
//                    argues it.
//   cpu_relax / yield   rl::yield (the scheduler prefers another thread: spin loops end).
//   expired          never(): no; poll(): yes; a finite deadline: the scheduler decides.
#pragma once

// The runtime first, while the standard names still mean what they say.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "staticrt/detail/event_count.hpp"
#include "staticrt/exec/detail/slot_pool.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"
#include "staticrt/queue/joinable_queue.hpp"
#include "staticrt/queue/mpmc_queue.hpp"
#include "staticrt/queue/scq_queue.hpp"
#include "staticrt/queue/spsc_queue.hpp"
#include "staticrt/queue/ticket_queue.hpp"
#include "staticrt/sync/condition.hpp"
#include "staticrt/sync/event.hpp"
#include "staticrt/sync/latch.hpp"
#include "staticrt/sync/semaphore.hpp"

#include <relacy/relacy.hpp>

#undef memory_order_relaxed
#undef memory_order_consume
#undef memory_order_acquire
#undef memory_order_release
#undef memory_order_acq_rel
#undef memory_order_seq_cst
#undef new
#undef delete
#undef malloc
#undef calloc
#undef realloc
#undef free

namespace relacy_policy {

using staticrt::Deadline;
using staticrt::Errc;
using staticrt::Result;
using staticrt::platform::WaitScope;

[[nodiscard]] constexpr rl::memory_order to_rl(std::memory_order o) noexcept {
    switch (o) {
        case std::memory_order_relaxed: return rl::mo_relaxed;
        case std::memory_order_consume: return rl::mo_consume;
        case std::memory_order_acquire: return rl::mo_acquire;
        case std::memory_order_release: return rl::mo_release;
        case std::memory_order_acq_rel: return rl::mo_acq_rel;
        case std::memory_order_seq_cst: return rl::mo_seq_cst;
    }
    return rl::mo_seq_cst;
}

/// The order of a failed compare-exchange when the caller names only one (as std::atomic does).
[[nodiscard]] constexpr std::memory_order failure_order(std::memory_order o) noexcept {
    return o == std::memory_order_acq_rel ? std::memory_order_acquire
           : o == std::memory_order_release ? std::memory_order_relaxed
                                            : o;
}

/// std::atomic's interface over rl::atomic<T>. Built inside a Relacy test (its constructor
/// stores the initial value: Relacy reports a load of a never-stored atomic).
template <class T>
class RAtomic {
public:
    static constexpr bool is_always_lock_free = true;

    RAtomic() : RAtomic(T{}) {}
    RAtomic(T v) { m_a.store(v, rl::mo_relaxed, RL_INFO); }  // NOLINT: implicit like std::atomic
    RAtomic(const RAtomic&) = delete;
    RAtomic& operator=(const RAtomic&) = delete;

    [[nodiscard]] T load(std::memory_order o = std::memory_order_seq_cst) const {
        return m_a.load(to_rl(o), RL_INFO);
    }
    void store(T v, std::memory_order o = std::memory_order_seq_cst) { m_a.store(v, to_rl(o), RL_INFO); }
    T exchange(T v, std::memory_order o = std::memory_order_seq_cst) { return m_a.exchange(v, to_rl(o), RL_INFO); }
    bool compare_exchange_weak(T& expected, T desired, std::memory_order s, std::memory_order f) {
        return m_a.compare_exchange_weak(expected, desired, to_rl(s), RL_INFO, to_rl(f), RL_INFO);
    }
    bool compare_exchange_weak(T& expected, T desired, std::memory_order o = std::memory_order_seq_cst) {
        return compare_exchange_weak(expected, desired, o, failure_order(o));
    }
    bool compare_exchange_strong(T& expected, T desired, std::memory_order s, std::memory_order f) {
        return m_a.compare_exchange_strong(expected, desired, to_rl(s), RL_INFO, to_rl(f), RL_INFO);
    }
    bool compare_exchange_strong(T& expected, T desired, std::memory_order o = std::memory_order_seq_cst) {
        return compare_exchange_strong(expected, desired, o, failure_order(o));
    }
    T fetch_add(T v, std::memory_order o = std::memory_order_seq_cst) { return m_a.fetch_add(v, to_rl(o), RL_INFO); }
    T fetch_sub(T v, std::memory_order o = std::memory_order_seq_cst) { return m_a.fetch_sub(v, to_rl(o), RL_INFO); }
    T fetch_or(T v, std::memory_order o = std::memory_order_seq_cst) { return m_a.fetch_or(v, to_rl(o), RL_INFO); }
    T fetch_and(T v, std::memory_order o = std::memory_order_seq_cst) { return m_a.fetch_and(v, to_rl(o), RL_INFO); }
    T fetch_xor(T v, std::memory_order o = std::memory_order_seq_cst) { return m_a.fetch_xor(v, to_rl(o), RL_INFO); }
    operator T() const { return load(); }  // NOLINT: like std::atomic
    T operator=(T v) {
        store(v);
        return v;
    }
    [[nodiscard]] bool is_lock_free() const noexcept { return true; }

    /// The Relacy atomic itself (the futex model waits and wakes on it).
    [[nodiscard]] rl::atomic<T>& raw() const noexcept { return m_a; }

private:
    mutable rl::atomic<T> m_a;
};

/// The Relacy wait policy: OsWaitPolicy's members (see the file comment for what each models).
struct RelacyPolicy {
    template <class T>
    using atomic = RAtomic<T>;

    [[nodiscard]] static Result<void> wait(const atomic<std::uint32_t>& word, std::uint32_t expected,
                                           Deadline deadline, WaitScope) {
        if (deadline.is_poll()) return staticrt::unexpected(Errc::timeout);
        rl::context& c = rl::ctx();
        c.sched();
        // The compare and the sleep are one step, and the compare reads the word's latest value
        // (a read-modify-write that stores what it read), as the kernel does under its
        // hash-bucket lock: a wake that follows the waker's store either finds this thread
        // asleep or came before the compare, which then sees the store. (A plain load, even
        // after a seq_cst fence, may read an older value here, and the model would lose
        // wake-ups that the kernel does not.)
        std::uint32_t now = 0;
        {
            rl::preemption_disabler pd(c);  // no scheduling point from here to the sleep
            now = word.raw().fetch_add(0, rl::mo_acq_rel, RL_INFO);
        }
        if (now != expected) return staticrt::ok();
        const rl::unpark_reason r = word.raw().wait(c, !deadline.is_never(), true, RL_INFO);
        if (r == rl::unpark_reason_timeout) return staticrt::unexpected(Errc::timeout);
        return staticrt::ok();  // woken, or spuriously
    }
    /// EventCount's sleep: wait() (both fences are seq_cst here: the pair is complete).
    [[nodiscard]] static Result<void> wait_registered(const atomic<std::uint32_t>& word, std::uint32_t expected,
                                                      Deadline deadline, WaitScope scope) {
        return wait(word, expected, deadline, scope);
    }
    static void wake_one(const atomic<std::uint32_t>& word, WaitScope) { wake(word, 1); }
    static void wake_all(const atomic<std::uint32_t>& word, WaitScope) { wake(word, std::numeric_limits<rl::thread_id_t>::max()); }
    static void notifier_fence(WaitScope) { rl::atomic_thread_fence(rl::mo_seq_cst, RL_INFO); }
    static void waiter_fence(WaitScope) { rl::atomic_thread_fence(rl::mo_seq_cst, RL_INFO); }
    static void cpu_relax() { rl::yield(1, RL_INFO); }
    static void prefetch_for_write(const void*) {}  // a hint: no memory effect to model
    static void yield() { rl::yield(1, RL_INFO); }
    [[nodiscard]] static bool expired(Deadline deadline) {
        if (deadline.is_never()) return false;
        if (deadline.is_poll()) return true;
        return rl::ctx().rand(2, rl::sched_type_user) == 0;
    }
    [[nodiscard]] static std::size_t current_cpu() noexcept { return 0; }

private:
    static void wake(const atomic<std::uint32_t>& word, rl::thread_id_t count) {
        rl::context& c = rl::ctx();
        c.sched();
        c.atomic_thread_fence_seq_cst();
        (void)word.raw().wake(c, count, RL_INFO);
    }
};

/// A lock for Condition under Relacy: an owner word taken with an acquire CAS (rl::yield between
/// tries) and given back with a release store, with the interface Condition asks of a lock.
class RLock {
public:
    void lock() {
        int expected = -1;
        while (!m_owner.compare_exchange_weak(expected, static_cast<int>(rl::thread_index()), std::memory_order_acquire,
                                              std::memory_order_relaxed)) {
            expected = -1;
            rl::yield(1, RL_INFO);
        }
    }
    void unlock() { m_owner.store(-1, std::memory_order_release); }
    [[nodiscard]] bool held_by_current_thread() const {
        return m_owner.load(std::memory_order_relaxed) == static_cast<int>(rl::thread_index());
    }

private:
    RAtomic<int> m_owner{-1};
};

/// A queue element whose payload is a Relacy plain variable: a consumer that reads it without a
/// happens-before edge to the producer's write is a data race (a publish or consume order too weak).
struct Item {
    rl::var<int> v;
    Item() { v(RL_INFO) = -1; }
    explicit Item(int x) { v(RL_INFO) = x; }
    Item(Item&& o) noexcept { v(RL_INFO) = static_cast<int>(o.v(RL_INFO)); }
    Item& operator=(Item&& o) noexcept {
        v(RL_INFO) = static_cast<int>(o.v(RL_INFO));
        return *this;
    }
    Item(const Item&) = delete;
    Item& operator=(const Item&) = delete;
    ~Item() = default;
    [[nodiscard]] int get() { return static_cast<int>(v(RL_INFO)); }
};

}  // namespace relacy_policy
