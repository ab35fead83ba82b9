// SPDX-License-Identifier: MIT
// staticrt/queue/scq_queue.hpp — bounded MPMC queue whose claims are fetch_adds that cannot fail.
//
// ScqQueue<T, N> holds up to N elements inline (N a power of two), like MpmcQueue, but a claim
// never retries a failed CAS on a shared counter: the design follows Nikolaev's SCQ ("A
// Scalable, Portable, and Memory-Efficient Lock-Free FIFO Queue", DISC 2019). N data cells, and
// two rings of 2N index entries: `free` (cells nobody uses) and `used` (cells holding an
// element, in FIFO order). push = take a free index -> construct the cell -> append the index
// to `used`; pop = take an index from `used` -> move the element out -> give the index back to
// `free`. Each ring entry is one 64-bit word (cycle, unsafe bit, index); enqueue and dequeue
// claim a ring position with fetch_add on the ring's tail / head. A dequeuer that reaches a
// position before its enqueuer wrote it advances the entry's cycle (or marks it unsafe), so the
// late enqueuer takes a new position: nobody waits on a claimed but unfinished position. A
// threshold counter makes "empty" detection livelock-free; a dequeuer that overtakes the tail
// pulls the tail up ("catchup"). Both rings hold at most N of their 2N entries, so an enqueue
// always finds room and never waits.
//
// Blocking: try_* never block; push()/pop() spin briefly and then sleep on a futex word
// (detail::EventCount), as MpmcQueue does. close() sets a bit in the `used` ring's tail (as
// LCRQ closes a ring): no index is appended after it, pops drain what is left, then report
// Errc::closed. A push that claimed a free cell but finds the queue closed when it appends
// gives the cell back and fails with Errc::closed; push(T&&) then moves its value back into
// the caller's object (emplace(args...) may have consumed its arguments).
// Memory ordering: everything a producer wrote before its push of an element happens-before the
// pop of that element returns ([scq.used.enq]/[scq.used.deq]); a cell is reused only after its
// previous element was moved out ([scq.free.enq]/[scq.free.deq]). docs/memory-ordering.md,
// "## SCQ queue", has the argument and the cycle wrap-around bound.
// Shared memory (Scope = WaitScope::process_shared, trivially copyable T): nobody waits for a
// process killed inside push or pop. Each cell names the process holding it outside the rings;
// a blocking push that finds the queue full for kDeadHolderCheckNs gives back cells held by
// processes that no longer exist, and a dequeuer that finds an older lap's index still in its
// entry (its dequeuer died after the claim) takes it over. Every loop is bounded without
// trusting the shared words (scribbled memory ends in a value or Errc::corrupted). docs/queues.md,
// "A dead producer or consumer"; docs/memory-ordering.md, "SCQ queue".
// Layout (ScqLayout): ScqQueue (`spread`) puts consecutive ring positions in different cache
// lines, so that threads claiming neighbouring positions at the same time write different lines
// (many threads per side); CompactScqQueue (`compact`) keeps eight consecutive positions in one
// line, so that a stream with few threads per side moves one line per eight elements per ring
// instead of one per element (docs/queues.md, "Which MPMC queue to pick").
//
//   staticrt::ScqQueue<Job, 256> q;
//   (void)q.push(job, staticrt::Deadline::after(10ms));     // any producer
//   while (auto j = q.pop()) run(*j);                        // any consumer; ends at close()
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <new>
#include <span>
#include <type_traits>
#include <utility>

#include "staticrt/detail/event_count.hpp"
#include "staticrt/detail/wait_policy.hpp"
#include "staticrt/platform/arch.hpp"
#include "staticrt/platform/process.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"
#include "staticrt/queue/detail/queue_front.hpp"
#include "staticrt/queue/detail/slot.hpp"

namespace staticrt {

using platform::WaitScope;

/// Where ScqQueue's ring positions sit (see the top of this file): `spread` for many threads
/// per side, `compact` for few.
enum class ScqLayout : std::uint8_t { spread, compact };

namespace detail {

/// SCQ's ring of 2N entries carrying indices < N (never more than N of them at once), over a
/// wait policy P. Positions are 64-bit counters; the `used` ring keeps a close bit in bit 63 of
/// its tail. An entry word is (tag << kTagShift) | unsafe << kOrder | field, where
///   tag   = (position / 2N + 1) mod 2^(63 - kOrder): the cycle of the position that wrote it,
///           plus one, so that an all-zero entry is "cycle -1": older than every position;
///   unsafe: a dequeuer passed this entry while it still held an older element;
///   field = index ^ (2N - 1) for an element, 0 for "no element" (SCQ's bottom).
/// All zero (entries, head, tail, threshold) is an empty ring: a zero-filled object is valid.
/// Untrusted (a process-shared queue, whose memory another process may have scribbled on):
/// every loop is bounded by the words' live invariants, and a state no live ring reaches is
/// reported (kCorrupt, Enq::corrupted) instead of looping on it.
template <std::size_t N, class P, ScqLayout L = ScqLayout::spread, bool Untrusted = false>
class ScqIndexRing {
    template <class U>
    using atomic = typename P::template atomic<U>;

public:
    static constexpr std::uint64_t kSlots = 2 * static_cast<std::uint64_t>(N);
    static constexpr unsigned kOrder = static_cast<unsigned>(std::countr_zero(kSlots));
    static constexpr std::uint64_t kFieldMask = kSlots - 1;
    static constexpr std::uint64_t kUnsafe = kSlots;  // bit kOrder
    static constexpr unsigned kTagShift = kOrder + 1;
    static constexpr std::uint64_t kTagMask = ~std::uint64_t{0} << kTagShift;
    static constexpr std::uint64_t kClosedBit = std::uint64_t{1} << 63;
    static constexpr std::uint64_t kPosMask = ~kClosedBit;
    /// SCQ's threshold 3N - 1, stored plus one (so that zero is SCQ's initial -1, "empty").
    static constexpr std::int64_t kBudget = 3 * static_cast<std::int64_t>(N);
    static constexpr std::uint32_t kEmpty = ~std::uint32_t{0};
    static constexpr std::uint32_t kCorrupt = ~std::uint32_t{0} - 1;
    /// Untrusted, drain mode: this call passed kDrainStep positions and the close position is
    /// still ahead; call again (every call ends, whatever the head and the limit hold).
    static constexpr std::uint32_t kAgain = ~std::uint32_t{0} - 2;
    /// Untrusted: an enqueue that failed this many claims in a row reports Enq::corrupted (a
    /// live ring of at most N indices in 2N entries gives an enqueuer an entry within about N
    /// claims unless dequeuers keep overtaking it: 2^20 failures is far past any live queue).
    static constexpr std::uint32_t kMaxEnqueueClaims = std::uint32_t{1} << 20;
    /// Untrusted: positions one drain-mode dequeue passes at most before it returns kAgain.
    static constexpr std::uint64_t kDrainStep = 4 * kSlots;
    /// Untrusted: a close position further than this past the head is reported as kCorrupt
    /// (each position in between is claimed by one enqueue attempt; a live queue closes with
    /// about 2N of them at most, plus a few per enqueuer inside a call).
    static constexpr std::uint64_t kMaxDrainGap = std::uint64_t{1} << 32;
    /// Re-reads of an entry whose enqueuer has not written it yet, before the dequeuer
    /// invalidates it (the enqueuer is probably a few instructions away; invalidating costs it
    /// a new position).
    static constexpr unsigned kSlotSpin = 64;
    enum class Enq : std::uint8_t { ok, closed, corrupted };

