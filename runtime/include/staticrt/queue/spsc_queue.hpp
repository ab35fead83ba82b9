// SPDX-License-Identifier: MIT
// staticrt/queue/spsc_queue.hpp — bounded single-producer single-consumer queue, no heap.
//
// SpscQueue<T, N> holds up to N elements inline (N a power of two). One producer thread calls
// the push side, one consumer thread the pop side; any thread may call close() and the
// observers. Each cell carries its own sequence word, so a hand-off moves one cache line
// (the cell) between the cores: the producer never reads the consumer's index and vice versa.
// try_* calls never block and never enter the kernel; push()/pop() spin briefly, then sleep
// on a futex word, and a side only makes a syscall when the other side sleeps.
// Memory ordering: everything the producer wrote before a successful push of an element
// happens-before the consumer's pop of that element returns ([spsc.publish]/[spsc.consume]).
// Shared memory: with WaitScope::process_shared and a trivially copyable T the object holds
// no pointers and a zero-filled segment is an empty queue: place it in memory mapped by
// several processes.
//
//   staticrt::SpscQueue<std::uint64_t, 1024> q;               // producer thread:
//   (void)q.push(42);                                          //   blocks while full
//   auto v = q.pop(staticrt::Deadline::after(5ms));           // consumer: v.code() == timeout?
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <utility>

#include "staticrt/detail/event_count.hpp"
#include "staticrt/detail/wait_policy.hpp"
#include "staticrt/platform/arch.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"
#include "staticrt/queue/detail/queue_front.hpp"
#include "staticrt/queue/detail/slot.hpp"

namespace staticrt {

using platform::WaitScope;

namespace detail {

/// The queue itself, over a wait policy P (detail/wait_policy.hpp): every shared word is a
/// P::atomic and every wait / wake / fence goes through P, so the deterministic scheduler
/// (tests/dsched/) can run it. SpscQueue is this with OsWaitPolicy.
template <class T, std::size_t N, class P, WaitScope Scope = WaitScope::process_private>
class SpscRing : public QueueFront<SpscRing<T, N, P, Scope>, T, N> {
    static_assert(QueueChecks<T, N, Scope == WaitScope::process_shared>::ok);
    using Seq = SeqOf<N>;
    using Cells = CellMap<N>;
    friend class QueueFront<SpscRing, T, N>;

public:
    static constexpr WaitScope kScope = Scope;

    // ---------------------------------------------------------------- lifetime
    /// An empty, open queue. constexpr: usable as a constinit global.
    constexpr SpscRing() noexcept = default;
    SpscRing(const SpscRing&) = delete;             // threads hold references to it
    SpscRing& operator=(const SpscRing&) = delete;
    /// Destroys the elements still inside. No thread may use the queue any more.
    ~SpscRing() { destroy_remaining(m_slots, m_head.load(std::memory_order_relaxed)); }

    // ---------------------------------------------------------------- non-blocking
    // try_push(v), push(v, d), try_pop(out), try_pop_n(out), pop(d), pop(out, d), empty_approx(),
    // capacity(): QueueFront.
    // try_push / push: producer only; pop: consumer only.
    /// Producer only. Constructs the element in place. false: full, or closed.
    template <class... Args>
    [[nodiscard]] bool try_emplace(Args&&... args) noexcept {
        if (closed()) return false;
        if (!try_emplace_impl(std::forward<Args>(args)...)) return false;
        m_not_empty.notify_one();
        return true;
    }
    /// Producer only. Copies a prefix of `items`; returns how many went in (0..size()).
    [[nodiscard]] std::size_t try_push_n(std::span<const T> items) noexcept {
        if (closed()) return 0;
        std::size_t n = 0;
        while (n < items.size() && try_emplace_impl(items[n])) ++n;
        if (n != 0) m_not_empty.notify_one();
        return n;
    }

