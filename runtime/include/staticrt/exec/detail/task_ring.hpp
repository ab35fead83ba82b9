// SPDX-License-Identifier: MIT
// staticrt/exec/detail/task_ring.hpp — the thread pool's task ring and its worker sleep/wake
// protocol (not public API).
//
// TaskRing<P> is a bounded MPMC ring of task cells (Vyukov-style sequence numbers; cells are
// addressed by a base pointer + stride + capacity, the task's bytes follow each CellHeader), the
// wait of a submitter for a free cell (EventCount m_space, woken with a quarter-ring hysteresis),
// the close bit in the tail word, and the workers' two sleep/wake protocols: the shared one
// (m_sleepers / m_tokens: the kernel picks which sleeper a token wakes) and the targeted one
// (m_parked: one bit per worker, a park word per worker, the publisher picks the parked worker
// pinned nearest to its own CPU; ThreadPoolOptions::wake).
// Roles: any thread claims + publishes (producers); workers pop, run the task in place or move
// it out, free_cell(), and sleep() when the ring is empty; one thread closes (shutdown).
// A header template over the wait policy P (detail/wait_policy.hpp) so the deterministic
// scheduler can run it (tests/dsched/pool_ring_scenarios.hpp); PoolCore uses
// TaskRing<OsWaitPolicy> and keeps the lifecycle, stats, stall checks and the worker threads.
//
//   CellClaim c;                                  // producer       // worker
//   if (ring.claim(c, Deadline::never(), spin) == Errc::ok) {       // if (ring.pop(pos, c)) { run; ring.free_cell(c, pos); }
//       ::new (c.data) Job{...}; ring.publish(c, &ops); }            // else if (ring.finished()) break; else ring.sleep();
//
// Memory ordering: docs/memory-ordering.md, "### Task ring" and "### Sleep / wake protocol"
// ([pool.claim] / [pool.publish] / [pool.take] / [pool.free] / [pool.sleep] / [pool.token] /
// [pool.close] ...); the submitter's wait for a free cell is the waiting layer's handshake.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

#include "staticrt/detail/event_count.hpp"
#include "staticrt/detail/wait_policy.hpp"
#include "staticrt/platform/arch.hpp"
#include "staticrt/platform/cpu.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/time.hpp"

namespace staticrt::detail {

/// The type-erased operations of a task stored in a cell (the ring only stores the pointer).
struct JobOps;

/// The fixed part of a queue cell; the task's bytes follow at kCellDataOffset.
template <class P>
struct BasicCellHeader {
    typename P::template atomic<std::uint32_t> seq{0};  ///< stored as (sequence - cell index), so zero-init is the empty ring
    /// Publish time in 4 ns units (low 32 bits), written only while the pool records task latency
    /// (ThreadPoolOptions::task_latency); in the padding before `ops` on 64-bit targets, so the
    /// header stays 16 bytes. Published with the task by [pool.publish].
    std::uint32_t stamp = 0;
    const JobOps* ops = nullptr;
};
inline constexpr std::size_t kCellDataOffset = 16;

/// One worker's park word for the targeted wake: a publisher that took the worker's bit out of
/// the parked mask posts 1 here and wakes it. `cpu_plus_one`: the CPU the worker is pinned to,
/// plus one (0: it floats; zero so that a constinit pool stays all zero bytes, in .bss), written
/// before the worker starts; read by publishers choosing whom to wake.
template <class P>
struct BasicParkSlot {
    typename P::template atomic<std::uint32_t> token{0};  ///< futex word: 1 = woken by a publisher
    std::uint32_t cpu_plus_one = 0;
};

/// A claimed, not yet published queue cell.
template <class P>
struct BasicCellClaim {
    BasicCellHeader<P>* cell = nullptr;
    void* data = nullptr;
    std::uint32_t pos = 0;
};

template <class P>
class TaskRing {
public:
    using Cell = BasicCellHeader<P>;
    using Claim = BasicCellClaim<P>;
    using ParkSlot = BasicParkSlot<P>;
    /// Workers that can park on their own word (bits of m_parked); the others use the shared word.
    static constexpr std::uint32_t kMaxTargeted = 64;
    static constexpr std::uint32_t kClosed = 0x8000'0000u;
    static constexpr std::uint32_t kPosMask = 0x7fff'ffffu;