    constexpr ScqIndexRing() noexcept = default;
    ScqIndexRing(const ScqIndexRing&) = delete;
    ScqIndexRing& operator=(const ScqIndexRing&) = delete;

    /// Appends `idx` (< N). Never waits for room: the ring holds at most N indices. closed:
    /// the close bit was set before this call's claim (only the `used` ring is ever closed).
    Enq enqueue(std::uint32_t idx) noexcept {
        const std::uint64_t field = static_cast<std::uint64_t>(idx) ^ kFieldMask;
        [[maybe_unused]] std::uint32_t claims = 0;
        for (;;) {
            if constexpr (Untrusted) {
                if (++claims > kMaxEnqueueClaims) return Enq::corrupted;
            }
            // [scq.tail.claim] seq_cst RMW: the claim; in one total order with [scq.close]
            // (a claim after the close bit sees it) and with the head / threshold words the
            // SCQ argument reasons about ([scq.head.claim], [scq.enq.head.load]).
            const std::uint64_t raw = m_tail.fetch_add(1, std::memory_order_seq_cst);
            if ((raw & kClosedBit) != 0) return Enq::closed;
            const std::uint64_t t = raw & kPosMask;
            atomic<std::uint64_t>& e = m_entry[slot_of(t)];
            // The entry is loaded and then CASed: fetch its line for writing first, so that a
            // line the other side wrote last moves once, not twice (shared, then exclusive).
            P::prefetch_for_write(&e);
            const std::uint64_t tag = tag_of(t);
            // [scq.entry.load] seq_cst: pairs with [scq.entry.cas]/[scq.entry.consume] of the
            // last writer of this entry, and is in the total order with the head claims, so a
            // dequeuer that passed t is seen by [scq.enq.head.load] (docs/memory-ordering.md,
            // "SCQ queue": acquire is not enough there).
            std::uint64_t cur = e.load(std::memory_order_seq_cst);
            for (;;) {
                if (!older(cur & kTagMask, tag) || (cur & kFieldMask) != 0) break;  // taken or ahead
                // An unsafe entry may be written only while no dequeuer has passed t.
                // [scq.enq.head.load] seq_cst: see [scq.tail.claim].
                if ((cur & kUnsafe) != 0 && m_head.load(std::memory_order_seq_cst) > t) break;
                // [scq.entry.cas] seq_cst (release part: the caller's writes before the enqueue,
                // the cell's element for `used` and its moved-out state for `free`, are visible
                // to the dequeuer whose [scq.entry.deq.load] reads this; pairs with it). Fails
                // when a dequeuer changed the entry first: re-examine it.
                if (e.compare_exchange_weak(cur, tag | field, std::memory_order_seq_cst, std::memory_order_seq_cst)) {
                    // [scq.threshold.reset] seq_cst: dequeuers may look for elements again;
                    // pairs with [scq.threshold.load].
                    if (m_budget.load(std::memory_order_seq_cst) != kBudget)
                        m_budget.store(kBudget, std::memory_order_seq_cst);
                    return Enq::ok;
                }
            }
        }
    }

