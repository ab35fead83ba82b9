// SPDX-License-Identifier: MIT
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
// Untrusted shared memory: whatever the segment holds, every call ends (try_* at once, blocking
// ones by their deadline) and impossible states (a cell sequence ahead of its position, a head
// past the tail) are reported as Errc::corrupted (try_* return false).
// Dead peers (process_shared only; docs/queues.md, "A dead producer or consumer"): a producer
// records its pid with its claim; a blocking pop() that finds the head cell claimed but never
// published for kDeadClaimCheckNs asks whether that process exists and, if not, skips the cell
// (counted in lost_to_dead_producers()), so later items keep flowing and pop() after close()
// ends. A consumer killed between claiming and freeing a cell leaves it full for good: producers
// reaching it report Errc::timeout (never a silent loss).
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

namespace detail {

/// The queue itself, over a wait policy P (detail/wait_policy.hpp): every shared word is a
/// P::atomic and every wait / wake / fence goes through P, so the deterministic scheduler
/// (tests/dsched/) can run it. MpmcQueue is this with OsWaitPolicy. Not under P: the dead-peer
/// checks of a process_shared queue (process_exists and the clock in skip_dead_claim()).
template <class T, std::size_t N, class P, WaitScope Scope = WaitScope::process_private>
class MpmcRing : public QueueFront<MpmcRing<T, N, P, Scope>, T, N> {
    static_assert(QueueChecks<T, N, Scope == WaitScope::process_shared>::ok);
    static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
                  "MpmcQueue needs lock-free 64-bit atomics on this target");
    using Seq = SeqOf<N>;
    using Cells = CellMap<N>;
    friend class QueueFront<MpmcRing, T, N>;
    template <class U>
    using atomic = typename P::template atomic<U>;
    static constexpr std::uint64_t kClosedBit = std::uint64_t{1} << 63;
    static constexpr bool kShared = Scope == WaitScope::process_shared;
    enum class Put : std::uint8_t { ok, full, closed, corrupted };
    enum class Take : std::uint8_t { got, empty, corrupted };
    struct NoClaims {};
    struct Claims {  // process_shared: who claimed each cell (position << 32 | pid), and skips
        atomic<std::uint64_t> word[N]{};
        atomic<std::uint64_t> lost{0};
    };
    struct Stall {  // a blocking pop's view of a head cell that stays claimed and unpublished
        std::uint64_t head = ~std::uint64_t{0};
        std::uint64_t claim = 0;
        std::int64_t since = 0;
    };

public:
    static constexpr WaitScope kScope = Scope;
    /// How long a blocking pop waits on a claimed, unpublished head cell before it asks whether
    /// the claiming process still exists (process_shared only).
    static constexpr std::int64_t kDeadClaimCheckNs = 10'000'000;
    /// After close(): a claim that names no process (its producer died before recording itself)
    /// is given up after this long, so that pop() after close() always ends.
    static constexpr std::int64_t kUnattributedAfterCloseNs = 1'000'000'000;

    // ---------------------------------------------------------------- lifetime
    /// An empty, open queue. constexpr: usable as a constinit global.
    constexpr MpmcRing() noexcept = default;
    MpmcRing(const MpmcRing&) = delete;             // threads hold references to it
    MpmcRing& operator=(const MpmcRing&) = delete;
    /// Destroys the elements still inside. No thread may use the queue any more.
    ~MpmcRing() { destroy_remaining(m_slots, static_cast<std::uint32_t>(m_head.load(std::memory_order_relaxed))); }

    // ---------------------------------------------------------------- non-blocking
    // try_push(v), push(v, d), try_pop(out), try_pop_n(out), pop(d), pop(out, d), empty_approx(),
    // capacity(): QueueFront.
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
    /// Any thread. Copies a prefix of `items`; returns how many went in. Another producer's
    /// elements may interleave with them.
    [[nodiscard]] std::size_t try_push_n(std::span<const T> items) noexcept {
        std::size_t n = 0;
        NoHook none;
        while (n < items.size() && put(none, items[n]) == Put::ok) ++n;
        notify_batch(m_not_empty, n);
        return n;
    }