    // ---------------------------------------------------------------- blocking
    /// Producer only. Constructs in place once there is room. Errc::timeout, Errc::closed.
    template <class... Args>
    [[nodiscard]] Result<void> emplace(Deadline d, Args&&... args) noexcept {
        if (closed()) return unexpected(Errc::closed);
        if (try_emplace_impl(std::forward<Args>(args)...)) [[likely]] {  // fast path, inlined
            m_not_empty.notify_one();
            return ok();
        }
        return emplace_wait(d, wait_arg<T>(std::forward<Args>(args))...);
    }
    /// Any thread. Producers get Errc::closed from then on; consumers drain the rest, then get
    /// Errc::closed. Wakes every sleeper. A push that overlaps close() on another thread may
    /// still succeed (its element is popped normally): close from the producer for a clean end.
    void close() noexcept {
        // [spsc.close] seq_cst: elements published before close() are visible to a consumer
        // that sees the flag; pairs with [spsc.closed.load].
        m_closed.store(1, std::memory_order_seq_cst);
        m_not_empty.wake_all();
        m_not_full.wake_all();
    }

    // ---------------------------------------------------------------- observers
    /// Threads parked (or registered to park) in pop() / in push(): snapshots, for tests and
    /// diagnostics (a test waits for one before the call that must wake it).
    [[nodiscard]] std::uint32_t waiting_consumers() const noexcept { return m_not_empty.waiters(); }
    [[nodiscard]] std::uint32_t waiting_producers() const noexcept { return m_not_full.waiters(); }
    [[nodiscard]] bool closed() const noexcept {
        return m_closed.load(std::memory_order_acquire) != 0;  // [spsc.closed.load] acquire: pairs with [spsc.close]
    }
    /// Elements inside, exact when both sides are quiet.
    [[nodiscard]] std::size_t size_approx() const noexcept {
        // [spsc.observe] relaxed: a snapshot, no ordering promised.
        const std::uint32_t t = m_tail.load(std::memory_order_relaxed);
        const std::uint32_t h = m_head.load(std::memory_order_relaxed);
        const std::uint32_t d = t - h;
        return d > N ? (static_cast<std::int32_t>(d) < 0 ? 0 : N) : d;
    }

private:
    /// The producer's slip on a full queue (kProducerSlip, queue/detail/slot.hpp): two cache
    /// lines of slip gained 1.2x, half the ring 1.5-1.9x.
    static constexpr std::uint32_t kSlipPolls = kProducerSlipPolls<Slot<T, P>, N>;
    static_assert(kSlipPolls < kDefaultSpin.spin_attempts, "the slip must end inside the spin phase");
    /// Producer only: true when the cell kProducerSlip positions past the tail is free for its
    /// lap, so (cells are freed in order) every cell up to it is too.
    [[nodiscard]] bool room_ahead() const noexcept {
        return slip_cell_free<N>(m_slots, m_tail.load(std::memory_order_relaxed));  // own index
    }
    /// emplace() once the queue was full: out of line, so that the inlined fast path stays small
    /// (bench/notes.md, "Ping-pong: the poll phase inline").
    template <class... Args>
    [[gnu::noinline]] Result<void> emplace_wait(Deadline d, Args&&... args) noexcept {
        // Full: the consumer is behind. For the first kSlipPolls polls, wait until the cell
        // kProducerSlip positions ahead is free too, then plain attempts.
        std::uint32_t polls = 0;
        Result<void> r = m_not_full.wait_for(
            [&]() noexcept {
                if (closed()) return Attempt::closed;
                if (polls < kSlipPolls) {
                    ++polls;
                    if (!room_ahead()) return Attempt::would_block;
                }
                return try_emplace_impl(std::forward<Args>(args)...) ? Attempt::done : Attempt::would_block;
            },
            d);
        if (r) m_not_empty.notify_one();
        return r;
    }
    /// One element into `out` (try_pop() / try_pop_n() of QueueFront notify after it).
    bool take_one(T& out) noexcept { return take<false>(&out); }
    template <class... Args>
    bool try_emplace_impl(Args&&... args) noexcept {
        const std::uint32_t t = m_tail.load(std::memory_order_relaxed);  // own index
        Slot<T, P>& s = m_slots[Cells::index(t)];
        // [spsc.free.load] acquire: the consumer finished moving out of this cell; pairs with [spsc.free].
        if (s.seq.load(std::memory_order_acquire) != Seq::empty(t)) return false;
        s.construct(std::forward<Args>(args)...);
        // [spsc.publish] release: the element is visible before the cell reads full; pairs with [spsc.consume].
        s.seq.store(Seq::full(t), std::memory_order_release);
        m_tail.store(t + 1, std::memory_order_relaxed);  // [spsc.tail] relaxed: own index; observers only
        return true;
    }
    /// Moves the head element to *out: assigns (Construct false) or constructs in raw memory.
    template <bool Construct>
    bool take(T* out) noexcept {
        const std::uint32_t h = m_head.load(std::memory_order_relaxed);  // own index
        Slot<T, P>& s = m_slots[Cells::index(h)];
        // [spsc.consume] acquire: sees the element; pairs with [spsc.publish].
        if (s.seq.load(std::memory_order_acquire) != Seq::full(h)) return false;
        if constexpr (Construct) ::new (static_cast<void*>(out)) T(std::move(s.value));
        else *out = std::move(s.value);
        s.destroy();
        // [spsc.free] release: the move-out completes before the producer reuses the cell;
        // pairs with [spsc.free.load].
        s.seq.store(Seq::next_lap(h), std::memory_order_release);
        m_head.store(h + 1, std::memory_order_relaxed);  // [spsc.head] relaxed: own index; observers only
        return true;
    }
    /// The first kInlinePolls polls in the caller's code (poll_inline); the closed check and the
    /// rest of the spin budget are in pop_wait().
    template <bool Construct>
    Result<void> pop_into(T* out, Deadline d) noexcept {
        if (poll_inline<P>([&]() noexcept { return take<Construct>(out); }, false, d)) {
            m_not_full.notify_one();
            return ok();
        }
        return pop_wait<Construct>(out, d);
    }
    template <bool Construct>
    [[gnu::noinline]] Result<void> pop_wait(T* out, Deadline d) noexcept {
        Result<void> r = m_not_empty.wait_for(
            [&]() noexcept {
                if (take<Construct>(out)) return Attempt::done;
                if (!closed()) return Attempt::would_block;
                // closed: what was published before the flag is visible now ([spsc.close]).
                return take<Construct>(out) ? Attempt::done : Attempt::closed;
            },
            d, kSpinAfterInline);
        if (r) m_not_full.notify_one();
        return r;
    }

    // producer side
    alignas(platform::kCacheLine) typename P::template atomic<std::uint32_t> m_tail{0};
    // consumer side
    alignas(platform::kCacheLine) typename P::template atomic<std::uint32_t> m_head{0};
    // consumers sleep here, the producer wakes them
    alignas(platform::kCacheLine) EventCount<P, Scope> m_not_empty;
    // the producer sleeps here, the consumer wakes it
    alignas(platform::kCacheLine) EventCount<P, Scope> m_not_full;
    // written once by close()
    alignas(platform::kCacheLine) typename P::template atomic<std::uint32_t> m_closed{0};
    // cells: written by both sides, one hand-off at a time
    alignas(platform::kCacheLine) Slot<T, P> m_slots[N];
};

}  // namespace detail

/// The public queue: SpscRing with the OS wait policy (see the top of this file).
template <class T, std::size_t N, WaitScope Scope = WaitScope::process_private>
class SpscQueue : public detail::SpscRing<T, N, detail::OsWaitPolicy, Scope> {
public:
    constexpr SpscQueue() noexcept = default;
};

}  // namespace staticrt
