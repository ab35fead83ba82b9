// SPDX-License-Identifier: MIT
// staticrt/queue/ticket_queue.hpp — bounded MPMC queue that claims with fetch_add under contention.
//
// TicketQueue<T, N> is MpmcQueue's cell array (one sequence word and one element per cell,
// Vyukov's bounded queue) with a second way to claim a position. Every call first claims as
// MpmcQueue does: a CAS on the tail / head, only for a cell that is ready. A blocking call
// with Deadline::never() whose CAS loses to another thread kCasTries times takes a *ticket*
// instead: a fetch_add on the tail / head that cannot fail, then waits on its own cell until
// the cell is ready for that position (as atomic_queue does). So one thread per side (the CAS
// never loses) runs MpmcQueue's protocol, and many threads per side stop retrying CASes on one
// line. try_* calls and calls with a finite deadline never take tickets: they never hold a
// position they might have to give up.
//
// close() sets bit 63 of the tail (a claim after it sees the bit) and records the tail at the
// close, Tc. Every position below Tc has a producer; every position is claimed by one consumer.
// A ticket producer still waiting for its cell when the queue closes leaves without writing
// and counts itself in its cell's `departed` word. Per cell, the positions that are never
// written form a suffix of that cell's positions below Tc (a position's turn comes only after
// the previous one was written and popped), so a consumer whose position p < Tc is not written
// after the close skips p once the cell's departed count reaches p's rank from the top. The
// producers left the queue; the consumers skip what they did not write: nobody waits on a
// producer that will never come, and no element is lost (a producer writes or returns closed).
// Memory ordering: everything a producer wrote before its push of an element happens-before the
// pop of that element returns ([tq.publish]/[tq.consume]); docs/memory-ordering.md, "Ticket
// queue", has the argument for the departures.
// In-process only (a static_assert): a killed process holding a ticket would strand its cell.
//
//   staticrt::TicketQueue<Job, 256> q;
//   (void)q.push(job);                     // any producer; a ticket when producers collide
//   while (auto j = q.pop()) run(*j);      // any consumer; ends at close()
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

/// The queue itself, over a wait policy P (detail/wait_policy.hpp), so the deterministic
/// scheduler (tests/dsched/) can run it. TicketQueue is this with OsWaitPolicy.
/// CasTries: CAS claims a never-deadline call loses before it takes a ticket. The default is
/// two, not one: on LL/SC targets a CAS may fail spuriously. 0: never-deadline calls always take
/// a ticket (atomic_queue's way; tests use it to drive every ticket path).
template <class T, std::size_t N, class P, WaitScope Scope = WaitScope::process_private, unsigned CasTries = 2>
class TicketRing : public QueueFront<TicketRing<T, N, P, Scope, CasTries>, T, N> {
    static_assert(QueueChecks<T, N, Scope == WaitScope::process_shared>::ok);
    static_assert(Scope == WaitScope::process_private,
                  "TicketQueue is in-process only (a killed process holding a ticket would strand its "
                  "cell): use MpmcQueue<T, N, WaitScope::process_shared> in shared memory (docs/queues.md)");
    static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
                  "TicketQueue needs lock-free 64-bit atomics on this target");
    using Seq = SeqOf<N>;
    using Cells = CellMap<N>;
    friend class QueueFront<TicketRing, T, N>;
    template <class U>
    using atomic = typename P::template atomic<U>;
    static constexpr std::uint64_t kClosedBit = std::uint64_t{1} << 63;
    enum class Put : std::uint8_t { ok, full, closed, corrupted, contended };
    /// A ticket holder's weight in its side's waiter count (EventCount::notify_one_or_all()).
    static constexpr std::uint32_t kTicketWeight = std::uint32_t{1} << 16;
    /// One side's sleepers, one EventCount: CAS claimers register with weight 1 (one element
    /// wakes one of them), ticket holders with kTicketWeight (each waits for its own cell, so an
    /// element wakes all of them once one is registered). A notifier without sleepers pays one
    /// fence and one load, as with MpmcQueue. Bound: fewer than 2^16 threads wait on one side.
    struct Sleepers {
        EventCount<P, Scope> ec;
        void notify_one() noexcept { ec.notify_one_or_all(kTicketWeight); }
        void notify_all() noexcept { ec.notify_all(); }
        void wake_all() noexcept { ec.wake_all(); }
        /// Threads registered, a snapshot.
        [[nodiscard]] std::uint32_t waiters() const noexcept {
            const std::uint32_t w = ec.waiters();
            return (w & (kTicketWeight - 1)) + (w / kTicketWeight);
        }
    };
    enum class Take : std::uint8_t { got, empty, busy, closed, corrupted, contended };