    // ---------------------------------------------------------------- blocking
    /// Any thread. Constructs in place once there is room. Errc::timeout, Errc::closed.
    template <class... Args>
    [[nodiscard]] Result<void> emplace(Deadline d, Args&&... args) noexcept {
        return emplace_placed(d, NoHook{}, std::forward<Args>(args)...);
    }
    /// Any thread. As emplace(), and calls on_place() exactly once when the element's position
    /// is claimed (never when it returns an error), before any consumer can take it.
    template <class OnPlace, class... Args>
    [[nodiscard]] Result<void> emplace_placed(Deadline d, OnPlace&& on_place, Args&&... args) noexcept {
        const Put p = put(on_place, std::forward<Args>(args)...);
        if (p == Put::ok) [[likely]] {  // fast path, inlined
            m_not_empty.notify_one();
            return ok();
        }
        if (p == Put::closed) return unexpected(Errc::closed);
        if (p == Put::corrupted) return unexpected(Errc::corrupted);
        return emplace_wait(d, on_place, wait_arg<T>(std::forward<Args>(args))...);
    }
    /// Any thread. From now on pushes fail with Errc::closed (exactly: no position is claimed
    /// after the close bit is set); consumers drain the rest, then get Errc::closed. Idempotent.
    void close() noexcept {
        // [mpmc.close] seq_cst RMW on the tail: serialises with every claim [mpmc.claim].
        m_tail.fetch_or(kClosedBit, std::memory_order_seq_cst);
        // [mpmc.closed.hint] release: stored before the wake-ups below bump the parking words
        // (which a sleeper compares), pairs with [mpmc.closed.hint.load]; the exactness of
        // "drained" still comes from the tail ([mpmc.drain]).
        m_closed_hint.store(1, std::memory_order_release);
        m_not_empty.wake_all();
        m_not_full.wake_all();
    }

    // ---------------------------------------------------------------- observers
    /// Threads parked (or registered to park) in pop() / in push(): snapshots, for tests and
    /// diagnostics (a test waits for one before the call that must wake it).
    [[nodiscard]] std::uint32_t waiting_consumers() const noexcept { return m_not_empty.waiters(); }
    [[nodiscard]] std::uint32_t waiting_producers() const noexcept { return m_not_full.waiters(); }
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
    /// Producers registered to sleep in push() on a full queue, a snapshot (tests wait on it).
    [[nodiscard]] std::uint32_t blocked_producers() const noexcept { return m_not_full.waiters(); }
    /// process_shared: cells skipped because their producer died between claiming and publishing
    /// (each is one lost element, never a silent one). 0 for a private queue.
    [[nodiscard]] std::uint64_t lost_to_dead_producers() const noexcept {
        if constexpr (kShared) return m_claims.lost.load(std::memory_order_relaxed);  // [mpmc.lost] relaxed: a statistic
        else return 0;
    }

private:
    /// One element into `out` (try_pop() / try_pop_n() of QueueFront notify after it).
    bool take_one(T& out) noexcept { return take<false>(&out) == Take::got; }
    struct NoHook {
        void operator()() const noexcept {}
    };

