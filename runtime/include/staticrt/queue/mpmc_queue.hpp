// staticrt/queue/mpmc_queue.hpp — bounded multi-producer multi-consumer queue, no heap.
//
// MpmcQueue<T, N> holds up to N elements inline (N a power of two). Any number of threads may
// push and pop. Each cell carries a sequence word (Vyukov's bounded queue): a producer claims a
// position with one CAS on the tail, writes the cell and marks it full; a consumer claims with a
// CAS on the head, moves out and marks the cell free for the next lap. try_* calls never block
// and never enter the kernel; push()/pop() spin briefly and then sleep on a futex word, so
// threads that outnumber cores do not burn their time slices; a side makes a syscall only
// when somebody sleeps on the other side. close() sets a bit in the tail word, so no position
// is claimed after it and consumers know exactly when the queue is drained.
// Memory ordering: everything a producer wrote before its push of an element happens-before
// the pop of that element returns ([mpmc.publish]/[mpmc.consume]). Per producer, elements are
// popped in push order. Shared memory: as SpscQueue (WaitScope::process_shared, trivially
// copyable T, zero-filled memory is an empty queue).
//
//   staticrt::MpmcQueue<Job, 256> q;
//   (void)q.push(job, staticrt::Deadline::after(10ms));     // any producer
//   while (auto j = q.pop()) run(*j);                        // any consumer; ends at close()
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <utility>

#include "staticrt/platform/arch.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"
#include "staticrt/queue/detail/parking.hpp"
#include "staticrt/queue/detail/slot.hpp"

namespace staticrt {

using platform::WaitScope;

template <class T, std::size_t N, WaitScope Scope = WaitScope::process_private>
class MpmcQueue {
    static_assert(queue_detail::QueueChecks<T, N, Scope == WaitScope::process_shared>::ok);
    static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
                  "MpmcQueue needs lock-free 64-bit atomics on this target");
    using Seq = queue_detail::SeqOf<N>;
    using Cells = queue_detail::CellMap<N>;
    using Attempt = queue_detail::Attempt;
    static constexpr std::uint64_t kClosedBit = std::uint64_t{1} << 63;
    enum class Put : std::uint8_t { ok, full, closed };

public:
    using value_type = T;
    static constexpr std::size_t kCapacity = N;
    static constexpr WaitScope kScope = Scope;

    // ---------------------------------------------------------------- lifetime
    /// An empty, open queue. constexpr: usable as a constinit global.
    constexpr MpmcQueue() noexcept = default;
    MpmcQueue(const MpmcQueue&) = delete;             // threads hold references to it
    MpmcQueue& operator=(const MpmcQueue&) = delete;
    /// Destroys the elements still inside. No thread may use the queue any more.
    ~MpmcQueue() {
        if constexpr (!std::is_trivially_destructible_v<T>) {
            for (std::uint32_t h = static_cast<std::uint32_t>(m_head.load(std::memory_order_relaxed));; ++h) {
                queue_detail::Slot<T>& s = m_slots[Cells::index(h)];
                if (s.seq.load(std::memory_order_acquire) != Seq::full(h)) break;
                s.destroy();
                s.seq.store(Seq::next_lap(h), std::memory_order_relaxed);
            }
        }
    }

    // ---------------------------------------------------------------- non-blocking
    /// Any thread. false: full, or closed.
    [[nodiscard]] bool try_push(const T& v) noexcept { return try_emplace(v); }
    [[nodiscard]] bool try_push(T&& v) noexcept { return try_emplace(std::move(v)); }
    /// Any thread. Constructs the element in place. false: full, or closed.
    template <class... Args>
    [[nodiscard]] bool try_emplace(Args&&... args) noexcept {
        return try_emplace_placed(NoHook{}, std::forward<Args>(args)...);
    }
    /// Any thread. As try_emplace(), and calls on_place() exactly once when the element's
    /// position is claimed, before any consumer can take it (JoinableQueue counts there).
    template <class OnPlace, class... Args>
    [[nodiscard]] bool try_emplace_placed(OnPlace&& on_place, Args&&... args) noexcept {
        if (put(on_place, std::forward<Args>(args)...) != Put::ok) return false;
        m_not_empty.notify_one();
        return true;
    }
    /// Any thread. false: empty.
    [[nodiscard]] bool try_pop(T& out) noexcept {
        if (!take<false>(&out)) return false;
        m_not_full.notify_one();
        return true;
    }
    /// Any thread. Copies a prefix of `items`; returns how many went in. Another producer's
    /// elements may interleave with them.
    [[nodiscard]] std::size_t try_push_n(std::span<const T> items) noexcept {
        std::size_t n = 0;
        NoHook none;
        while (n < items.size() && put(none, items[n]) == Put::ok) ++n;
        if (n == 1) m_not_empty.notify_one();
        else if (n > 1) m_not_empty.notify_all();
        return n;
    }
    /// Any thread. Moves up to out.size() elements into `out`; returns how many.
    [[nodiscard]] std::size_t try_pop_n(std::span<T> out) noexcept {
        std::size_t n = 0;
        while (n < out.size() && take<false>(&out[n])) ++n;
        if (n == 1) m_not_full.notify_one();
        else if (n > 1) m_not_full.notify_all();
        return n;
    }