    /// Zero-initialised (a constinit pool lands in .bss); bind() writes the layout before use.
    constexpr TaskRing() noexcept = default;
    TaskRing(const TaskRing&) = delete;
    TaskRing& operator=(const TaskRing&) = delete;

    /// Writes the cell layout: `capacity` cells (a power of two) of `stride` bytes at `cells`,
    /// zero-filled (the empty ring). Before any other call, once (PoolCore's LateBind does it).
    void bind(void* cells, std::size_t stride, std::uint32_t capacity) noexcept {
        m_cells = cells, m_stride = stride, m_capacity = capacity, m_mask = capacity - 1;
        m_space_wake_mask = capacity >= 4 ? capacity / 4 - 1 : 0;
        m_depth_sample_mask = capacity >= 512 ? 63 : capacity >= 8 ? capacity / 8 - 1 : 0;
    }

    /// Targeted wake-up for workers 0 .. count-1 (count <= kMaxTargeted): worker i parks on the
    /// ParkSlot at `slots` + i * `stride` bytes. Before any worker runs; count 0 (the default):
    /// every worker uses the shared word.
    void bind_park(ParkSlot* slots, std::size_t stride, std::uint32_t count) noexcept {
        m_park = slots, m_park_stride = stride, m_park_count = count < kMaxTargeted ? count : kMaxTargeted;
    }

    // ---- producers
    /// Claims the cell at the tail. Errc::closed, Errc::full, or Errc::ok.
    [[nodiscard]] Errc try_claim(Claim& c) noexcept {
        std::uint32_t t = m_tail.load(std::memory_order_relaxed);  // [pool.tail_peek] relaxed: validated by the CAS
        for (;;) {
            if ((t & kClosed) != 0) return Errc::closed;
            Cell* h = cell(t);
            // [pool.free_seen] acquire: pairs with [pool.free]; the cell's previous task is gone. A
            // blocked submitter re-runs this after the waiting layer's fence (m_space).
            const std::uint32_t seq = (h->seq.load(std::memory_order_acquire) + (t & m_mask)) & kPosMask;
            const std::int32_t d = diff31(seq, t);
            if (d == 0) {
                // [pool.claim] seq_cst: store half of the [pool.sleep] Dekker pair (the sleeping worker's
                // re-check loads the tail); also orders against [pool.close] in the tail's RMW order.
                if (m_tail.compare_exchange_weak(t, (t + 1) & kPosMask, std::memory_order_seq_cst,
                                                 std::memory_order_relaxed)) {
                    c.cell = h;
                    c.data = reinterpret_cast<std::byte*>(h) + kCellDataOffset;
                    c.pos = t;
                    return Errc::ok;
                }
            } else if (d < 0) {
                return Errc::full;
            } else {
                t = m_tail.load(std::memory_order_relaxed);  // [pool.tail_peek]
            }
        }
    }
    /// Claims a cell, waiting for one until `deadline` (spin, then park on m_space).
    /// Errc::closed; Errc::full (poll deadline); Errc::timeout.
    [[nodiscard]] Errc claim(Claim& c, Deadline deadline, SpinPolicy spin) noexcept {
        Errc e = try_claim(c);
        if (e != Errc::full || deadline.is_poll()) return e;
        // The waiting layer's loop; free_cell() is the notifier ([pool.free], then m_space's notify).
        const Result<void> r = m_space.wait_for(
            [&]() noexcept {
                e = try_claim(c);
                return e == Errc::full ? Attempt::would_block : Attempt::done;
            },
            deadline, spin);
        return r ? e : r.code();
    }
    /// Publishes a claimed cell whose data now holds a task with `ops`; wakes a sleeper if any.
    void publish(const Claim& c, const JobOps* ops) noexcept {
        c.cell->ops = ops;
        // [pool.publish] release: the task bytes and ops are visible to the worker whose [pool.take]
        // acquire reads this sequence.
        c.cell->seq.store(((c.pos + 1) - (c.pos & m_mask)) & kPosMask, std::memory_order_release);
        // [pool.wake_check] seq_cst: load half of the [pool.park] Dekker pair with [pool.claim]:
        // a worker whose bit is not in this load re-checks the tail after setting it and sees our claim.
        const std::uint64_t parked = m_parked.load(std::memory_order_seq_cst);
        if (parked != 0) {
            wake_parked(parked);
            return;
        }
        // [pool.wake_check] seq_cst: load half of the [pool.sleep] Dekker pair with [pool.claim].
        if (m_sleepers.load(std::memory_order_seq_cst) != 0) wake_one_sleeper();
    }