public:
    static constexpr WaitScope kScope = Scope;
    static constexpr unsigned kCasTries = CasTries;

    // ---------------------------------------------------------------- lifetime
    /// An empty, open queue; all zero. constexpr: usable as a constinit global.
    constexpr TicketRing() noexcept = default;
    TicketRing(const TicketRing&) = delete;
    TicketRing& operator=(const TicketRing&) = delete;
    /// Destroys the elements still inside (the full cells). No thread may use the queue any more.
    ~TicketRing() {
        if constexpr (!std::is_trivially_destructible_v<T>) {
            for (Slot<T, P>& s : m_slots) {
                // [queue.destroy] acquire: the element's construction is visible ([tq.publish]).
                if ((s.seq.load(std::memory_order_acquire) & 1u) != 0) s.destroy();
            }
        }
    }

    // ---------------------------------------------------------------- non-blocking
    // try_push(v), push(v, d), try_pop(out), try_pop_n(out), pop(d), pop(out, d), empty_approx(),
    // capacity(): QueueFront.
    /// Any thread. Constructs the element in place. false: full, or closed.
    template <class... Args>
    [[nodiscard]] bool try_emplace(Args&&... args) noexcept {
        if (put(0, std::forward<Args>(args)...) != Put::ok) return false;
        notify_consumers();
        return true;
    }
    /// Any thread. Copies a prefix of `items`; returns how many went in.
    [[nodiscard]] std::size_t try_push_n(std::span<const T> items) noexcept {
        std::size_t n = 0;
        while (n < items.size() && put(0, items[n]) == Put::ok) ++n;
        notify_batch(m_not_empty, n);
        return n;
    }

    // ---------------------------------------------------------------- blocking
    /// Any thread. Constructs in place once there is room. Errc::timeout, Errc::closed (the
    /// arguments are then untouched). With Deadline::never() the call may take a ticket.
    template <class... Args>
    [[nodiscard]] Result<void> emplace(Deadline d, Args&&... args) noexcept {
        // The fast path stays small enough to inline into the caller's loop; waiting and tickets
        // are out of line (emplace_slow).
        if (d.is_never() && kCasTries == 0) return put_ticketed(std::forward<Args>(args)...);  // a ticket straight away
        const Put p = put(d.is_never() ? kCasTries : 0, std::forward<Args>(args)...);
        if (p == Put::ok) [[likely]] {
            notify_consumers();
            return ok();
        }
        return emplace_slow(d, p, wait_arg<T>(std::forward<Args>(args))...);
    }
    /// Any thread. From now on pushes fail with Errc::closed; a push waiting on its ticket
    /// leaves with Errc::closed; consumers drain the rest, then get Errc::closed. Idempotent.
    void close() noexcept {
        // [tq.close] seq_cst RMW on the tail: every claim ([tq.claim], [tq.ticket]) is before it
        // in the tail's modification order (its position is below Tc) or sees the bit.
        const std::uint64_t before = m_tail.fetch_or(kClosedBit, std::memory_order_seq_cst);
        if ((before & kClosedBit) == 0) {
            // [tq.close.pos] release: Tc + 1 (never 0); pairs with [tq.close.pos.load]. Stored
            // before the wake-ups below bump the parking words.
            m_close_pos.store(before + 1, std::memory_order_release);
        }
        m_not_empty.wake_all();
        m_not_full.wake_all();
    }

    // ---------------------------------------------------------------- observers
    /// Threads parked (or registered to park) in pop() / in push(): snapshots.
    [[nodiscard]] std::uint32_t waiting_consumers() const noexcept { return m_not_empty.waiters(); }
    [[nodiscard]] std::uint32_t waiting_producers() const noexcept { return m_not_full.waiters(); }
    [[nodiscard]] std::uint32_t blocked_producers() const noexcept { return waiting_producers(); }
    [[nodiscard]] bool closed() const noexcept {
        // [tq.closed.load] acquire: pairs with [tq.close].
        return (m_tail.load(std::memory_order_acquire) & kClosedBit) != 0;
    }
    /// Elements inside (claimed positions included), exact when nobody is pushing or popping.
    [[nodiscard]] std::size_t size_approx() const noexcept {
        // [tq.observe] relaxed: a snapshot, no ordering promised.
        const std::uint64_t h = m_head.load(std::memory_order_relaxed);
        std::uint64_t t = m_tail.load(std::memory_order_relaxed) & ~kClosedBit;
        const std::uint64_t lim = m_close_pos.load(std::memory_order_relaxed);  // [tq.observe]
        if (lim != 0 && t > lim - 1) t = lim - 1;  // tickets taken after the close hold nothing
        return t <= h ? 0 : (t - h > N ? N : static_cast<std::size_t>(t - h));
    }
    /// Ticket producers that left their position unwritten because the queue closed (tests).
    [[nodiscard]] std::uint64_t departed_producers() const noexcept {
        std::uint64_t n = 0;
        for (const auto& d : m_departed) n += d.load(std::memory_order_relaxed);  // [tq.observe]
        return n;
    }