    // ---------------------------------------------------------------- blocking
    /// Any thread. Waits for room until the deadline. Errc::timeout, Errc::closed.
    [[nodiscard]] Result<void> push(const T& v, Deadline d = Deadline::never()) noexcept { return emplace(d, v); }
    [[nodiscard]] Result<void> push(T&& v, Deadline d = Deadline::never()) noexcept {
        return emplace(d, std::move(v));
    }
    /// Any thread. Constructs in place once there is room. Errc::timeout, Errc::closed.
    template <class... Args>
    [[nodiscard]] Result<void> emplace(Deadline d, Args&&... args) noexcept {
        return emplace_placed(d, NoHook{}, std::forward<Args>(args)...);
    }
    /// Any thread. As emplace(), and calls on_place() exactly once when the element's position
    /// is claimed (never when it returns an error), before any consumer can take it.
    template <class OnPlace, class... Args>
    [[nodiscard]] Result<void> emplace_placed(Deadline d, OnPlace&& on_place, Args&&... args) noexcept {
        Put p = put(on_place, std::forward<Args>(args)...);
        if (p == Put::closed) return unexpected(Errc::closed);
        if (p == Put::full) {
            const Result<void> r = m_not_full.wait_for(
                [&]() noexcept {
                    const Put q = put(on_place, std::forward<Args>(args)...);
                    return q == Put::ok ? Attempt::done : q == Put::closed ? Attempt::closed : Attempt::would_block;
                },
                d);
            if (!r) return r;
        }
        m_not_empty.notify_one();
        return ok();
    }
    /// Any thread. Waits for an element until the deadline. Errc::timeout; Errc::closed once
    /// the queue is closed and every element pushed before close() was popped.
    [[nodiscard]] Result<T> pop(Deadline d = Deadline::never()) noexcept {
        queue_detail::Raw<T> out;
        const Result<void> r = pop_into<true>(static_cast<T*>(out.raw()), d);
        if (!r) return unexpected(r.error());
        Result<T> res(std::move(*out.obj()));
        out.obj()->~T();
        return res;
    }
    /// Any thread. As pop(), into an existing object.
    [[nodiscard]] Result<void> pop(T& out, Deadline d = Deadline::never()) noexcept { return pop_into<false>(&out, d); }

    /// Any thread. From now on pushes fail with Errc::closed (exactly: no position is claimed
    /// after the close bit is set); consumers drain the rest, then get Errc::closed. Idempotent.
    void close() noexcept {
        // [mpmc.close] seq_cst RMW on the tail: serialises with every claim [mpmc.claim].
        m_tail.fetch_or(kClosedBit, std::memory_order_seq_cst);
        // [mpmc.closed.hint] release: stored before the wake-ups below bump the parking words
        // (which a sleeper compares), pairs with [mpmc.closed.hint.load]; the exactness of
        // "drained" still comes from the tail ([mpmc.drain]).
        m_closed_hint.store(1, std::memory_order_release);
        m_not_empty.wake_everyone();
        m_not_full.wake_everyone();
    }

    // ---------------------------------------------------------------- observers
    [[nodiscard]] bool closed() const noexcept {
        // [mpmc.closed.load] acquire: pairs with [mpmc.close].
        return (m_tail.load(std::memory_order_acquire) & kClosedBit) != 0;
    }
    /// Elements inside (claimed positions included), exact when nobody is pushing or popping.
    [[nodiscard]] std::size_t size_approx() const noexcept {
        // [mpmc.observe] relaxed: a snapshot, no ordering promised. Head first: never negative
        // unless the tail moves past between the loads (then clamp).
        const std::uint64_t h = m_head.load(std::memory_order_relaxed);
        const std::uint64_t t = m_tail.load(std::memory_order_relaxed) & ~kClosedBit;
        return t <= h ? 0 : (t - h > N ? N : static_cast<std::size_t>(t - h));
    }
    [[nodiscard]] bool empty_approx() const noexcept { return size_approx() == 0; }
    /// Producers registered to sleep in push() on a full queue, a snapshot (tests wait on it).
    [[nodiscard]] std::uint32_t blocked_producers() const noexcept { return m_not_full.waiters(); }
    [[nodiscard]] static constexpr std::size_t capacity() noexcept { return N; }

private:
    struct NoHook {
        void operator()() const noexcept {}
    };