    // ---- workers
    /// Takes the published cell at the head: false when there is none (empty, or the next
    /// claimed cell is not published yet).
    [[nodiscard]] bool pop(std::uint32_t& pos, Cell*& c) noexcept {
        std::uint32_t h = m_head.load(std::memory_order_relaxed);  // [pool.head_peek] relaxed: validated by the CAS
        for (;;) {
            c = cell(h);
            // [pool.take] acquire: pairs with [pool.publish]; the task bytes are visible.
            const std::uint32_t seq = (c->seq.load(std::memory_order_acquire) + (h & m_mask)) & kPosMask;
            const std::int32_t d = diff31(seq, (h + 1) & kPosMask);
            if (d == 0) {
                // [pool.head] relaxed: distinct positions only; the data came with [pool.take].
                if (m_head.compare_exchange_weak(h, (h + 1) & kPosMask, std::memory_order_relaxed,
                                                 std::memory_order_relaxed)) {
                    pos = h;
                    return true;
                }
            } else if (d < 0) {
                return false;
            } else {
                h = m_head.load(std::memory_order_relaxed);  // [pool.head_peek]
            }
        }
    }
    /// True when the cell at the head is published, or the ring is closed and drained (a hint).
    [[nodiscard]] bool pop_ready() const noexcept {
        const std::uint32_t h = m_head.load(std::memory_order_relaxed);  // [pool.head_peek]
        const std::uint32_t seq = (cell(h)->seq.load(std::memory_order_relaxed) + (h & m_mask)) & kPosMask;
        const std::uint32_t t = m_tail.load(std::memory_order_relaxed);  // [pool.tail_peek]
        return seq == ((h + 1) & kPosMask) || ((t & kClosed) != 0 && (t & kPosMask) == h);
    }
    /// Returns a popped cell (its task moved out or destroyed) to the producers.
    void free_cell(Cell* c, std::uint32_t pos) noexcept {
        // [pool.free] release: pairs with [pool.free_seen] (the task was destroyed before a producer
        // reuses the bytes); it is the publishing store of m_space's notify below.
        c->seq.store(((pos + m_capacity) - (pos & m_mask)) & kPosMask, std::memory_order_release);
        // Hysteresis: a blocked submitter is woken when a freed position is a multiple of a quarter
        // ring, or when the ring is at most half full — not per freed cell, which made a producer
        // faster than the workers ping-pong through the kernel. No waiter is stranded: the waiter saw
        // the cell of position p (its tail) still busy, so the free of p - N is still to come; at
        // that free either the ring is at most half full (wake), or more than N/2 queued positions
        // follow, and their future frees cross a multiple of N/4 (wake).
        if (m_space.has_waiters() &&  // the waiting layer's notifier fence + count load
            ((pos & m_space_wake_mask) == 0 ||
             // [pool.depth] seq_cst loads: the depth at this free, not an older one.
             (((m_tail.load(std::memory_order_seq_cst) & kPosMask) - m_head.load(std::memory_order_seq_cst)) &
              kPosMask) <= m_capacity / 2)) {
            m_space.wake_all();
        }
    }
    /// An idle worker's sleep: announce, re-check the ring, and wait for a token unless work
    /// (or the close) arrived meanwhile. Returns how many times the wait returned (wake-ups).
    /// `on_park()` runs once, right before the first wait in the kernel, and only when the worker
    /// does wait (then the return value is at least 1): the pool publishes its idle statistics
    /// there, so a parked worker's counters are current while it sleeps.
    std::uint32_t sleep() noexcept {
        return sleep([]() noexcept {});
    }
    /// As sleep(), for worker `worker`: on its own park word when bind_park() covered it.
    template <class OnPark>
    std::uint32_t sleep(std::uint32_t worker, OnPark&& on_park) noexcept {
        if (worker >= m_park_count) return sleep(on_park);
        const std::uint64_t bit = std::uint64_t{1} << worker;
        // [pool.park] seq_cst RMW then seq_cst load of the tail: Dekker pair with [pool.claim] +
        // [pool.wake_check] (and with [pool.close] + the mask exchange in close()): either the
        // publisher sees our bit and takes it, or we see its claimed task / the close here.
        m_parked.fetch_or(bit, std::memory_order_seq_cst);
        if (work_or_close(m_tail.load(std::memory_order_seq_cst))) {
            // Leave: take our bit back, unless a publisher (or close) took it first; then its
            // token is on the way and is consumed below, so no stale token wakes a later park.
            // [pool.unpark] relaxed RMW: the mask's modification order decides who owns the bit.
            if ((m_parked.fetch_and(~bit, std::memory_order_relaxed) & bit) != 0) return 0;
        }
        return take_park_token(park_slot(worker), on_park);
    }
    template <class OnPark>
    std::uint32_t sleep(OnPark&& on_park) noexcept {
        // [pool.sleep] seq_cst RMW then seq_cst load of the tail: Dekker pair with [pool.claim] +
        // [pool.wake_check] (and with [pool.close] + the sleeper exchange in close()): either the
        // submitter sees our unit and posts a token, or we see its claimed task / the close here.
        m_sleepers.fetch_add(1, std::memory_order_seq_cst);
        if (work_or_close(m_tail.load(std::memory_order_seq_cst))) {
            // Leave: take our unit back, or, if a submitter already turned it into a token, that token.
            std::uint32_t s = m_sleepers.load(std::memory_order_relaxed);  // [pool.unit]
            while (s != 0) {
                // [pool.unit] relaxed CAS: see wake_one_sleeper().
                if (m_sleepers.compare_exchange_weak(s, s - 1, std::memory_order_relaxed, std::memory_order_relaxed)) {
                    return 0;
                }
            }
        }
        return take_token(on_park);
    }

