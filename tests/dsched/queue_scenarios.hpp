// SPDX-License-Identifier: MIT
// tests/dsched/queue_scenarios.hpp — the queue scenarios run under seeded schedules, shared by
// staticrt_dsched_tests (the real headers: every schedule must pass) and the bug executables
// of tests/dsched/bugs/ (patched headers first on the include path: a schedule must fail).
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <string>

#include "dsched.hpp"
#include "staticrt/queue/joinable_queue.hpp"
#include "staticrt/queue/mpmc_queue.hpp"
#include "staticrt/queue/scq_queue.hpp"
#include "staticrt/queue/spsc_queue.hpp"
#include "staticrt/queue/ticket_queue.hpp"

namespace dsched_scenarios {

using dsched::Case;
using dsched::DAtomic;
using dsched::DSchedPolicy;
using staticrt::Deadline;
using staticrt::Errc;

template <class T, std::size_t N>
using Spsc = staticrt::detail::SpscRing<T, N, DSchedPolicy>;
template <class T, std::size_t N>
using Mpmc = staticrt::detail::MpmcRing<T, N, DSchedPolicy>;
template <class T, std::size_t N>
using Scq = staticrt::detail::ScqRing<T, N, DSchedPolicy>;
/// ScqRing with its ring positions in position order (ScqLayout::compact).
template <class T, std::size_t N>
using ScqCompact = staticrt::detail::ScqRing<T, N, DSchedPolicy, staticrt::WaitScope::process_private,
                                             staticrt::ScqLayout::compact>;
/// TicketRing with its default claim (CAS first, a ticket after two lost CASes) ...
template <class T, std::size_t N>
using Ticket = staticrt::detail::TicketRing<T, N, DSchedPolicy>;
/// ... and with every never-deadline call taking a ticket (every ticket path, departures at close).
template <class T, std::size_t N>
using TicketAlways = staticrt::detail::TicketRing<T, N, DSchedPolicy, staticrt::WaitScope::process_private, 0>;
template <class T, std::size_t N>
using Joinable = staticrt::detail::JoinableRing<T, N, DSchedPolicy>;

/// Counts how often each value 0..K-1 was taken; plain atomics (no scheduling point: the test's
/// own bookkeeping, not the protocol under test).
template <int K>
struct Seen {
    std::array<std::atomic<int>, K> count{};
    std::atomic<int> out_of_range{0};
    void take(int v) {
        if (v < 0 || v >= K) out_of_range.fetch_add(1, std::memory_order_relaxed);
        else count[static_cast<std::size_t>(v)].fetch_add(1, std::memory_order_relaxed);
    }
    [[nodiscard]] std::string verdict() const {
        if (out_of_range.load() != 0) return "a value that was never pushed";
        for (int v = 0; v < K; ++v) {
            const int n = count[static_cast<std::size_t>(v)].load();
            if (n != 1) return "value " + std::to_string(v) + " taken " + std::to_string(n) + " times";
        }
        return {};
    }
};

/// Seen<K> for a single consumer that must also see the values in order 0, 1, 2, ...
template <int K>
struct SeenInOrder {
    Seen<K> seen;
    std::atomic<int> next_expected{0};
    std::atomic<int> out_of_order{0};
    void take(int v) {
        if (v != next_expected.fetch_add(1)) out_of_order.fetch_add(1);
        seen.take(v);
    }
    [[nodiscard]] std::string verdict() const {
        return out_of_order.load() != 0 ? std::string("out of order") : seen.verdict();
    }
};

/// For close races: which of the values 0..K-1 a push accepted, and how often each was taken.
/// Exactly the accepted ones must be taken, each once.
template <int K>
struct AcceptedTaken {
    std::array<std::atomic<int>, K> accepted{};
    std::array<std::atomic<int>, K> taken{};
    void take(int v) {
        if (v >= 0 && v < K) taken[static_cast<std::size_t>(v)].fetch_add(1);
        else dsched::check(false, "a value that was never pushed");
    }
    [[nodiscard]] std::string verdict() const {
        for (int v = 0; v < K; ++v) {
            const int a = accepted[static_cast<std::size_t>(v)].load();
            const int t = taken[static_cast<std::size_t>(v)].load();
            if (a != t) return "value " + std::to_string(v) + (a ? " accepted" : " refused") + " but taken " + std::to_string(t) + " times";
        }
        return {};
    }
};

/// A consumer: pops (no deadline) until the queue reports closed, handing each value to on_item.
template <class Queue, class OnItem>
void pop_until_closed(Queue& q, OnItem&& on_item) {
    for (;;) {
        auto r = q.pop();
        if (!r) {
            dsched::check(r.code() == Errc::closed, "pop failed with something other than closed");
            return;
        }
        on_item(*r);
    }
}

// ------------------------------------------------------------------ SPSC
/// One producer pushes kItems through a queue of 2 and closes; the consumer pops until closed.
inline Case spsc_transfer() {
    constexpr int kItems = 5;
    struct S {
        Spsc<int, 2> q;
        SeenInOrder<kItems> got;
    };
    auto s = std::make_shared<S>();
    Case c;
    c.bodies.push_back([s] {
        for (int i = 0; i < kItems; ++i) dsched::check(s->q.push(i).has_value(), "push failed before close");
        s->q.close();
    });
    c.bodies.push_back([s] { pop_until_closed(s->q, [&](int v) { s->got.take(v); }); });
    c.check = [s] { return s->got.verdict(); };
    return c;
}

/// The producer of a full queue slips back (it waits for the cell kProducerSlip positions past
/// the tail, queue/detail/slot.hpp) only for a bounded number of polls. Here the consumer frees
/// exactly one cell and then waits on a second queue that the producer feeds only after its
/// blocked push went through: a producer that waited for the slip without bound would never get
/// there (livelock). N = 128: the slip (N / 2 = 64 cells) is active for an int queue under
/// DSchedPolicy (8-byte cells, 32 per two 128-byte lines; queues of at least 4 x 32 slip). Then
/// the consumer drains: every value once, in order. Q: Spsc, Mpmc, Ticket or Scq (whose slip
/// counts 8-byte ring entries: the same N / 2; one producer, one consumer: in order for each).
inline constexpr int kSlipN = 128;
template <template <class, std::size_t> class Q>
Case slip_bounded() {
    constexpr int kItems = kSlipN + 1;
    struct S {
        Q<int, kSlipN> q;
        Q<int, 2> go;
        SeenInOrder<kItems> got;
    };
    auto s = std::make_shared<S>();
    Case c;
    c.bodies.push_back([s] {
        for (int i = 0; i < kSlipN; ++i) dsched::check(s->q.try_push(i), "the queue refused an element before it was full");
        dsched::check(s->q.push(kSlipN).has_value(), "the push into the full queue failed");  // blocks: full
        dsched::check(s->go.push(1).has_value(), "push to the second queue failed");
    });
    c.bodies.push_back([s] {
        auto first = s->q.pop();  // frees one cell, then waits for the producer's signal
        dsched::check(first.has_value(), "first pop failed");
        if (first) s->got.take(*first);
        dsched::check(s->go.pop().has_value(), "the signal never came");
        for (int i = 1; i < kItems; ++i) {
            auto r = s->q.pop();
            dsched::check(r.has_value(), "pop of a pushed element failed");
            if (r) s->got.take(*r);
        }
    });
    c.check = [s] { return s->got.verdict(); };
    return c;
}

// ------------------------------------------------------------------ MPMC
/// Two producers push 3 values each through a queue of 2; the last producer to finish closes;
/// two consumers pop until closed. Every value exactly once.
template <class Queue = Mpmc<int, 2>>
Case mpmc_transfer() {
    constexpr int kPerProducer = 3;
    struct S {
        Queue q;
        Seen<2 * kPerProducer> seen;
        DAtomic<int> producers_done{0};
    };
    auto s = std::make_shared<S>();
    Case c;
    for (int p = 0; p < 2; ++p) {
        c.bodies.push_back([s, p] {
            for (int i = 0; i < kPerProducer; ++i) {
                dsched::check(s->q.push(p * kPerProducer + i).has_value(), "push failed before close");
            }
            if (s->producers_done.fetch_add(1) == 1) s->q.close();
        });
    }
    for (int k = 0; k < 2; ++k) {
        c.bodies.push_back([s] { pop_until_closed(s->q, [&](int v) { s->seen.take(v); }); });
    }
    c.check = [s] { return s->seen.verdict(); };
    return c;
}

/// `waiters` threads wait in pop() on an empty queue of 2 (or in push() on a full one, filled
/// before the schedule starts) while one more thread closes it: every waiter must end with
/// Errc::closed.
template <class Queue>
Case close_wakes(bool producer_side, int waiters) {
    struct S {
        Queue q;
        DAtomic<int> closed_seen{0};
    };
    auto s = std::make_shared<S>();
    if (producer_side) {
        (void)s->q.try_push(100);
        (void)s->q.try_push(101);
    }
    Case c;
    for (int w = 0; w < waiters; ++w) {
        c.bodies.push_back([s, producer_side] {
            int out = 0;
            const auto r = producer_side ? s->q.push(1) : s->q.pop(out);
            dsched::check(!r && r.code() == Errc::closed, "the blocked call did not end with closed");
            (void)s->closed_seen.fetch_add(1);
        });
    }
    c.bodies.push_back([s] { s->q.close(); });
    c.check = [s, waiters] {
        return s->closed_seen.peek() == waiters ? std::string() : std::string("a waiter did not return");
    };
    return c;
}
inline Case spsc_close_wakes(bool producer_side) { return close_wakes<Spsc<int, 2>>(producer_side, 1); }
inline Case mpmc_close_wakes(bool producer_side) { return close_wakes<Mpmc<int, 2>>(producer_side, 2); }

// ------------------------------------------------------------------ SCQ
inline Case scq_transfer() { return mpmc_transfer<Scq<int, 2>>(); }
inline Case scq_close_wakes(bool producer_side) { return close_wakes<Scq<int, 2>>(producer_side, 2); }

/// SCQ's index ring alone, full (N indices in 2N entries): Threads threads each take an index
/// and put it back, 3 times. Afterwards every index is in the ring exactly once (an index
/// written into an entry that a dequeuer of the same cycle already passed would be lost; one
/// taken twice would be duplicated). Tiny ring, many laps: every entry is passed by dequeuers
/// of later cycles while an older index still sits in it (the "unsafe" case). Untrusted (the
/// rings of a process-shared ScqQueue): such a dequeuer takes the older index over instead (the
/// rescue of an index whose dequeuer died), racing the live dequeuer of the older cycle.
template <std::size_t N = 2, int Threads = 3, staticrt::ScqLayout L = staticrt::ScqLayout::spread,
          bool Untrusted = false>
Case scq_ring_churn() {
    using Ring = staticrt::detail::ScqIndexRing<N, DSchedPolicy, L, Untrusted>;
    struct S {
        Ring ring;
    };
    auto s = std::make_shared<S>();
    for (std::uint32_t i = 0; i < N; ++i) (void)s->ring.enqueue(i);
    Case c;
    for (int t = 0; t < Threads; ++t) {
        c.bodies.push_back([s] {
            for (int k = 0; k < 3; ++k) {
                const std::uint32_t i = s->ring.dequeue();
                if (i == Ring::kEmpty) continue;
                dsched::check(i < N, "an index that was never enqueued");
                dsched::check(s->ring.enqueue(i) == Ring::Enq::ok, "enqueue into an open ring failed");
            }
        });
    }
    c.check = [s] {
        // Single-threaded now: drain mode up to the tail takes everything left.
        const std::uint64_t limit = s->ring.tail_position() + 1;
        int seen[N] = {};
        for (;;) {
            const std::uint32_t i = s->ring.dequeue(limit);
            if (i == Ring::kEmpty) break;
            if (i >= N) return std::string("an index that was never enqueued");
            ++seen[i];
        }
        for (std::size_t i = 0; i < N; ++i)
            if (seen[i] != 1) return "index " + std::to_string(i) + " seen " + std::to_string(seen[i]) + " times";
        return std::string();
    };
    return c;
}

/// Two producers push 3 values each through a queue of 1 while a third thread closes it at a
/// point the schedule picks; two consumers pop until closed. Exactly the values whose push
/// succeeded are popped, each once (SCQ: a push that claimed a cell and then met the close bit
/// gives the cell back; a consumer in drain mode invalidates positions whose enqueuer is late.
/// TicketRing: a ticket producer still waiting at the close leaves its position unwritten and
/// consumers skip it).
template <class Queue = Scq<int, 1>>
Case close_race() {
    constexpr int kPerProducer = 3;
    struct S {
        Queue q;
        AcceptedTaken<2 * kPerProducer> at;
    };
    auto s = std::make_shared<S>();
    Case c;
    for (int p = 0; p < 2; ++p) {
        c.bodies.push_back([s, p] {
            for (int i = 0; i < kPerProducer; ++i) {
                const int v = p * kPerProducer + i;
                const auto r = s->q.push(v);
                if (r) {
                    s->at.accepted[static_cast<std::size_t>(v)].store(1);
                } else {
                    dsched::check(r.code() == Errc::closed, "push failed with something other than closed");
                    return;
                }
            }
        });
    }
    c.bodies.push_back([s] { s->q.close(); });
    for (int k = 0; k < 2; ++k) {
        c.bodies.push_back([s] {
            pop_until_closed(s->q, [&](int v) { s->at.take(v); });
        });
    }
    c.check = [s] { return s->at.verdict(); };
    return c;
}

inline Case scq_close_race() { return close_race<Scq<int, 1>>(); }

// ------------------------------------------------------------------ TicketRing
inline Case ticket_transfer() { return mpmc_transfer<Ticket<int, 2>>(); }
inline Case ticket_always_transfer() { return mpmc_transfer<TicketAlways<int, 2>>(); }
inline Case ticket_close_wakes(bool producer_side) { return close_wakes<TicketAlways<int, 2>>(producer_side, 2); }

/// Mixed claims: one producer pushes with tickets, the other with try_push (a CAS, retried after
/// a yield); one consumer pops with tickets, the other with try_pop and polls; a fifth thread closes at a
/// point the schedule picks. Exactly the accepted values are taken, each once, and both
/// consumers end with Errc::closed (a poll after the close must skip positions whose ticket
/// producer left).
inline Case ticket_mixed_close() {
    constexpr int kPerProducer = 3;
    struct S {
        TicketAlways<int, 2> q;
        AcceptedTaken<2 * kPerProducer> at;
    };
    auto s = std::make_shared<S>();
    auto take = [s](int v) { s->at.take(v); };
    Case c;
    c.bodies.push_back([s] {
        for (int v = 0; v < kPerProducer; ++v) {
            const auto r = s->q.push(v);
            if (!r) {
                dsched::check(r.code() == Errc::closed, "push failed with something other than closed");
                return;
            }
            s->at.accepted[static_cast<std::size_t>(v)].store(1);
        }
    });
    c.bodies.push_back([s] {
        for (int v = kPerProducer; v < 2 * kPerProducer; ++v) {
            while (!s->q.try_push(v)) {
                if (s->q.closed()) return;
                DSchedPolicy::yield();
            }
            s->at.accepted[static_cast<std::size_t>(v)].store(1);
        }
    });
    c.bodies.push_back([s] { s->q.close(); });
    c.bodies.push_back([s, take] { pop_until_closed(s->q, take); });
    c.bodies.push_back([s, take] {
        for (;;) {
            int out = 0;
            if (s->q.try_pop(out)) {  // QueueFront's notify after it must reach ticket producers
                take(out);
                continue;
            }
            const auto r = s->q.pop(out, Deadline::poll());
            if (r) {
                take(out);
                continue;
            }
            if (r.code() == Errc::closed) return;
            dsched::check(r.code() == Errc::timeout, "a poll failed with something other than timeout or closed");
            DSchedPolicy::yield();
        }
    });
    c.check = [s] { return s->at.verdict(); };
    return c;
}

// ------------------------------------------------------------------ JoinableRing
/// The producer puts 3 items and joins; two consumers take, process (count) and task_done().
/// When join() returns every item must be processed; then the producer closes.
inline Case joinable_join() {
    constexpr int kItems = 3;
    struct S {
        Joinable<int, 2> q;
        Seen<kItems> seen;
        DAtomic<int> processed{0};
    };
    auto s = std::make_shared<S>();
    Case c;
    c.bodies.push_back([s] {
        for (int i = 0; i < kItems; ++i) dsched::check(s->q.push(i).has_value(), "push failed");
        dsched::check(s->q.join().has_value(), "join(never) failed");
        dsched::check(s->processed.load() == kItems, "join returned before every task_done");
        dsched::check(s->q.unfinished() == 0, "join returned with unfinished items");
        s->q.close();
    });
    for (int k = 0; k < 2; ++k) {
        c.bodies.push_back([s] {
            pop_until_closed(s->q, [&](int v) {
                s->seen.take(v);
                (void)s->processed.fetch_add(1);
                dsched::check(s->q.task_done().has_value(), "task_done failed");
            });
        });
    }
    c.check = [s] { return s->seen.verdict(); };
    return c;
}

}  // namespace dsched_scenarios