    /// Takes the oldest index. kEmpty: the ring was empty at some point during the call.
    /// kCorrupt: an entry named an index >= N. With `limit` (drain mode, after close): ignores
    /// the threshold and goes on until the head reaches `limit` (no position at or beyond it
    /// can ever hold an index), so kEmpty then means "nothing will ever arrive".
    /// `where` (optional): the position the returned index was taken at. Untrusted: `before_take`
    /// is called with (index, position) right before each CAS that would take an index, so that
    /// a process-shared queue names the taker before the take (the CAS is the slow instruction,
    /// where a kill signal lands; docs/queues.md, "A dead producer or consumer").
    std::uint32_t dequeue(std::uint64_t limit = 0, std::uint64_t* where = nullptr) noexcept {
        return dequeue(limit, where, [](std::uint32_t, std::uint64_t) noexcept {});
    }
    template <class BeforeTake>
    std::uint32_t dequeue(std::uint64_t limit, std::uint64_t* where, BeforeTake&& before_take) noexcept {
        const bool drain = limit != 0;
        // [scq.threshold.load] seq_cst: pairs with [scq.threshold.reset]/[scq.threshold.dec].
        if (!drain) {
            const std::int64_t budget = m_budget.load(std::memory_order_seq_cst);
            if (budget <= 0) return kEmpty;
            // Untrusted: the threshold is only ever stored as kBudget and counted down; a larger
            // one would let this call run (budget) claims.
            if constexpr (Untrusted) {
                if (budget > kBudget) return kCorrupt;
            }
            // Not in the paper: a dequeuer that finds no position claimed beyond the head
            // returns at once instead of claiming one, invalidating it and pulling the tail up
            // (a consumer polling a near-empty ring did that up to 3N times per element, and
            // each time took the producers' tail line exclusively). The head is read first, so
            // "tail <= head" held at the tail load: the ring was empty then.
            // [scq.empty.peek] seq_cst loads: in the total order with the claims. The head's own
            // entry is looked at first ([scq.ready.load]): when it already holds its element the
            // tail is not read at all, so a dequeuer running behind its enqueuers leaves their
            // tail line alone (one line transfer per element less on each ring).
            const std::uint64_t h0 = m_head.load(std::memory_order_seq_cst);
            if (!ready(h0) && (m_tail.load(std::memory_order_seq_cst) & kPosMask) <= h0) return kEmpty;
        }
        [[maybe_unused]] std::uint64_t passed = 0;
        if constexpr (Untrusted) {
            if (drain) {
                const std::uint64_t h = m_head.load(std::memory_order_seq_cst);  // [scq.head.claim] (a peek)
                if (h < limit && limit - h > kMaxDrainGap) return kCorrupt;
            }
        }
        for (;;) {
            if (drain && m_head.load(std::memory_order_seq_cst) >= limit) return kEmpty;  // [scq.head.claim] (a peek)
            if constexpr (Untrusted) {
                if (drain && ++passed > kDrainStep) return kAgain;
            }
            // [scq.head.claim] seq_cst RMW: see [scq.tail.claim].
            const std::uint64_t h = m_head.fetch_add(1, std::memory_order_seq_cst);
            if (drain && h >= limit) return kEmpty;
            atomic<std::uint64_t>& e = m_entry[slot_of(h)];
            P::prefetch_for_write(&e);  // loaded, then fetch_and'ed or CASed: see enqueue()
            const std::uint64_t tag = tag_of(h);
            unsigned spins = 0;
            // [scq.entry.deq.load] seq_cst (acquire part: pairs with [scq.entry.cas]; reading
            // the enqueuer's word, or a later RMW of it, makes everything before that enqueue
            // visible; seq_cst: see [scq.entry.load]).
            std::uint64_t cur = e.load(std::memory_order_seq_cst);
            for (;;) {
                const std::uint64_t ctag = cur & kTagMask;
                if (ctag == tag) {
                    const std::uint64_t f = cur & kFieldMask;
                    const std::uint64_t idx = f ^ kFieldMask;
                    if constexpr (Untrusted) {
                        // A later dequeuer may take this index from us (the rescue below), so the
                        // entry is consumed only if it is still the word we read: a CAS, where a
                        // private ring's claimant, the only one for this cycle, uses fetch_and.
                        // [scq.entry.consume] seq_cst CAS; failure re-reads (seq_cst).
                        if (f != 0 && idx < N) before_take(static_cast<std::uint32_t>(idx), h);
                        if (f != 0 && !e.compare_exchange_weak(cur, cur & ~kFieldMask, std::memory_order_seq_cst,
                                                               std::memory_order_seq_cst))
                            continue;
                    } else {
                        // Our position's index. [scq.entry.consume] seq_cst RMW: marks it taken
                        // and keeps the unsafe bit another dequeuer may be setting concurrently;
                        // in the total order before a later enqueuer's [scq.entry.load].
                        e.fetch_and(~kFieldMask, std::memory_order_seq_cst);
                    }
                    if (where != nullptr) *where = h;
                    return f == 0 || idx >= N ? kCorrupt : static_cast<std::uint32_t>(idx);
                }
                if (!older(ctag, tag)) break;  // a later cycle got there: nothing for h
                std::uint64_t next;
                if ((cur & kFieldMask) != 0) {   // an older element not yet taken by its dequeuer
                    if constexpr (Untrusted) {
                        // Its dequeuer may be a process that died after its claim: nobody would
                        // ever take it (a lost element, or a lost free cell). Rescue it: take it
                        // ourselves and close our own position (its enqueuer moves on). A live
                        // dequeuer of the older position finds a later cycle and claims again.
                        // [scq.entry.consume] seq_cst CAS (as above; the acquire part pairs with
                        // the older enqueue's [scq.entry.cas]); failure re-reads (seq_cst).
                        const std::uint64_t idx = (cur & kFieldMask) ^ kFieldMask;
                        if (idx < N) before_take(static_cast<std::uint32_t>(idx), h);
                        if (!e.compare_exchange_weak(cur, tag | (cur & kUnsafe), std::memory_order_seq_cst,
                                                     std::memory_order_seq_cst))
                            continue;
                        if (where != nullptr) *where = h;
                        return idx >= N ? kCorrupt : static_cast<std::uint32_t>(idx);
                    }
                    if ((cur & kUnsafe) != 0) break;
                    next = cur | kUnsafe;        // its enqueuers for h must check the head
                } else {
                    if (++spins <= kSlotSpin && (m_tail.load(std::memory_order_relaxed) & kPosMask) > h) {
                        // [scq.tail.peek] relaxed: only decides whether to wait a little for the
                        // enqueuer that claimed h; [scq.entry.deq.load] re-reads the entry.
                        P::cpu_relax();
                        cur = e.load(std::memory_order_seq_cst);  // [scq.entry.deq.load]
                        continue;
                    }
                    next = tag | (cur & kUnsafe);  // advance the cycle: h's enqueuer moves on
                }
                // [scq.entry.cas] seq_cst: as in enqueue(); failure re-reads (seq_cst).
                if (e.compare_exchange_weak(cur, next, std::memory_order_seq_cst, std::memory_order_seq_cst)) break;
            }
            if (drain) continue;
            // [scq.tail.load] seq_cst: see [scq.tail.claim].
            const std::uint64_t raw = m_tail.load(std::memory_order_seq_cst);
            if ((raw & kPosMask) <= h + 1) {
                catchup(raw, h + 1);
                // [scq.threshold.dec] seq_cst RMW: see [scq.threshold.load].
                m_budget.fetch_sub(1, std::memory_order_seq_cst);
                return kEmpty;
            }
            if (m_budget.fetch_sub(1, std::memory_order_seq_cst) <= 1) return kEmpty;  // [scq.threshold.dec]
        }
    }