    template <class OnPlace, class... Args>
    Put put(OnPlace& on_place, Args&&... args) noexcept {
        // [mpmc.tail.load] relaxed: only a guess; the CAS below decides.
        std::uint64_t t = m_tail.load(std::memory_order_relaxed);
        queue_detail::Slot<T>* s;
        for (;;) {
            if ((t & kClosedBit) != 0) return Put::closed;
            const auto pos = static_cast<std::uint32_t>(t);
            s = &m_slots[Cells::index(pos)];
            // [mpmc.free.load] acquire: the last consumer of this cell finished; pairs with [mpmc.free].
            const std::uint32_t seq = s->seq.load(std::memory_order_acquire);
            const auto diff = static_cast<std::int32_t>(seq - Seq::empty(pos));
            if (diff == 0) {
                // [mpmc.claim] relaxed CAS: the cell's ownership was established by [mpmc.free.load];
                // the CAS only elects one producer. Failure reloads t.
                if (m_tail.compare_exchange_weak(t, t + 1, std::memory_order_relaxed, std::memory_order_relaxed)) break;
            } else if (diff < 0) {
                // The cell still holds the previous lap's element: full, unless t is stale.
                const std::uint64_t now = m_tail.load(std::memory_order_relaxed);
                if (now == t) return Put::full;
                t = now;
            } else {
                t = m_tail.load(std::memory_order_relaxed);  // another producer claimed it
            }
        }
        on_place();  // claimed, not yet visible to consumers
        s->construct(std::forward<Args>(args)...);
        // [mpmc.publish] release: the element is visible before the cell reads full; pairs with [mpmc.consume].
        s->seq.store(Seq::full(static_cast<std::uint32_t>(t)), std::memory_order_release);
        return Put::ok;
    }

    template <bool Construct>
    bool take(T* out) noexcept {
        std::uint64_t h = m_head.load(std::memory_order_relaxed);
        queue_detail::Slot<T>* s;
        for (;;) {
            const auto pos = static_cast<std::uint32_t>(h);
            s = &m_slots[Cells::index(pos)];
            // [mpmc.consume] acquire: sees the element; pairs with [mpmc.publish].
            const std::uint32_t seq = s->seq.load(std::memory_order_acquire);
            const auto diff = static_cast<std::int32_t>(seq - Seq::full(pos));
            if (diff == 0) {
                // [mpmc.claim.pop] relaxed CAS: elects one consumer; ordering came from [mpmc.consume].
                if (m_head.compare_exchange_weak(h, h + 1, std::memory_order_relaxed, std::memory_order_relaxed)) break;
            } else if (diff < 0) {
                const std::uint64_t now = m_head.load(std::memory_order_relaxed);
                if (now == h) return false;  // empty (or the producer of this cell is mid-write)
                h = now;
            } else {
                h = m_head.load(std::memory_order_relaxed);
            }
        }
        if constexpr (Construct) ::new (static_cast<void*>(out)) T(std::move(s->value));
        else *out = std::move(s->value);
        s->destroy();
        // [mpmc.free] release: the move-out completes before a producer reuses the cell; pairs
        // with [mpmc.free.load].
        s->seq.store(Seq::next_lap(static_cast<std::uint32_t>(h)), std::memory_order_release);
        return true;
    }

    /// Closed and every claimed position consumed: nothing will ever arrive.
    bool drained_after_close() const noexcept {
        // [mpmc.drain] acquire on the tail: pairs with [mpmc.close]; a claim before the close bit
        // shows as tail > head until its consumer took it.
        const std::uint64_t t = m_tail.load(std::memory_order_acquire);
        if ((t & kClosedBit) == 0) return false;
        return m_head.load(std::memory_order_acquire) == (t & ~kClosedBit);
    }

    template <bool Construct>
    Result<void> pop_into(T* out, Deadline d) noexcept {
        if (take<Construct>(out)) {
            m_not_full.notify_one();
            return ok();
        }
        const Result<void> r = m_not_empty.wait_for(
            [&]() noexcept {
                if (take<Construct>(out)) return Attempt::done;
                // [mpmc.closed.hint.load] relaxed: a spinning consumer must not read the
                // producers' tail line on every attempt (that line bounces at every claim and
                // slowed producers ~8x); the exact check runs once the hint is set. A close()
                // this load misses is not lost: it bumps the parking word after storing the
                // hint ([mpmc.closed.hint]), so a sleeper wakes and re-tries.
                if (m_closed_hint.load(std::memory_order_relaxed) == 0) return Attempt::would_block;
                // Closed but not drained: the remaining elements are claimed or published
                // already, and the consumer that takes the last one wakes nobody, so do not
                // park (a parked consumer would sleep forever): yield until drained.
                return drained_after_close() ? Attempt::closed : Attempt::busy;
            },
            d);
        if (r) m_not_full.notify_one();
        return r;
    }

    // producers
    alignas(platform::kCacheLine) std::atomic<std::uint64_t> m_tail{0};  // position | kClosedBit
    // consumers
    alignas(platform::kCacheLine) std::atomic<std::uint64_t> m_head{0};
    // consumers sleep here, producers wake them
    alignas(platform::kCacheLine) queue_detail::Parking<Scope> m_not_empty;
    // producers sleep here, consumers wake them
    alignas(platform::kCacheLine) queue_detail::Parking<Scope> m_not_full;
    // written once by close(); read by spinning consumers instead of the tail line
    alignas(platform::kCacheLine) std::atomic<std::uint32_t> m_closed_hint{0};
    // cells
    alignas(platform::kCacheLine) queue_detail::Slot<T> m_slots[N];
};

}  // namespace staticrt