    // ---- shutdown
    /// Sets the close bit: no claim succeeds after it; wakes every sleeping worker and every
    /// submitter blocked for a free cell. Returns false when the ring was closed already.
    bool close() noexcept {
        // [pool.close] seq_cst RMW: after it no claim succeeds; pairs with [pool.closed] acquire loads
        // and is the store half of a [pool.sleep] Dekker pair with the exchange below.
        const std::uint32_t was = m_tail.fetch_or(kClosed, std::memory_order_seq_cst);
        const std::uint32_t n = m_sleepers.exchange(0, std::memory_order_seq_cst);  // [pool.sleep]
        if (n != 0) {
            m_tokens.fetch_add(n, std::memory_order_release);  // [pool.token] pairs with take_token()'s acquire
            P::wake_all(m_tokens, platform::WaitScope::process_private);
        }
        // [pool.park] seq_cst RMW: takes every parked worker's bit (Dekker pair with the workers'
        // announce + tail re-check, as above); each one gets its token.
        std::uint64_t parked = m_parked.exchange(0, std::memory_order_seq_cst);
        for (; parked != 0; parked &= parked - 1) post_park_token(lowest_bit(parked));
        // Unconditional wake after the close bit: blocked submitters re-check and see closed.
        m_space.wake_all();
        return (was & kClosed) == 0;
    }