    /// Sets the close bit; returns the tail before it (with the bit if it was set already).
    std::uint64_t close() noexcept {
        // [scq.close] seq_cst RMW on the tail: every claim [scq.tail.claim] is before it (and
        // may still complete) or after it (and sees the bit).
        return m_tail.fetch_or(kClosedBit, std::memory_order_seq_cst);
    }
    [[nodiscard]] bool closed() const noexcept {
        // [scq.closed.load] acquire: pairs with [scq.close].
        return (m_tail.load(std::memory_order_acquire) & kClosedBit) != 0;
    }
    /// Positions claimed by enqueuers and not yet passed by dequeuers, clamped to [0, N]; exact
    /// when no thread is inside a call (a snapshot otherwise).
    [[nodiscard]] std::size_t size_approx(std::uint64_t tail_limit) const noexcept {
        // [scq.observe] relaxed: a snapshot, no ordering promised.
        const std::uint64_t h = m_head.load(std::memory_order_relaxed);
        std::uint64_t t = m_tail.load(std::memory_order_relaxed) & kPosMask;
        if (tail_limit != 0 && t > tail_limit) t = tail_limit;
        return t <= h ? 0 : (t - h > N ? N : static_cast<std::size_t>(t - h));
    }
    /// True when position `pos` holds the element of its own cycle. A snapshot for heuristics:
    /// [scq.ready.load] relaxed: it decides whether to claim or to wait a little longer, never
    /// what an element holds; the claim's own [scq.entry.deq.load] re-reads the entry.
    [[nodiscard]] bool ready(std::uint64_t pos) const noexcept {
        const std::uint64_t e = m_entry[slot_of(pos)].load(std::memory_order_relaxed);
        return (e & kTagMask) == tag_of(pos) && (e & kFieldMask) != 0;
    }
    /// True when the position `k` - 1 past the head holds its element: about `k` entries are
    /// waiting to be dequeued (enqueuers fill positions in about claim order). A snapshot.
    [[nodiscard]] bool ready_ahead(std::uint64_t k) const noexcept {
        return ready(m_head.load(std::memory_order_relaxed) + k - 1);  // [scq.ready.load]
    }
    /// The consumer's gap (queue/detail/slot.hpp, await_gap()): when the head's entry is
    /// already filled (a stream, not a ping-pong), waits while the enqueuers fill another line
    /// of positions within kConsumerGapIdlePolls polls, until `gap` positions past the head are
    /// filled. Claims nothing, orders nothing.
    void run_ahead(std::uint64_t gap) const noexcept {
        // [scq.ready.load] relaxed, every load here: only decides when the caller returns.
        await_gap<P>(m_head.load(std::memory_order_relaxed), gap, kEntriesPerLine,
                     [this](std::uint64_t pos) noexcept { return ready(pos); });
    }
    /// True when some entry holds index `i` (untaken). A scan of the 2N entries, for the rare
    /// reclaim of a process-shared queue; [scq.observe] relaxed loads.
    [[nodiscard]] bool holds(std::uint32_t i) const noexcept {
        const std::uint64_t field = static_cast<std::uint64_t>(i) ^ kFieldMask;
        for (std::uint64_t k = 0; k < kSlots; ++k) {
            const std::uint64_t e = m_entry[k].load(std::memory_order_relaxed);
            if ((e & kFieldMask) == field) return true;
        }
        return false;
    }
    [[nodiscard]] std::uint64_t tail_position() const noexcept {
        return m_tail.load(std::memory_order_acquire) & kPosMask;  // [scq.closed.load]
    }

    static constexpr unsigned kLineShift = 3;  // 8-byte entries, 64-byte lines: 2^3 a line
    static constexpr std::uint64_t kEntriesPerLine = std::uint64_t{1} << kLineShift;
    /// spread: consecutive positions land in different cache lines (8 entries of 8 bytes a
    /// line), so that threads claiming neighbouring positions do not write the same line.
    /// compact: position order (8 consecutive positions a line). Public: the layout tests read it.
    static constexpr std::size_t slot_of(std::uint64_t pos) noexcept {
        if constexpr (L == ScqLayout::compact || kOrder <= kLineShift) {
            return static_cast<std::size_t>(pos & kFieldMask);
        } else {
            const std::uint64_t p = pos & kFieldMask;
            return static_cast<std::size_t>((p >> (kOrder - kLineShift)) | ((p << kLineShift) & kFieldMask));
        }
    }

private:
    static constexpr std::uint64_t tag_of(std::uint64_t pos) noexcept {
        return ((pos >> kOrder) + 1) << kTagShift;  // wraps mod 2^(64 - kTagShift) by the shift
    }
    /// a < b for tags (already shifted into the top bits): wrap-around compare.
    static constexpr bool older(std::uint64_t a, std::uint64_t b) noexcept {
        return static_cast<std::int64_t>(a - b) < 0;
    }
    void catchup(std::uint64_t raw_tail, std::uint64_t head) noexcept {
        for (;;) {
            if ((raw_tail & kClosedBit) != 0) return;  // never clear the close bit
            // [scq.catchup] seq_cst CAS: moves the tail up to the head so enqueuers skip the
            // positions dequeuers already passed; only ever raises the tail.
            if (m_tail.compare_exchange_weak(raw_tail, head, std::memory_order_seq_cst, std::memory_order_seq_cst))
                return;
            head = m_head.load(std::memory_order_seq_cst);  // [scq.head.claim] (a re-read)
            if ((raw_tail & kPosMask) >= head) return;
        }
    }