    // TicketRing (ticket_queue.hpp) has the same claim loop in its put() / take(), with a CAS
    // budget. A helper shared by both, tried on 2026-12-05, made MpmcQueue's try_ loops 4-6 %
    // slower at 2p2c (60-round A/B) and TicketQueue 8-12 % slower (bench/notes.md,
    // "TicketQueue"), so each keeps its own copy.
    template <class OnPlace, class... Args>
    Put put(OnPlace& on_place, Args&&... args) noexcept {
        // [mpmc.tail.load] relaxed: only a guess; the CAS below decides.
        std::uint64_t t = m_tail.load(std::memory_order_relaxed);
        Slot<T, P>* s;
        for (;;) {
            if ((t & kClosedBit) != 0) return Put::closed;
            const auto pos = static_cast<std::uint32_t>(t);
            s = &m_slots[Cells::index(pos)];
            // [mpmc.free.load] acquire: the last consumer of this cell finished; pairs with [mpmc.free].
            const std::uint32_t seq = s->seq.load(std::memory_order_acquire);
            const auto diff = static_cast<std::int32_t>(seq - Seq::empty(pos));
            if (diff == 0) {
                if constexpr (kShared) pre_claim(pos);
                // [mpmc.claim] relaxed CAS: the cell's ownership was established by [mpmc.free.load];
                // the CAS only elects one producer. Failure reloads t.
                if (m_tail.compare_exchange_weak(t, t + 1, std::memory_order_relaxed, std::memory_order_relaxed)) break;
            } else if (diff < 0) {
                // The cell still holds the previous lap's element: full, unless t is stale.
                const std::uint64_t now = m_tail.load(std::memory_order_relaxed);
                if (now == t) return Put::full;
                t = now;
            } else {
                // Another producer claimed it: the tail moved past t before that producer wrote
                // the cell (and [mpmc.free.load] acquired its write), so an unchanged tail here
                // means the cell holds a sequence no position ever gave it: corrupt memory.
                const std::uint64_t now = m_tail.load(std::memory_order_relaxed);
                if (now == t) return Put::corrupted;
                t = now;
            }
        }
        if constexpr (kShared) {
            // [mpmc.owner] release: names us as the claimant of this position for a consumer that
            // finds the cell stalled; pairs with [mpmc.owner.load].
            m_claims.word[Cells::index(static_cast<std::uint32_t>(t))].store(
                pack_claim(static_cast<std::uint32_t>(t)), std::memory_order_release);
        }
        on_place();  // claimed, not yet visible to consumers
        s->construct(std::forward<Args>(args)...);
        // [mpmc.publish] release: the element is visible before the cell reads full; pairs with [mpmc.consume].
        s->seq.store(Seq::full(static_cast<std::uint32_t>(t)), std::memory_order_release);
        return Put::ok;
    }

