// SPDX-License-Identifier: MIT
// staticrt/queue/detail/slot.hpp — one queue cell: a sequence word and raw storage for a T.
//
// The sequence word says, for the lap of the position that maps to this cell, whether the
// cell is empty (== 2 * lap base) or full (== 2 * lap base + 1); a consumer frees it for the
// next lap by storing 2 * (lap base + N). Doubling keeps "full in lap k" and "empty in lap
// k+1" apart even for N == 1. Zero is "empty, lap 0" for every cell, so a zero-initialised
// queue (a constinit global or a fresh shared-memory segment) is a valid empty queue.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include "staticrt/platform/arch.hpp"

namespace staticrt::detail {

/// One cell; P (detail/wait_policy.hpp) supplies the atomic type of the sequence word.
template <class T, class P>
struct Slot {
    constexpr Slot() noexcept : none() {}
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() {}

    typename P::template atomic<std::uint32_t> seq{0};
    union {
        char none;  // active while the cell is empty: keeps the constructor constexpr
        T value;
    };

    template <class... Args>
    void construct(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args...>) {
        ::new (static_cast<void*>(&value)) T(std::forward<Args>(args)...);
    }
    void destroy() noexcept { value.~T(); }
};

/// Uninitialised storage for one T (the target of a pop that constructs).
template <class T>
struct Raw {
    alignas(T) unsigned char bytes[sizeof(T)];
    [[nodiscard]] void* raw() noexcept { return bytes; }
    /// The object, once one was constructed in raw().
    [[nodiscard]] T* obj() noexcept { return std::launder(static_cast<T*>(static_cast<void*>(bytes))); }
};

/// Sequence values of a cell for position `pos` of a queue with capacity N (wrap-safe mod 2^32).
template <std::size_t N>
struct SeqOf {
    static constexpr std::uint32_t kMask = static_cast<std::uint32_t>(N - 1);
    [[nodiscard]] static constexpr std::uint32_t empty(std::uint32_t pos) noexcept { return (pos & ~kMask) << 1; }
    [[nodiscard]] static constexpr std::uint32_t full(std::uint32_t pos) noexcept { return empty(pos) | 1u; }
    [[nodiscard]] static constexpr std::uint32_t next_lap(std::uint32_t pos) noexcept {
        return empty(pos + static_cast<std::uint32_t>(N));
    }
};

/// Position -> cell index: consecutive positions in consecutive cells. A transpose that put
/// consecutive positions one cache line apart (so producer and consumer never share a line)
/// was measured and dropped: it costs one line transfer per element, while consecutive cells
/// let one transfer carry several ready elements (SPSC 0.5x -> 1.1x atomic_queue, MPMC try_
/// loop 2.3x faster on 1p1c; docs/queues.md, "Cell layout").
template <std::size_t N>
struct CellMap {
    [[nodiscard]] static constexpr std::uint32_t index(std::uint32_t pos) noexcept {
        return pos & static_cast<std::uint32_t>(N - 1);
    }
};

/// How far a producer that found the queue full stays behind the consumers before it writes
/// again (SpscRing, MpmcRing, TicketRing: their blocking push's wait): half the ring. Writing
/// into the cell a consumer has just freed pulls the line that consumer is still reading (its
/// next cells) away from it at every element; waiting until half the ring is free lets each side
/// work in lines of its own and the producer refill the ring in one run (bench/notes.md, "SPSC: a
/// producer that slips back", "MPMC: the producer's slip, again"). 0 (no slip) for queues
/// shorter than eight kCacheLine of cells. Only for the first kProducerSlipPolls polls of a wait:
/// a consumer that frees fewer cells and stops still lets the producer in after them.
template <class S, std::size_t N>
inline constexpr std::uint32_t kProducerSlip = [] {
    constexpr std::size_t per = (2 * platform::kCacheLine + sizeof(S) - 1) / sizeof(S);
    return N >= 4 * per ? static_cast<std::uint32_t>(N / 2) : 0u;
}();
template <class S, std::size_t N>
inline constexpr std::uint32_t kProducerSlipPolls = kProducerSlip<S, N> == 0 ? 0u : 128u;

/// A producer's look ahead during its slip: true when the cell kProducerSlip positions past
/// position `tail` is free for its lap, so (consumers free cells in about position order) the
/// ring is about half empty.
template <std::size_t N, class S>
[[nodiscard]] bool slip_cell_free(const S* slots, std::uint32_t tail) noexcept {
    const std::uint32_t pos = tail + kProducerSlip<S, N>;
    // [queue.slip.load] relaxed: only decides when the producer attempts again; the attempt's own
    // acquire load of the cell ([spsc.free.load] / [mpmc.free.load] / [tq.free.load]) is what
    // orders its write into a cell.
    return slots[CellMap<N>::index(pos)].seq.load(std::memory_order_relaxed) == SeqOf<N>::empty(pos);
}

/// How far a consumer that has caught up with a running stream lets the producers get ahead
/// before it goes on (MpmcRing, TicketRing: after a blocking pop that had to poll): a quarter of
/// the ring, half the producers' slip. A consumer faster than its producer otherwise polls the
/// cell the producer is writing next and pulls that line away from it at every element (the ring
/// near empty, 2.4-3.0e7 items/s on the 2-core VM against 5.5-8.6e7 once the ring holds a few
/// lines; bench/notes.md, "The near-empty regime"). 0 (no gap) where there is no slip.
template <class S, std::size_t N>
inline constexpr std::uint32_t kConsumerGap = kProducerSlip<S, N> / 2;
/// Polls without a new line of elements after which the consumer stops waiting for the gap: the
/// stream has paused or ended, and what it holds goes out now.
inline constexpr std::uint32_t kConsumerGapIdlePolls = 32;

/// The wait of a consumer's gap, over positions of type Pos and a predicate `filled(pos)` (a
/// relaxed snapshot of "position pos holds its element"): returns at once unless `next` is
/// already filled (a stream: the producer is writing right behind the consumer; never in a
/// ping-pong, where the next element comes after a round trip), then waits while the
/// producers fill another `line` positions within kConsumerGapIdlePolls polls, until they are
/// `gap` positions ahead. consumer_gap() (the cell queues) and ScqQueue's run_ahead() are this.
template <class P, class Pos, class Filled>
void await_gap(Pos next, Pos gap, Pos line, Filled&& filled) noexcept {
    if (!filled(next)) return;
    Pos seen = next;  // the furthest position seen filled
    for (std::uint32_t idle = 0; static_cast<Pos>(seen - next) < gap;) {
        const Pos probe = static_cast<Pos>(seen + line);
        if (filled(probe)) {
            seen = probe;
            idle = 0;
        } else if (++idle == kConsumerGapIdlePolls) {
            return;
        } else {
            P::cpu_relax();
        }
    }
}

/// The consumer's gap for the cell queues. `next` is the position after the element just
/// taken; the probe looks one line of cells ahead of the furthest full cell seen (await_gap()).
/// A heuristic: it only delays the return of an element the caller already owns, claims
/// nothing and orders nothing.
template <std::size_t N, class P, class S>
void consumer_gap(const S* slots, std::uint32_t next) noexcept {
    constexpr std::uint32_t gap = kConsumerGap<S, N>;
    if constexpr (gap != 0) {
        constexpr auto line = static_cast<std::uint32_t>((platform::kCacheLine + sizeof(S) - 1) / sizeof(S));
        await_gap<P>(next, gap, line, [slots](std::uint32_t pos) noexcept {
            // [queue.gap.load] relaxed: only decides when the pop returns.
            return slots[CellMap<N>::index(pos)].seq.load(std::memory_order_relaxed) == SeqOf<N>::full(pos);
        });
    }
}

/// Checks shared by every queue's template parameters (one message per mistake).
template <class T, std::size_t N, bool Shared>
struct QueueChecks {
    static_assert(N > 0, "queue capacity N must be at least 1, e.g. 1024");
    static_assert((N & (N - 1)) == 0, "queue capacity N must be a power of two, e.g. 1024");
    static_assert(N <= (std::size_t{1} << 30), "queue capacity N must be at most 2^30");
    static_assert(std::is_nothrow_move_constructible_v<T> || std::is_nothrow_copy_constructible_v<T>,
                  "queue element type T must be nothrow move- or copy-constructible");
    static_assert(std::is_nothrow_destructible_v<T>, "queue element type T must be nothrow destructible");
    static_assert(!Shared || std::is_trivially_copyable_v<T>,
                  "a process-shared queue needs a trivially copyable T (no pointers into one process)");
    static constexpr bool ok = true;
};

}  // namespace staticrt::detail