    alignas(platform::kCacheLine) atomic<std::uint64_t> m_head{0};
    alignas(platform::kCacheLine) atomic<std::int64_t> m_budget{0};  // SCQ threshold + 1
    alignas(platform::kCacheLine) atomic<std::uint64_t> m_tail{0};   // position | kClosedBit
    alignas(platform::kCacheLine) atomic<std::uint64_t> m_entry[kSlots]{};
};

/// One data cell of ScqRing: raw storage for a T (who owns it is decided by the index rings).
template <class T>
struct ScqCell {
    constexpr ScqCell() noexcept : none() {}
    ScqCell(const ScqCell&) = delete;
    ScqCell& operator=(const ScqCell&) = delete;
    ~ScqCell() {}
    union {
        char none;
        T value;
    };
};

/// A cell of a process-shared ScqRing: the element and, in the same line, the word naming the
/// process that holds the cell outside the rings (ScqRing::hold()). Beside the element, the
/// holder's writes ride on the line transfer the element needs anyway.
template <class T, class P>
struct ScqHeldCell : ScqCell<T> {
    typename P::template atomic<std::uint64_t> holder{0};
};

/// The queue itself, over a wait policy P (detail/wait_policy.hpp), so the deterministic
/// scheduler (tests/dsched/) can run it. ScqQueue is this with OsWaitPolicy.
template <class T, std::size_t N, class P, WaitScope Scope = WaitScope::process_private,
          ScqLayout L = ScqLayout::spread>
class ScqRing : public QueueFront<ScqRing<T, N, P, Scope, L>, T, N> {
    static_assert(QueueChecks<T, N, Scope == WaitScope::process_shared>::ok);
    static_assert(N <= (std::size_t{1} << 30), "ScqQueue capacity N must be at most 2^30");
    static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
                  "ScqQueue needs lock-free 64-bit atomics on this target");
    friend class QueueFront<ScqRing, T, N>;
    template <class U>
    using atomic = typename P::template atomic<U>;
    static constexpr bool kShared = Scope == WaitScope::process_shared;
    using Ring = ScqIndexRing<N, P, L, kShared>;
    enum class Put : std::uint8_t { ok, full, closed, corrupted };
    enum class Take : std::uint8_t { got, empty, closed, corrupted, again };
    /// process_shared: each cell names who holds it outside the rings, as (generation << 32 |
    /// pid) in ScqHeldCell::holder; pid 0 while the cell's index sits in the free ring (or was
    /// never handed out); the producer's name stays while the element is queued, until its
    /// consumer names itself. A process killed while it holds a cell leaves its pid there, and a
    /// producer that finds the queue full gives such cells back (reclaim_dead_holders()).
    using Cell = std::conditional_t<Scope == WaitScope::process_shared, ScqHeldCell<T, P>, ScqCell<T>>;
    /// process_shared: how many cells reclaim_dead_holders() gave back (a statistic).
    struct ReclaimCount {
        atomic<std::uint64_t> reclaimed{0};
    };
    struct NoReclaimCount {};

public:
    static constexpr WaitScope kScope = Scope;
    static constexpr ScqLayout kLayout = L;
    /// process_shared: how long a blocking push finds the queue full before it looks for cells
    /// held by processes that no longer exist (and again every this long while it stays full).
    static constexpr std::int64_t kDeadHolderCheckNs = 10'000'000;

    // ---------------------------------------------------------------- lifetime
    /// An empty, open queue; all zero. constexpr: usable as a constinit global.
    constexpr ScqRing() noexcept = default;
    ScqRing(const ScqRing&) = delete;
    ScqRing& operator=(const ScqRing&) = delete;
    /// Destroys the elements still inside. No thread may use the queue any more.
    ~ScqRing() {
        if constexpr (!std::is_trivially_destructible_v<T>) {
            const std::uint64_t limit = m_used.tail_position();
            for (;;) {
                const std::uint32_t i = m_used.dequeue(limit + 1);
                if (i >= N) break;
                m_cells[i].value.~T();
            }
        }
    }

    // ---------------------------------------------------------------- non-blocking
    // try_push(v), push(v, d), try_pop(out), try_pop_n(out), pop(d), pop(out, d), empty_approx(),
    // capacity(): QueueFront.
    /// Any thread. Constructs the element in place. false: full, or closed.
    template <class... Args>
    [[nodiscard]] bool try_emplace(Args&&... args) noexcept {
        if (put(std::forward<Args>(args)...) != Put::ok) return false;
        m_not_empty.notify_one();
        return true;
    }
    /// Any thread. Copies a prefix of `items`; returns how many went in.
    [[nodiscard]] std::size_t try_push_n(std::span<const T> items) noexcept {
        std::size_t n = 0;
        while (n < items.size() && put(items[n]) == Put::ok) ++n;
        notify_batch(m_not_empty, n);
        return n;
    }

    // ---------------------------------------------------------------- blocking
    /// Any thread. Constructs in place once there is room. Errc::timeout, Errc::closed (after a
    /// race with close() the arguments may have been consumed; push(T&&) gets its value back).
    template <class... Args>
    [[nodiscard]] Result<void> emplace(Deadline d, Args&&... args) noexcept {
        const Put p = put(std::forward<Args>(args)...);
        if (p == Put::ok) [[likely]] {  // fast path, inlined
            m_not_empty.notify_one();
            return ok();
        }
        if (p == Put::closed) return unexpected(Errc::closed);
        if (p == Put::corrupted) return unexpected(Errc::corrupted);
        return emplace_wait(d, wait_arg<T>(std::forward<Args>(args))...);
    }
    /// Any thread. From now on pushes fail with Errc::closed (no index is appended to the
    /// element ring after the close bit is set); consumers drain the rest, then get
    /// Errc::closed. Idempotent.
    void close() noexcept {
        const std::uint64_t before = m_used.close();  // [scq.close]
        if ((before & Ring::kClosedBit) == 0) {
            // [scq.drain.limit] release: the tail at the close, plus one (never 0); pairs with
            // [scq.drain.limit.load]. Stored before the wake-ups below bump the parking words.
            m_drain_limit.store(before + 1, std::memory_order_release);
        }
        m_not_empty.wake_all();
        m_not_full.wake_all();
    }