    template <bool Construct>
    Take take(T* out) noexcept {
        std::uint64_t h = m_head.load(std::memory_order_relaxed);
        Slot<T, P>* s;
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
                if (now == h) return Take::empty;  // empty (or the producer of this cell is mid-write)
                h = now;
            } else {
                // A consumer took it: its head CAS came before the free that [mpmc.consume]
                // acquired, so an unchanged head means an impossible sequence: corrupt memory.
                const std::uint64_t now = m_head.load(std::memory_order_relaxed);
                if (now == h) return Take::corrupted;
                h = now;
            }
        }
        if constexpr (Construct) ::new (static_cast<void*>(out)) T(std::move(s->value));
        else *out = std::move(s->value);
        s->destroy();
        // [mpmc.free] release: the move-out completes before a producer reuses the cell; pairs
        // with [mpmc.free.load].
        s->seq.store(Seq::next_lap(static_cast<std::uint32_t>(h)), std::memory_order_release);
        return Take::got;
    }

    static std::uint64_t pack_claim(std::uint32_t pos) noexcept {
        return static_cast<std::uint64_t>(pos) << 32 | static_cast<std::uint32_t>(platform::current_process_id());
    }
    /// Before the claim CAS: names us for `pos` unless a competitor for `pos` already did (the
    /// winner re-records itself after the CAS). A producer killed between the CAS and the
    /// re-record is still named, by its own pre-claim, unless a competitor pre-claimed first.
    void pre_claim(std::uint32_t pos) noexcept {
        atomic<std::uint64_t>& w = m_claims.word[Cells::index(pos)];
        std::uint64_t c = w.load(std::memory_order_relaxed);  // [mpmc.owner] relaxed peek; the CAS decides
        if (static_cast<std::uint32_t>(c >> 32) != pos)
            // [mpmc.owner] release CAS: see put().
            (void)w.compare_exchange_strong(c, pack_claim(pos), std::memory_order_release, std::memory_order_relaxed);
    }

    /// Blocking-pop side, process_shared: the head cell is claimed and unpublished. Once that has
    /// lasted kDeadClaimCheckNs with the same claim and its process is gone (or, after close(),
    /// no process is named for kUnattributedAfterCloseNs), skips the cell. True: the head moved
    /// (by us or another consumer); try again.
    bool skip_dead_claim(Stall& st) noexcept {
        const std::uint64_t h = m_head.load(std::memory_order_acquire);  // [mpmc.skip] acquire: a fresh head
        const auto pos = static_cast<std::uint32_t>(h);
        Slot<T, P>& s = m_slots[Cells::index(pos)];
        // [mpmc.consume] acquire: as in take().
        if (s.seq.load(std::memory_order_acquire) != Seq::empty(pos)) return false;
        // [mpmc.owner.load] acquire: pairs with [mpmc.owner].
        const std::uint64_t c = m_claims.word[Cells::index(pos)].load(std::memory_order_acquire);
        const bool named = static_cast<std::uint32_t>(c >> 32) == pos && static_cast<std::uint32_t>(c) != 0;
        // An empty queue's head cell names an older position: done without touching the
        // producers' tail line (a spinning consumer reading it slows producers; [mpmc.closed.hint.load]).
        // [mpmc.closed.hint.load] relaxed: as in pop_into().
        if (!named && m_closed_hint.load(std::memory_order_relaxed) == 0) return false;
        // [mpmc.drain] acquire on the tail: is position h claimed at all?
        const std::uint64_t t = m_tail.load(std::memory_order_acquire);
        if ((t & ~kClosedBit) <= h) return false;  // genuinely empty
        const std::int64_t now = Instant::now().ns();
        if (st.head != h || st.claim != c) {
            st = Stall{h, c, now};
            return false;
        }
        if (named) {
            if (now - st.since < kDeadClaimCheckNs) return false;
            if (platform::process_exists(static_cast<platform::ProcessId>(static_cast<std::uint32_t>(c)))) {
                st.since = now;  // alive: look again later
                return false;
            }
        } else if ((t & kClosedBit) == 0 || now - st.since < kUnattributedAfterCloseNs) {
            return false;
        }
        // [mpmc.skip] relaxed CAS: elects the one consumer that skips (as [mpmc.claim.pop]).
        std::uint64_t expected = h;
        if (!m_head.compare_exchange_strong(expected, h + 1, std::memory_order_relaxed, std::memory_order_relaxed))
            return true;
        // [mpmc.free] release: the cell is free for the next lap, as after a pop.
        s.seq.store(Seq::next_lap(pos), std::memory_order_release);
        m_claims.lost.fetch_add(1, std::memory_order_relaxed);  // [mpmc.lost] relaxed: a statistic
        st = Stall{};
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
    /// A head beyond the tail never happens (positions are 64-bit and never wrap): corrupt memory.
    bool head_past_tail() const noexcept {
        // [mpmc.observe] relaxed: a plausibility check; a live queue can only make h <= t truer.
        const std::uint64_t h = m_head.load(std::memory_order_relaxed);
        return h > (m_tail.load(std::memory_order_relaxed) & ~kClosedBit);
    }

    /// The producers' slip on a full queue (kProducerSlip, queue/detail/slot.hpp; bench/notes.md,
    /// "MPMC: the producer's slip, again").
    static constexpr std::uint32_t kSlipPolls = kProducerSlipPolls<Slot<T, P>, N>;
    static_assert(kSlipPolls < kDefaultSpin.spin_attempts, "the slip must end inside the spin phase");
    /// Producer side: true when the cell kProducerSlip positions past the tail is free for its
    /// lap (the ring is about half empty), or the queue is closed (put() reports it at once).
    [[nodiscard]] bool room_ahead() const noexcept {
        // [queue.slip.load] relaxed: only decides when to attempt (as the cell's load in
        // slip_cell_free()); put() claims and orders.
        const std::uint64_t t = m_tail.load(std::memory_order_relaxed);
        return (t & kClosedBit) != 0 || slip_cell_free<N>(m_slots, static_cast<std::uint32_t>(t));
    }
    /// emplace_placed() once the queue was full: out of line, so that the inlined fast path
    /// stays small (bench/notes.md, "Ping-pong: the poll phase inline").
    template <class OnPlace, class... Args>
    [[gnu::noinline]] Result<void> emplace_wait(Deadline d, OnPlace& on_place, Args&&... args) noexcept {
        // Full: the consumers are behind. For the first kSlipPolls polls, wait until the cell
        // kProducerSlip positions past the tail is free too, then plain attempts.
        std::uint32_t polls = 0;
        const Result<void> r = m_not_full.wait_for(
            [&]() noexcept {
                if (polls < kSlipPolls) {
                    ++polls;
                    if (!room_ahead()) return Attempt::would_block;
                }
                const Put q = put(on_place, std::forward<Args>(args)...);
                return q == Put::ok          ? Attempt::done
                       : q == Put::closed    ? Attempt::closed
                       : q == Put::corrupted ? Attempt::corrupted
                                             : Attempt::would_block;
            },
            d);
        if (r) m_not_empty.notify_one();
        return r;
    }
    /// The first kInlinePolls polls: small enough to be inlined into the caller (see
    /// kInlinePolls); everything else (close, corruption, dead claimants, the rest of the spin
    /// budget) is in pop_wait().
    template <bool Construct>
    Result<void> pop_into(T* out, Deadline d) noexcept {
        std::uint32_t tries = 0;
        const Take tk = poll_inline<P>([&]() noexcept {
            ++tries;
            return take<Construct>(out);
        }, Take::empty, d);
        if (tk == Take::got) {
            m_not_full.notify_one();
            // Polled before it got one: caught up with the producers (consumer_gap()). [mpmc.head.gap]
            // relaxed: the next position, a guess for the heuristic only.
            if (tries > 1 && !d.is_poll()) [[unlikely]]
                consumer_gap<N, P>(m_slots, static_cast<std::uint32_t>(m_head.load(std::memory_order_relaxed)));
            return ok();
        }
        if (tk == Take::corrupted) return unexpected(Errc::corrupted);
        return pop_wait<Construct>(out, d);
    }
    template <bool Construct>
    [[gnu::noinline]] Result<void> pop_wait(T* out, Deadline d) noexcept {
        Stall stall;
        const Result<void> r = m_not_empty.wait_for(
            [&]() noexcept {
                Take tk = take<Construct>(out);
                if constexpr (kShared) {
                    while (tk == Take::empty && skip_dead_claim(stall)) tk = take<Construct>(out);
                }
                if (tk == Take::got) return Attempt::done;
                if (tk == Take::corrupted) return Attempt::corrupted;
                // [mpmc.closed.hint.load] relaxed: a spinning consumer must not read the
                // producers' tail line on every attempt (that line bounces at every claim and
                // slowed producers ~8x); the exact check runs once the hint is set. A close()
                // this load misses is not lost: it bumps the parking word after storing the
                // hint ([mpmc.closed.hint]), so a sleeper wakes and re-tries.
                if (m_closed_hint.load(std::memory_order_relaxed) == 0)
                    return kShared && stall.head != ~std::uint64_t{0} ? Attempt::stalled : Attempt::would_block;
                // Closed: "drained" needs head == tail, which a head past the tail never reaches.
                if (head_past_tail()) return Attempt::corrupted;
                // Closed but not drained: the remaining elements are claimed or published
                // already, and the consumer that takes the last one wakes nobody, so do not
                // park (a parked consumer would sleep forever): yield until drained.
                return drained_after_close() ? Attempt::closed : Attempt::busy;
            },
            d, kSpinAfterInline);
        if (r) m_not_full.notify_one();
        return r;
    }

    // producers
    alignas(platform::kCacheLine) atomic<std::uint64_t> m_tail{0};  // position | kClosedBit
    // consumers
    alignas(platform::kCacheLine) atomic<std::uint64_t> m_head{0};
    // consumers sleep here, producers wake them
    alignas(platform::kCacheLine) EventCount<P, Scope> m_not_empty;
    // producers sleep here, consumers wake them
    alignas(platform::kCacheLine) EventCount<P, Scope> m_not_full;
    // written once by close(); read by spinning consumers instead of the tail line
    alignas(platform::kCacheLine) atomic<std::uint32_t> m_closed_hint{0};
    // cells
    alignas(platform::kCacheLine) Slot<T, P> m_slots[N];
    // process_shared: claimants and skips (empty for a private queue)
    [[no_unique_address]] std::conditional_t<kShared, Claims, NoClaims> m_claims;
};

}  // namespace detail

/// The public queue: MpmcRing with the OS wait policy (see the top of this file).
template <class T, std::size_t N, WaitScope Scope = WaitScope::process_private>
class MpmcQueue : public detail::MpmcRing<T, N, detail::OsWaitPolicy, Scope> {
public:
    constexpr MpmcQueue() noexcept = default;
};

}  // namespace staticrt