private:
    /// One element into `out` (try_pop() / try_pop_n() of QueueFront notify after it).
    bool take_one(T& out) noexcept { return take<false>(&out, 0) == Take::got; }
    void notify_consumers() noexcept { m_not_empty.notify_one(); }
    void notify_producers() noexcept { m_not_full.notify_one(); }
    /// Tc + 1 after close(), 0 while open.
    std::uint64_t close_pos() const noexcept {
        // [tq.close.pos.load] acquire: pairs with [tq.close.pos]; a line written once.
        return m_close_pos.load(std::memory_order_acquire);
    }
    /// After close (Tc = `tc`): will position `pos` < tc never be written? Its cell's positions
    /// below tc have ranks 0..last; the unwritten ones are a suffix of them, and each of its
    /// producers counts itself in m_departed when it leaves. With d counted, the top d ranks are
    /// in that suffix (docs/memory-ordering.md, "Ticket queue").
    bool never_written(std::uint64_t pos, std::uint64_t tc) const noexcept {
        const std::uint64_t cell = pos & (N - 1);
        const std::uint64_t last = (tc - 1 - cell) / N;
        // [tq.departed.load] acquire: pairs with [tq.depart]; only a count is read.
        const std::uint64_t d = m_departed[cell].load(std::memory_order_acquire);
        return pos / N + d > last;
    }

    /// CAS claim of a ready cell. tries == 0: retry lost CASes without limit; otherwise give up
    /// with `contended` after that many lost CASes.
    template <class... Args>
    Put put(unsigned tries, Args&&... args) noexcept {
        // [tq.tail.load] relaxed: only a guess; the CAS below decides.
        std::uint64_t t = m_tail.load(std::memory_order_relaxed);
        Slot<T, P>* s;
        unsigned lost = 0;
        for (;;) {
            if ((t & kClosedBit) != 0) return Put::closed;
            const auto pos = static_cast<std::uint32_t>(t);
            s = &m_slots[Cells::index(pos)];
            // [tq.free.load] acquire: the last consumer of this cell finished; pairs with [tq.free].
            const std::uint32_t seq = s->seq.load(std::memory_order_acquire);
            const auto diff = static_cast<std::int32_t>(seq - Seq::empty(pos));
            if (diff == 0) {
                // [tq.claim] relaxed CAS: the cell's ownership came from [tq.free.load]; the CAS
                // only elects one producer. Failure reloads t.
                if (m_tail.compare_exchange_weak(t, t + 1, std::memory_order_relaxed, std::memory_order_relaxed)) break;
                if (tries != 0 && ++lost >= tries) return Put::contended;
            } else if (diff < 0) {
                // The cell still holds an older lap: full, unless t is stale.
                const std::uint64_t now = m_tail.load(std::memory_order_relaxed);
                if (now == t) return Put::full;
                t = now;
            } else {
                // The cell is already past position t, so the tail moved past t before: an
                // unchanged tail means a sequence no position gave it.
                const std::uint64_t now = m_tail.load(std::memory_order_relaxed);
                if (now == t) return Put::corrupted;
                t = now;
            }
        }
        s->construct(std::forward<Args>(args)...);
        // [tq.publish] release: the element is visible before the cell reads full; pairs with [tq.consume].
        s->seq.store(Seq::full(static_cast<std::uint32_t>(t)), std::memory_order_release);
        return Put::ok;
    }

    /// The producers' slip on a full queue (kProducerSlip, queue/detail/slot.hpp).
    static constexpr std::uint32_t kSlipPolls = kProducerSlipPolls<Slot<T, P>, N>;
    static_assert(kSlipPolls < kDefaultSpin.spin_attempts, "the slip must end inside the spin phase");
    /// emplace() after its first attempt found `p` (full, contended, closed, corrupted).
    template <class... Args>
    [[gnu::noinline]] Result<void> emplace_slow(Deadline d, Put p, Args&&... args) noexcept {
        const unsigned tries = d.is_never() ? kCasTries : 0;
        bool ticket = p == Put::contended;
        if (p == Put::full) {
            // For the first kSlipPolls polls, wait until the cell kProducerSlip positions past
            // the tail is free too (as MpmcQueue), then plain attempts.
            std::uint32_t polls = 0;
            const Result<void> r = m_not_full.ec.wait_for(
                [&]() noexcept {
                    if (polls < kSlipPolls) {
                        ++polls;
                        // [queue.slip.load] relaxed: only decides when to attempt; put() claims and orders.
                        const std::uint64_t t = m_tail.load(std::memory_order_relaxed);
                        if ((t & kClosedBit) == 0 && !slip_cell_free<N>(m_slots, static_cast<std::uint32_t>(t)))
                            return Attempt::would_block;
                    }
                    const Put q = put(tries, std::forward<Args>(args)...);
                    if (q == Put::contended) ticket = true;  // leave this loop, wait on a ticket
                    return q == Put::ok || q == Put::contended ? Attempt::done
                           : q == Put::closed                  ? Attempt::closed
                           : q == Put::corrupted               ? Attempt::corrupted
                                                               : Attempt::would_block;
                },
                d);
            if (!r) return r;
        } else if (p != Put::contended) {
            return unexpected(p == Put::closed ? Errc::closed : Errc::corrupted);
        }
        if (ticket) return put_ticketed(std::forward<Args>(args)...);
        notify_consumers();
        return ok();
    }

    /// Takes a ticket and writes at once if its cell is free for it (inline: the common case
    /// with few threads), else waits for the cell out of line (put_ticket_wait()).
    template <class... Args>
    Result<void> put_ticketed(Args&&... args) noexcept {
        const std::uint64_t t = claim_ticket(m_tail);
        if ((t & kClosedBit) != 0) return unexpected(Errc::closed);  // after the close: no position
        const auto pos = static_cast<std::uint32_t>(t);
        Slot<T, P>& s = m_slots[Cells::index(pos)];
        if (s.seq.load(std::memory_order_acquire) == Seq::empty(pos)) [[likely]] {  // [tq.free.load]
            s.construct(std::forward<Args>(args)...);
            s.seq.store(Seq::full(pos), std::memory_order_release);  // [tq.publish]
            notify_consumers();
            return ok();
        }
        return put_ticket_wait(t, wait_arg<T>(std::forward<Args>(args))...);
    }

    /// [tq.ticket] / [tq.ticket.pop] relaxed RMW: cannot fail; elects the one thread of its
    /// position (the cell's ownership comes from the sequence word); on the tail, in its
    /// modification order with [tq.close].
    static std::uint64_t claim_ticket(atomic<std::uint64_t>& counter) noexcept {
        return counter.fetch_add(1, std::memory_order_relaxed);
    }

    /// Holds ticket t (< Tc) and waits until its cell is free for it, writes and wakes
    /// consumers; or leaves at close.
    template <class... Args>
    [[gnu::noinline]] Result<void> put_ticket_wait(std::uint64_t t, Args&&... args) noexcept {
        const auto pos = static_cast<std::uint32_t>(t);
        const std::uint32_t cell = Cells::index(pos);
        Slot<T, P>& s = m_slots[cell];
        const Result<void> r = m_not_full.ec.wait_for(
            [&]() noexcept {
                const std::uint32_t seq = s.seq.load(std::memory_order_acquire);  // [tq.free.load]
                const auto diff = static_cast<std::int32_t>(seq - Seq::empty(pos));
                if (diff == 0) {
                    s.construct(std::forward<Args>(args)...);
                    s.seq.store(Seq::full(pos), std::memory_order_release);  // [tq.publish]
                    return Attempt::done;
                }
                if (diff > 0) return Attempt::corrupted;  // only position t's producer moves it past empty(t)
                if (close_pos() == 0) return Attempt::would_block;  // [tq.close.pos.load]
                // Closed while an older lap still holds the cell: leave unwritten. [tq.depart]
                // release RMW: counted once; pairs with [tq.departed.load].
                m_departed[cell].fetch_add(1, std::memory_order_release);
                return Attempt::closed;
            },
            Deadline::never(), kDefaultSpin, kTicketWeight);
        if (r) notify_consumers();
        return r;
    }

    /// CAS claim of a full cell (tries as in put()). After close it also skips, with the same
    /// CAS, a head position that will never be written.
    template <bool Construct>
    Take take(T* out, unsigned tries) noexcept {
        std::uint64_t h = m_head.load(std::memory_order_relaxed);
        Slot<T, P>* s;
        unsigned lost = 0;
        for (;;) {
            const auto pos = static_cast<std::uint32_t>(h);
            s = &m_slots[Cells::index(pos)];
            // [tq.consume] acquire: sees the element; pairs with [tq.publish].
            const std::uint32_t seq = s->seq.load(std::memory_order_acquire);
            const auto diff = static_cast<std::int32_t>(seq - Seq::full(pos));
            if (diff == 0) {
                // [tq.claim.pop] relaxed CAS: elects one consumer; ordering came from [tq.consume].
                if (m_head.compare_exchange_weak(h, h + 1, std::memory_order_relaxed, std::memory_order_relaxed)) break;
                if (tries != 0 && ++lost >= tries) return Take::contended;
            } else if (diff < 0) {
                const std::uint64_t now = m_head.load(std::memory_order_relaxed);
                if (now != h) {
                    h = now;
                    continue;
                }
                const std::uint64_t lim = close_pos();
                if (lim == 0) return Take::empty;  // empty, or its producer is mid-write
                if (h >= lim - 1) return Take::closed;  // every position below Tc is claimed
                if (!never_written(h, lim - 1)) return Take::busy;  // its producer is writing
                // [tq.skip] relaxed CAS: elects the one consumer that skips h (as [tq.claim.pop]).
                (void)m_head.compare_exchange_strong(h, h + 1, std::memory_order_relaxed, std::memory_order_relaxed);
                h = m_head.load(std::memory_order_relaxed);
            } else {
                // A consumer took it, so the head passed h before: unchanged means corrupt memory.
                const std::uint64_t now = m_head.load(std::memory_order_relaxed);
                if (now == h) return Take::corrupted;
                h = now;
            }
        }
        move_out<Construct>(*s, out, static_cast<std::uint32_t>(h));
        return Take::got;
    }

    template <bool Construct>
    static void move_out(Slot<T, P>& s, T* out, std::uint32_t pos) noexcept {
        if constexpr (Construct) ::new (static_cast<void*>(out)) T(std::move(s.value));
        else *out = std::move(s.value);
        s.destroy();
        // [tq.free] release: the move-out completes before a producer reuses the cell; pairs
        // with [tq.free.load].
        s.seq.store(Seq::next_lap(pos), std::memory_order_release);
    }

    /// Holds ticket h and waits until its cell holds the element for it, takes it and wakes
    /// producers; after close, skips positions that will never be written (a new ticket each)
    /// until one holds an element or the ticket is at or past Tc.
    template <bool Construct>
    [[gnu::noinline]] Result<void> take_ticket_wait(std::uint64_t h, T* out) noexcept {
        const Result<void> r = m_not_empty.ec.wait_for(
            [&]() noexcept {
                for (;;) {
                    const auto pos = static_cast<std::uint32_t>(h);
                    Slot<T, P>& s = m_slots[Cells::index(pos)];
                    const std::uint32_t seq = s.seq.load(std::memory_order_acquire);  // [tq.consume]
                    const auto diff = static_cast<std::int32_t>(seq - Seq::full(pos));
                    if (diff == 0) {
                        move_out<Construct>(s, out, pos);
                        return Attempt::done;
                    }
                    if (diff > 0) return Attempt::corrupted;  // only position h's consumer frees it
                    const std::uint64_t lim = close_pos();
                    if (lim == 0) return Attempt::would_block;
                    if (h >= lim - 1) return Attempt::closed;  // no producer has position h
                    if (!never_written(h, lim - 1)) return Attempt::busy;
                    h = claim_ticket(m_head);  // [tq.ticket.pop]: skip h, take the next position
                }
            },
            Deadline::never(), kDefaultSpin, kTicketWeight);
        if (r) notify_producers();
        return r;
    }

    template <bool Construct>
    Result<void> pop_into(T* out, Deadline d) noexcept {
        // As emplace(): a small inlined fast path, the rest out of line.
        if (d.is_never() && kCasTries == 0) return take_ticketed<Construct>(out);  // a ticket straight away
        const Take first = take<Construct>(out, d.is_never() ? kCasTries : 0);
        if (first == Take::got) [[likely]] {
            notify_producers();
            return ok();
        }
        return pop_slow<Construct>(out, d, first);
    }

    /// pop_into() after its first attempt found `first` (not got).
    template <bool Construct>
    [[gnu::noinline]] Result<void> pop_slow(T* out, Deadline d, Take first) noexcept {
        if (first == Take::contended) return take_ticketed<Construct>(out);
        if (first == Take::closed || first == Take::corrupted) {
            return unexpected(first == Take::closed ? Errc::closed : Errc::corrupted);
        }
        const unsigned tries = d.is_never() ? kCasTries : 0;
        bool ticket = false;
        const Result<void> r = m_not_empty.ec.wait_for(
            [&]() noexcept {
                const Take tk = take<Construct>(out, tries);
                if (tk == Take::contended) ticket = true;  // leave this loop, wait on a ticket
                return tk == Take::got || tk == Take::contended ? Attempt::done
                       : tk == Take::closed                     ? Attempt::closed
                       : tk == Take::corrupted                  ? Attempt::corrupted
                       : tk == Take::busy                       ? Attempt::busy
                                                                : Attempt::would_block;
            },
            d);
        if (!r) return r;
        if (ticket) return take_ticketed<Construct>(out);
        notify_producers();
        // It waited: caught up with the producers (consumer_gap()). [tq.head.gap] relaxed: the
        // next position, a guess for the heuristic only.
        if (!d.is_poll()) consumer_gap<N, P>(m_slots, static_cast<std::uint32_t>(m_head.load(std::memory_order_relaxed)));
        return ok();
    }

    /// As put_ticketed(), for a consumer: takes a ticket and pops at once if its cell holds the
    /// element for it, else waits out of line (take_ticket_wait()).
    template <bool Construct>
    Result<void> take_ticketed(T* out) noexcept {
        const std::uint64_t h = claim_ticket(m_head);
        const auto pos = static_cast<std::uint32_t>(h);
        Slot<T, P>& s = m_slots[Cells::index(pos)];
        if (s.seq.load(std::memory_order_acquire) == Seq::full(pos)) [[likely]] {  // [tq.consume]
            move_out<Construct>(s, out, pos);
            notify_producers();
            return ok();
        }
        return take_ticket_wait<Construct>(h, out);
    }

    // producers
    alignas(platform::kCacheLine) atomic<std::uint64_t> m_tail{0};  // position | kClosedBit
    // consumers
    alignas(platform::kCacheLine) atomic<std::uint64_t> m_head{0};
    // written once by close(): Tc + 1
    alignas(platform::kCacheLine) atomic<std::uint64_t> m_close_pos{0};
    alignas(platform::kCacheLine) Sleepers m_not_empty;  // consumers sleep here, producers wake them
    alignas(platform::kCacheLine) Sleepers m_not_full;   // producers sleep here, consumers wake them
    // cells
    alignas(platform::kCacheLine) Slot<T, P> m_slots[N];
    // per cell: ticket producers that left it unwritten at close (written only after close)
    alignas(platform::kCacheLine) atomic<std::uint32_t> m_departed[N]{};
};

}  // namespace detail

/// The public queue: TicketRing with the OS wait policy (see the top of this file).
template <class T, std::size_t N, WaitScope Scope = WaitScope::process_private>
class TicketQueue : public detail::TicketRing<T, N, detail::OsWaitPolicy, Scope> {
public:
    constexpr TicketQueue() noexcept = default;
};

}  // namespace staticrt