    // ---- observers
    [[nodiscard]] bool closed() const noexcept {
        return (m_tail.load(std::memory_order_acquire) & kClosed) != 0;  // [pool.closed] acquire: pairs with [pool.close]
    }
    /// Closed and every claimed position popped: a worker may leave.
    [[nodiscard]] bool finished() const noexcept {
        const std::uint32_t t = m_tail.load(std::memory_order_acquire);  // [pool.closed] acquire: pairs with [pool.close]
        return (t & kClosed) != 0 && (t & kPosMask) == m_head.load(std::memory_order_relaxed);  // [pool.head_peek]
    }
    /// Every claimed position popped (closed or not): shutdown's drain loop.
    [[nodiscard]] bool drained() const noexcept {
        const std::uint32_t t = m_tail.load(std::memory_order_acquire) & kPosMask;  // [pool.closed]
        return t == m_head.load(std::memory_order_relaxed);                        // [pool.head_peek]
    }
    /// A spinning worker's hint: something was claimed, or the ring was closed (pop() validates).
    [[nodiscard]] bool work_hint() const noexcept {
        // [pool.tail_peek] / [pool.head_peek] relaxed: a hint; pop() validates.
        const std::uint32_t t = m_tail.load(std::memory_order_relaxed);
        return (t & kPosMask) != m_head.load(std::memory_order_relaxed) || (t & kClosed) != 0;
    }
    /// Positions claimed so far (31-bit, wrapping), without the close bit.
    [[nodiscard]] std::uint32_t tail_position() const noexcept {
        return m_tail.load(std::memory_order_acquire) & kPosMask;  // [pool.closed] acquire: pairs with [pool.close]
    }
    /// Positions claimed after `pos` and up to the tail, inclusive of `pos` (a statistic), at the
    /// positions a worker samples it: multiples of capacity / 8 (at least 1, at most 64); 0 at
    /// the others. The deepest sampled depth is at least the true deepest minus that period (the
    /// tail only grows between samples). Not every position: the load of the tail pulls the
    /// submitters' line to the worker, and the next claim must take it back: one more line
    /// transfer per task, which tripled the time per task where a transfer costs ~450 ns
    /// (bench/notes.md, "Pool dispatch: the depth statistic").
    [[nodiscard]] std::uint32_t sampled_depth(std::uint32_t pos) const noexcept {
        if ((pos & m_depth_sample_mask) != 0) return 0;
        return ((m_tail.load(std::memory_order_relaxed) & kPosMask) - pos) & kPosMask;  // [pool.depth] relaxed: a statistic
    }
    [[nodiscard]] std::uint32_t capacity() const noexcept { return m_capacity; }
    /// Calls f(cell) for every claimed, not yet taken cell, oldest first. Only while nobody
    /// claims or pops (PoolCore::start() before the workers run: it stamps tasks queued early).
    template <class F>
    void for_each_queued(F&& f) noexcept {
        const std::uint32_t t = m_tail.load(std::memory_order_acquire) & kPosMask;  // [pool.closed]
        for (std::uint32_t h = m_head.load(std::memory_order_relaxed); h != t; h = (h + 1) & kPosMask) f(*cell(h));  // [pool.head_peek]
    }
    /// Submitters registered to wait for a free cell (a snapshot; tests wait for one).
    [[nodiscard]] std::uint32_t space_waiters() const noexcept { return m_space.waiters(); }
    /// Workers announced asleep and not yet woken, on either protocol (a snapshot).
    [[nodiscard]] std::uint32_t sleepers() const noexcept {
        // [pool.unit] relaxed: a snapshot (both words).
        return m_sleepers.load(std::memory_order_relaxed) +
               static_cast<std::uint32_t>(std::popcount(m_parked.load(std::memory_order_relaxed)));
    }

private:
    /// Signed distance a - b of two 31-bit positions.
    static constexpr std::int32_t diff31(std::uint32_t a, std::uint32_t b) noexcept {
        return static_cast<std::int32_t>((a - b) << 1) / 2;
    }
    [[nodiscard]] Cell* cell(std::uint32_t pos) const noexcept {
        return static_cast<Cell*>(static_cast<void*>(static_cast<std::byte*>(m_cells) + (pos & m_mask) * m_stride));
    }
    [[nodiscard]] ParkSlot& park_slot(std::uint32_t worker) const noexcept {
        return *static_cast<ParkSlot*>(static_cast<void*>(static_cast<std::byte*>(static_cast<void*>(m_park)) +
                                                          std::size_t{worker} * m_park_stride));
    }
    static std::uint32_t lowest_bit(std::uint64_t m) noexcept {
        return static_cast<std::uint32_t>(std::countr_zero(m));
    }
    /// The parked worker (a bit of `mask`, not 0) pinned nearest to `cpu` (lowest |cpu - its
    /// CPU|, the lower index on a tie); the lowest bit when `cpu` (>= kMaxCpus) or their CPUs are unknown.
    [[nodiscard]] std::uint32_t nearest(std::uint64_t mask, std::size_t cpu) const noexcept {
        std::uint32_t best = lowest_bit(mask);
        if (cpu >= platform::kMaxCpus) return best;
        std::size_t best_d = ~std::size_t{0};
        for (std::uint64_t m = mask; m != 0; m &= m - 1) {
            const std::uint32_t i = lowest_bit(m);
            const std::uint32_t c1 = park_slot(i).cpu_plus_one;
            if (c1 == 0) continue;
            const std::size_t c = c1 - 1;
            const std::size_t d = c > cpu ? c - cpu : cpu - c;
            if (d < best_d) {
                best = i, best_d = d;
                if (d == 0) break;
            }
        }
        return best;
    }
    /// Wakes one parked worker, the one nearest to the calling thread's CPU (one CPU query: only
    /// here, where a futex wake follows anyway). `parked`: a non-zero load of m_parked.
    void wake_parked(std::uint64_t parked) noexcept {
        const std::size_t cpu = P::current_cpu();
        while (parked != 0) {
            const std::uint32_t w = nearest(parked, cpu);
            const std::uint64_t bit = std::uint64_t{1} << w;
            // [pool.unpark] acq_rel RMW: clearing the bit makes this publisher the one that wakes w;
            // acquire: w's reset of its token ([pool.ptoken.reset]) is before our post below.
            const std::uint64_t was = m_parked.fetch_and(~bit, std::memory_order_acq_rel);
            if ((was & bit) != 0) {
                post_park_token(w);
                return;
            }
            // w was taken by another publisher or left by itself: either way it is awake and runs
            // the ring until it is empty (a worker never parks while a claimed task is not popped).
            parked = was & ~bit;
        }
    }
    void post_park_token(std::uint32_t w) noexcept {
        ParkSlot& s = park_slot(w);
        s.token.store(1, std::memory_order_release);  // [pool.ptoken] release: pairs with take_park_token()'s acquire
        P::wake_one(s.token, platform::WaitScope::process_private);
    }
    template <class OnPark>
    static std::uint32_t take_park_token(ParkSlot& s, OnPark& on_park) noexcept {
        return await_token(s.token, on_park, [&s]() noexcept {
            if (s.token.load(std::memory_order_acquire) == 0) return false;  // [pool.ptoken] acquire
            // [pool.ptoken.reset] relaxed: ordered before our next announce ([pool.park], a
            // seq_cst RMW), which the next publisher's [pool.unpark] acquire reads.
            s.token.store(0, std::memory_order_relaxed);
            return true;
        });
    }
    void wake_one_sleeper() noexcept {
        std::uint32_t s = m_sleepers.load(std::memory_order_relaxed);  // [pool.unit] relaxed: validated by the CAS
        while (s != 0) {
            // [pool.unit] relaxed: turns one sleeper's unit into a token; the token's release carries it.
            if (m_sleepers.compare_exchange_weak(s, s - 1, std::memory_order_relaxed, std::memory_order_relaxed)) {
                m_tokens.fetch_add(1, std::memory_order_release);  // [pool.token] pairs with take_token()'s acquire
                P::wake_one(m_tokens, platform::WaitScope::process_private);
                return;
            }
        }
    }
    template <class OnPark>
    std::uint32_t take_token(OnPark& on_park) noexcept {
        return await_token(m_tokens, on_park, [this]() noexcept {
            std::uint32_t k = m_tokens.load(std::memory_order_acquire);  // [pool.token]
            while (k != 0) {
                // [pool.token] acquire CAS: takes one token (pairs with its release add).
                if (m_tokens.compare_exchange_weak(k, k - 1, std::memory_order_acquire, std::memory_order_relaxed)) {
                    return true;
                }
            }
            return false;
        });
    }
    /// A worker's wait for its token on `word` (the shared m_tokens or its own park word):
    /// try_take() until it takes one; on_park() once, right before the first wait in the kernel.
    /// Returns how many times the wait returned.
    template <class OnPark, class TryTake>
    static std::uint32_t await_token(const typename P::template atomic<std::uint32_t>& word, OnPark& on_park,
                                     TryTake&& try_take) noexcept {
        for (std::uint32_t wakes = 0;; ++wakes) {
            if (try_take()) return wakes;
            if (wakes == 0) on_park();
            (void)P::wait(word, 0, Deadline::never(), platform::WaitScope::process_private);
        }
    }
    /// A sleeping worker's re-check of the tail it loaded: a claimed task not yet popped, or the close.
    [[nodiscard]] bool work_or_close(std::uint32_t t) const noexcept {
        return (t & kClosed) != 0 || (t & kPosMask) != m_head.load(std::memory_order_relaxed);  // [pool.head_peek]
    }