    // ---------------------------------------------------------------- observers
    [[nodiscard]] std::uint32_t waiting_consumers() const noexcept { return m_not_empty.waiters(); }
    [[nodiscard]] std::uint32_t waiting_producers() const noexcept { return m_not_full.waiters(); }
    [[nodiscard]] std::uint32_t blocked_producers() const noexcept { return m_not_full.waiters(); }
    [[nodiscard]] bool closed() const noexcept { return m_used.closed(); }
    /// Elements inside, exact when nobody is pushing or popping.
    [[nodiscard]] std::size_t size_approx() const noexcept {
        // [scq.drain.limit.load] relaxed here: a snapshot.
        const std::uint64_t lim = m_drain_limit.load(std::memory_order_relaxed);
        return m_used.size_approx(lim == 0 ? 0 : lim - 1);
    }
    /// process_shared: cells given back to the queue because the process holding them died
    /// (each one a push that never returned ok, or an element that died with its consumer).
    [[nodiscard]] std::uint64_t cells_reclaimed_from_dead() const noexcept {
        if constexpr (kShared) return m_reclaims.reclaimed.load(std::memory_order_relaxed);  // [scq.reclaimed] relaxed: a statistic
        else return 0;
    }

private:
    /// The producer's slip and the consumer's gap (queue/detail/slot.hpp), counted in ring
    /// entries (8 bytes): half the ring and a quarter of it, for queues of 128 and more.
    static constexpr std::uint32_t kSlip = kProducerSlip<std::uint64_t, N>;
    static constexpr std::uint32_t kSlipPolls = kProducerSlipPolls<std::uint64_t, N>;
    static constexpr std::uint32_t kGap = kConsumerGap<std::uint64_t, N>;
    static_assert(kSlipPolls < kDefaultSpin.spin_attempts, "the slip must end inside the spin phase");