    // Written once by bind() (first use) / bind_park() (start); read by everybody.
    void* m_cells = nullptr;
    ParkSlot* m_park = nullptr;
    std::size_t m_park_stride = 0;
    std::uint32_t m_park_count = 0;  ///< workers 0 .. m_park_count-1 park on their own word
    std::size_t m_stride = 0;
    std::uint32_t m_capacity = 0;
    std::uint32_t m_mask = 0;
    std::uint32_t m_space_wake_mask = 0;  ///< wake blocked submitters when a freed position is a multiple of capacity/4
    std::uint32_t m_depth_sample_mask = 0;  ///< workers sample the depth at positions that are multiples of mask + 1

    // Producers (submitters).
    alignas(platform::kCacheLine) typename P::template atomic<std::uint32_t> m_tail{0};  ///< bit 31: closed; bits 0-30: position
    // Consumers (workers).
    alignas(platform::kCacheLine) typename P::template atomic<std::uint32_t> m_head{0};
    // Sleep/wake protocol.
    alignas(platform::kCacheLine) typename P::template atomic<std::uint32_t> m_sleepers{0};  ///< units of workers about to sleep
    typename P::template atomic<std::uint32_t> m_tokens{0};  ///< wake tokens (futex word)
    typename P::template atomic<std::uint64_t> m_parked{0};  ///< bit i: worker i parked on its own word
    // Submitters blocked on a full ring.
    alignas(platform::kCacheLine) EventCount<P> m_space;  ///< submitters waiting for a free cell
};

}  // namespace staticrt::detail