    /// emplace() once the queue was full: out of line, so that the inlined fast path stays small.
    /// For the first kSlipPolls polls it waits until the free ring holds about kSlip indices,
    /// so that producers and consumers work on entries and cells apart instead of handing each
    /// freed cell over at once (bench/notes.md, "ScqQueue: the slip and the gap").
    template <class... Args>
    [[gnu::noinline]] Result<void> emplace_wait(Deadline d, Args&&... args) noexcept {
        std::uint32_t polls = 0;
        [[maybe_unused]] std::int64_t full_since = 0;
        const Result<void> r = m_not_full.wait_for(
            [&]() noexcept {
                if constexpr (kSlip != 0) {
                    if (polls < kSlipPolls) {
                        ++polls;
                        if (!m_free.ready_ahead(kSlip)) return Attempt::would_block;
                    }
                }
                const Put q = put(std::forward<Args>(args)...);
                if constexpr (kShared) {
                    // Full may mean cells held by dead processes, whose consumers will never
                    // notify: re-check on a capped sleep, and look for such cells every
                    // kDeadHolderCheckNs while the queue stays full.
                    if (q == Put::full) {
                        const std::int64_t now = Instant::now().ns();
                        if (full_since == 0) full_since = now;
                        if (now - full_since >= kDeadHolderCheckNs) {
                            full_since = now;
                            if (reclaim_dead_holders() != 0) {
                                const Put again = put(std::forward<Args>(args)...);
                                if (again != Put::full) return finish_put(again);
                            }
                        }
                        return Attempt::stalled;
                    }
                }
                return finish_put(q);
            },
            d);
        if (r) m_not_empty.notify_one();
        return r;
    }
    static Attempt finish_put(Put q) noexcept {
        return q == Put::ok         ? Attempt::done
               : q == Put::closed    ? Attempt::closed
               : q == Put::corrupted ? Attempt::corrupted
                                     : Attempt::would_block;
    }
    /// process_shared: records this process (`me`, holder_id()) as the holder of cell `i`, just
    /// taken from a ring at position `pos` (held_word()). One store, no load: a process killed between the
    /// take and this store leaves the cell unattributed (lost to the queue), so the window is
    /// kept to a few instructions (docs/queues.md, "A dead producer or consumer").
    void hold(std::uint32_t i, std::uint32_t me, std::uint64_t pos) noexcept {
        if constexpr (kShared) {
            // [scq.holder] release: pairs with [scq.holder.load] of a reclaimer. The position's
            // low 32 bits are the word's generation: a reclaimer's older view of the word (the
            // same cell held earlier by a process whose pid was since reused) fails its CAS.
            m_cells[i].holder.store(held_word(me, pos), std::memory_order_release);
        } else {
            (void)i;
            (void)me;
            (void)pos;
        }
    }
    /// process_shared: this process's id, for hold() (a system call: asked before a claim).
    static std::uint32_t holder_id() noexcept {
        if constexpr (kShared) return static_cast<std::uint32_t>(platform::current_process_id());
        else return 0;
    }
    /// process_shared: names this process as the taker of cell `i` before the ring CAS that takes
    /// it (ScqIndexRing::dequeue's before_take): a kill right after that CAS, the slow
    /// instruction a signal lands after, finds the cell named. A CAS from the word just read, so
    /// that of two takers racing for one index (its claimant and a rescuer) one names itself;
    /// the one whose ring CAS wins names itself again with hold(). Before the take the index is
    /// still in its ring, and a reclaimer that finds us dead leaves it there.
    void pre_hold(std::uint32_t i, std::uint32_t me, std::uint64_t pos) noexcept {
        if constexpr (kShared) {
            atomic<std::uint64_t>& w = m_cells[i].holder;
            std::uint64_t c = w.load(std::memory_order_relaxed);  // [scq.holder] relaxed: the CAS decides
            // [scq.holder] release CAS: as hold().
            (void)w.compare_exchange_strong(c, held_word(me, pos), std::memory_order_release, std::memory_order_relaxed);
        } else {
            (void)i;
            (void)me;
            (void)pos;
        }
    }
    /// Marks a generation taken from the free ring (a producer's), so that a consumer's word
    /// (element ring) and a producer's word of the same process never compare equal: the
    /// consumer clears its name with a CAS from its own word after the producer may have
    /// named itself.
    static constexpr std::uint64_t kFreeRingGeneration = std::uint64_t{1} << 31;
    /// The holder word hold(i, me, pos) wrote.
    static constexpr std::uint64_t held_word(std::uint32_t me, std::uint64_t pos) noexcept {
        return (pos & 0xFFFF'FFFF) << 32 | me;
    }
    /// process_shared: cell `i` went back into the free ring; we stop naming ourselves unless a
    /// producer already took it and named itself. Until then a reclaimer that finds us dead sees
    /// the index in the free ring and leaves the cell there.
    void unhold(std::uint32_t i, std::uint32_t me, std::uint64_t pos) noexcept {
        if constexpr (kShared) {
            std::uint64_t mine = held_word(me, pos);
            // [scq.holder] relaxed CAS: fails when a producer's hold() already wrote its word.
            (void)m_cells[i].holder.compare_exchange_strong(mine, mine & ~std::uint64_t{0xFFFF'FFFF},
                                                            std::memory_order_relaxed, std::memory_order_relaxed);
        } else {
            (void)i;
            (void)me;
            (void)pos;
        }
    }
    /// process_shared: gives back every cell whose holder process no longer exists. Returns how
    /// many. A zombie counts as existing (its parent must reap it).
    std::uint32_t reclaim_dead_holders() noexcept {
        std::uint32_t n = 0;
        if constexpr (kShared) {
            const std::uint32_t me = holder_id();
            for (std::uint32_t i = 0; i < N; ++i) {
                atomic<std::uint64_t>& w = m_cells[i].holder;
                // [scq.holder.load] acquire: pairs with [scq.holder].
                std::uint64_t c = w.load(std::memory_order_acquire);
                const auto pid = static_cast<std::uint32_t>(c);
                if (pid == 0 || platform::process_exists(static_cast<platform::ProcessId>(pid))) continue;
                // A producer that died after appending the cell to the element ring (its name
                // stays until the consumer names itself), or a consumer that died after giving it
                // back to the free ring: the cell is in a ring; only the stale name goes.
                const bool queued = m_used.holds(i) || m_free.holds(i);
                // Out of the rings: we hold it now, named (a reclaimer killed before its append
                // leaves a cell named by a dead process, which the next reclaim finds).
                const std::uint64_t gen = (c >> 32) + 1;
                // [scq.reclaim] acq_rel CAS: elects one reclaimer per dead hold; fails when the
                // word changed (another reclaimer, or the cell was re-held: a new generation).
                if (!w.compare_exchange_strong(c, queued ? c & ~std::uint64_t{0xFFFF'FFFF} : held_word(me, gen),
                                               std::memory_order_acq_rel, std::memory_order_relaxed))
                    continue;
                if (queued) continue;
                (void)m_free.enqueue(i);  // [scq.free.enq]
                unhold(i, me, gen);
                m_reclaims.reclaimed.fetch_add(1, std::memory_order_relaxed);  // [scq.reclaimed] relaxed: a statistic
                ++n;
            }
        }
        return n;
    }
    /// One element into `out` (try_pop() / try_pop_n() of QueueFront notify after it).
    bool take_one(T& out) noexcept { return take<false>(&out) == Take::got; }
    template <class... Args>
    Put put(Args&&... args) noexcept {
        // [scq.drain.limit.load] relaxed: the cheap early answer, from a line nobody writes
        // while the queue is open (reading the used ring's tail here would pull the producers'
        // hottest line in shared state right before its fetch_add). A push that misses a fresh
        // close is refused by [scq.tail.claim] seeing the bit, and gives its cell back.
        if (m_drain_limit.load(std::memory_order_relaxed) != 0) return Put::closed;
        // Asked before the claim: a kill is delivered at a system call's return, and the window
        // between taking a cell and naming ourselves must stay a few instructions long.
        const std::uint32_t me = holder_id();
        std::uint64_t pos = 0;
        std::uint32_t i = claim_free(kShared ? &pos : nullptr, me);
        pos |= kFreeRingGeneration;  // as claim_free()'s early name
        if (i == Ring::kEmpty) return Put::full;
        if (i >= N) return kShared ? Put::corrupted : Put::full;  // kCorrupt: only in scribbled memory
        hold(i, me, pos);  // stays until the consumer's hold(), on the line the element travels in
        Cell& c = m_cells[i];
        ::new (static_cast<void*>(&c.value)) T(std::forward<Args>(args)...);
        // [scq.used.enq] = [scq.entry.cas] in m_used: publishes the element; pairs with
        // [scq.used.deq].
        const typename Ring::Enq e = m_used.enqueue(i);
        if (e == Ring::Enq::ok) return Put::ok;
        // Closed between our check and our append (or, shared, a scribbled ring refused it):
        // undo. The cell is ours alone.
        if constexpr (sizeof...(Args) == 1) give_back_value(c.value, std::forward<Args>(args)...);
        c.value.~T();
        (void)m_free.enqueue(i);  // [scq.free.enq]: the free ring is never closed
        unhold(i, me, pos);       // after the append: see take()
        m_not_full.notify_one();
        return e == Ring::Enq::closed ? Put::closed : Put::corrupted;
    }
    /// push(T&&) that lost to close(): the caller's object gets its value back.
    template <class A>
    static void give_back_value(T& cell, A&& a) noexcept {
        using D = std::remove_cvref_t<A>;
        if constexpr (std::is_same_v<D, T> && std::is_rvalue_reference_v<A&&> && !std::is_const_v<std::remove_reference_t<A>>) {
            if constexpr (std::is_nothrow_move_assignable_v<T>) a = std::move(cell);
        }
    }
    /// A free cell index: the never-used cells 0..N-1 first, then the `free` ring.
    std::uint32_t claim_free(std::uint64_t* where, std::uint32_t me) noexcept {
        // [scq.fresh] relaxed: a fresh cell was never touched, nothing to order; the counter
        // only elects one owner per cell. Stops being written once it passed N.
        if (m_fresh.load(std::memory_order_relaxed) < N) {
            const std::uint64_t f = m_fresh.fetch_add(1, std::memory_order_relaxed);
            if (f < N) {
                if (where != nullptr) *where = f;
                return static_cast<std::uint32_t>(f);
            }
        }
        // [scq.free.deq] = [scq.entry.deq.load] in m_free: the consumer that gave this index
        // back moved the old element out before its [scq.free.enq]; pairs with it.
        if constexpr (kShared) {
            return m_free.dequeue(0, where,
                                  [this, me](std::uint32_t i, std::uint64_t pos) noexcept {
                                      pre_hold(i, me, pos | kFreeRingGeneration);
                                  });
        } else {
            return m_free.dequeue(0, where);
        }
    }

    /// m_used.dequeue(), with the taker named before the take in a process-shared queue.
    template <class BeforeTake>
    std::uint32_t used_dequeue(std::uint64_t limit, std::uint64_t* where, BeforeTake& before_take) noexcept {
        if constexpr (kShared) return m_used.dequeue(limit, where, before_take);
        else return m_used.dequeue(limit, where);
    }

    template <bool Construct>
    Take take(T* out) noexcept {
        const std::uint32_t me = holder_id();  // before the claim: see put()
        // [scq.used.deq] = [scq.entry.deq.load] in m_used: pairs with [scq.used.enq].
        std::uint64_t pos = 0;
        std::uint64_t* const where = kShared ? &pos : nullptr;
        auto before_take = [this, me](std::uint32_t c, std::uint64_t p) noexcept { pre_hold(c, me, p); };
        std::uint32_t i = used_dequeue(0, where, before_take);
        if (i == Ring::kEmpty) {
            // [scq.drain.limit.load] acquire: pairs with [scq.drain.limit].
            const std::uint64_t lim = m_drain_limit.load(std::memory_order_acquire);
            if (lim == 0) return Take::empty;
            // Closed: go through every position claimed before the close (taking what is
            // there, invalidating what was never written) instead of waiting for anyone.
            i = used_dequeue(lim, where, before_take);
            if (i == Ring::kEmpty) return Take::closed;
            if (i == Ring::kAgain) return Take::again;
        }
        if (i >= N) return Take::corrupted;
        hold(i, me, pos);
        Cell& c = m_cells[i];
        if constexpr (Construct) ::new (static_cast<void*>(out)) T(std::move(c.value));
        else *out = std::move(c.value);
        c.value.~T();
        // [scq.free.enq] = [scq.entry.cas] in m_free: the cell is moved out and destroyed before
        // a producer's [scq.free.deq] hands it out again.
        (void)m_free.enqueue(i);
        // Process-shared: our name goes only after the append, so that a kill in between leaves
        // a named cell (found in the free ring by a reclaimer), not an unnamed one out of the rings.
        unhold(i, me, pos);
        return Take::got;
    }

    template <bool Construct>
    Result<void> pop_into(T* out, Deadline d) noexcept {
        // Caught up before the take: the head's entry not filled yet, though a producer may have
        // claimed it ([scq.ready.load] relaxed: a look at the two lines the take reads first).
        const bool behind = kGap != 0 && !d.is_poll() && !m_used.ready_ahead(1);
        const Take first = take<Construct>(out);
        if (first == Take::got) {
            m_not_full.notify_one();
            // A consumer that took an element its producer was still writing keeps the gap as
            // one that had to wait does (below): without it, a consumer faster than its producers
            // stays one entry behind them and pulls the line each enqueue writes next.
            if constexpr (kGap != 0) {
                if (behind) m_used.run_ahead(kGap);
            }
            return ok();
        }
        if (first == Take::closed) return unexpected(Errc::closed);
        if (first == Take::corrupted) return unexpected(Errc::corrupted);
        const Result<void> r = m_not_empty.wait_for(
            [&]() noexcept {
                const Take tk = take<Construct>(out);
                return tk == Take::got         ? Attempt::done
                       : tk == Take::closed    ? Attempt::closed
                       : tk == Take::corrupted ? Attempt::corrupted
                       : tk == Take::again     ? Attempt::busy
                                               : Attempt::would_block;
            },
            d);
        if (!r) return r;
        m_not_full.notify_one();
        // It waited: caught up with the producers (run_ahead()).
        if constexpr (kGap != 0) {
            if (!d.is_poll()) m_used.run_ahead(kGap);
        }
        return r;
    }

    Ring m_used;  // indices of full cells, FIFO; its tail carries the close bit
    Ring m_free;  // indices of cells handed back by consumers
    // cells 0..N-1 not yet handed out once (zero-initialised queue: every cell is fresh)
    alignas(platform::kCacheLine) atomic<std::uint64_t> m_fresh{0};
    // 0 while open; tail position at the close + 1 after it
    alignas(platform::kCacheLine) atomic<std::uint64_t> m_drain_limit{0};
    alignas(platform::kCacheLine) EventCount<P, Scope> m_not_empty;  // consumers sleep here
    alignas(platform::kCacheLine) EventCount<P, Scope> m_not_full;   // producers sleep here
    alignas(platform::kCacheLine) Cell m_cells[N];
    // process_shared: the reclaim statistic (empty for a private queue; the holders are in the cells)
    [[no_unique_address]] std::conditional_t<kShared, ReclaimCount, NoReclaimCount> m_reclaims;
};

}  // namespace detail

/// The public queue: ScqRing with the OS wait policy (see the top of this file), its ring
/// positions spread over cache lines (ScqLayout::spread: many threads per side).
template <class T, std::size_t N, WaitScope Scope = WaitScope::process_private>
class ScqQueue : public detail::ScqRing<T, N, detail::OsWaitPolicy, Scope, ScqLayout::spread> {
public:
    constexpr ScqQueue() noexcept = default;
};

/// ScqQueue with its ring positions in position order (ScqLayout::compact: few threads per
/// side). Same calls, guarantees and size; a separate name, not a fourth template parameter of
/// ScqQueue, so that code passing ScqQueue as a template template argument keeps compiling.
template <class T, std::size_t N, WaitScope Scope = WaitScope::process_private>
class CompactScqQueue : public detail::ScqRing<T, N, detail::OsWaitPolicy, Scope, ScqLayout::compact> {
public:
    constexpr CompactScqQueue() noexcept = default;
};

}  // namespace staticrt
