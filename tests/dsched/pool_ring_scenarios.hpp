// SPDX-License-Identifier: MIT
// tests/dsched/pool_ring_scenarios.hpp — the thread pool's task ring and worker sleep/wake
// protocol (exec/detail/task_ring.hpp, TaskRing<DSchedPolicy>) under seeded schedules: producers
// claim + publish into a small ring while "workers" pop, free and sleep/wake through the token
// protocol, as PoolCore's worker loop does (without its clock, stats and spin).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>

#include "dsched.hpp"
#include "staticrt/exec/detail/task_ring.hpp"

namespace dsched_scenarios {

using staticrt::Errc;

/// A TaskRing<DSchedPolicy> over `N` cells of its own (ThreadPool does the same over its array).
template <std::uint32_t N>
struct TestTaskRing {
    using Ring = staticrt::detail::TaskRing<dsched::DSchedPolicy>;
    struct Cell {
        Ring::Cell header;
        alignas(16) std::byte data[16];
    };
    static_assert(sizeof(Ring::Cell) <= staticrt::detail::kCellDataOffset && alignof(Ring::Cell) <= 16,
                  "the task bytes must start at kCellDataOffset, as in PoolCell");
    Cell cells[N];
    Ring ring;
    std::array<Ring::ParkSlot, 4> park{};  ///< the workers' own park words (targeted wake)
    TestTaskRing() { ring.bind(cells, sizeof(Cell), N); }

    /// Workers 0 .. count-1 park on their own words (WakePolicy::near_submitter); worker i is
    /// "pinned" to cpus[i], which DSchedPolicy::current_cpu() compares with a thread's index.
    void target(std::uint32_t count, std::array<std::uint32_t, 4> cpus) {
        for (std::size_t i = 0; i < park.size(); ++i) park[i].cpu_plus_one = cpus[i] + 1;
        ring.bind_park(park.data(), sizeof(Ring::ParkSlot), count);
    }

    /// claim() + publish() of task `id`; the claim's result (Errc::ok when published).
    Errc submit(int id, staticrt::Deadline deadline, staticrt::detail::SpinPolicy spin = {2, 0}) {
        Ring::Claim c;
        const Errc e = ring.claim(c, deadline, spin);
        if (e != Errc::ok) return e;
        std::memcpy(c.data, &id, sizeof id);
        ring.publish(c, nullptr);
        return Errc::ok;
    }

    /// PoolCore::worker_loop without the clock: pop and run (the task moved out, its cell freed
    /// first, as with a scratch buffer); when empty: leave once closed and drained, let a claimed
    /// cell's submitter finish, else sleep(). Returns when the ring is closed and drained.
    template <class Run>
    void work(Run&& run, std::uint32_t worker = ~0u) {
        for (;;) {
            std::uint32_t pos = 0;
            Ring::Cell* c = nullptr;
            if (ring.pop(pos, c)) {
                int id = -1;
                std::memcpy(&id, reinterpret_cast<std::byte*>(c) + staticrt::detail::kCellDataOffset, sizeof id);
                ring.free_cell(c, pos);
                run(id);
                continue;
            }
            if (ring.finished()) return;
            if (ring.work_hint()) {  // claimed, not yet published
                if (!ring.pop_ready()) dsched::DSchedPolicy::yield();
                continue;
            }
            (void)ring.sleep(worker, [] {});
        }
    }
};

/// Counts how often each task 0..K-1 ran (plain atomics: test bookkeeping, no scheduling point).
template <int K>
struct Runs {
    std::array<std::atomic<int>, K> count{};
    std::atomic<int> out_of_range{0};
    std::atomic<int> total{0};
    /// Records task `id`; returns how many tasks ran so far, this one included.
    int run(int id) {
        if (id < 0 || id >= K) out_of_range.fetch_add(1);
        else count[static_cast<std::size_t>(id)].fetch_add(1);
        return total.fetch_add(1) + 1;
    }
    [[nodiscard]] std::string verdict(int first = 0, int last = K) const {
        if (out_of_range.load() != 0) return "a task that was never submitted ran";
        for (int v = first; v < last; ++v) {
            const int n = count[static_cast<std::size_t>(v)].load();
            if (n != 1) return "task " + std::to_string(v) + " ran " + std::to_string(n) + " times";
        }
        return {};
    }
};

/// Two producers submit 3 tasks each (no deadline) into a ring of 2 while two workers run them;
/// the producer that finishes last closes the ring (shutdown, drain). Every task runs exactly
/// once and both workers leave (a worker left asleep after the close is a deadlock).
inline dsched::Case pool_ring_run_once() {
    constexpr int kPerProducer = 3;
    constexpr int kTasks = 2 * kPerProducer;
    struct S {
        TestTaskRing<2> r;
        Runs<kTasks> runs;
        dsched::DAtomic<int> producing{2};
        std::atomic<int> workers_left{0};
    };
    auto s = std::make_shared<S>();
    dsched::Case c;
    for (int p = 0; p < 2; ++p) {
        c.bodies.push_back([s, p] {
            for (int i = 0; i < kPerProducer; ++i) {
                dsched::check(s->r.submit(p * kPerProducer + i, staticrt::Deadline::never()) == Errc::ok,
                              "a submit before the close failed");
            }
            if (s->producing.fetch_sub(1) == 1) dsched::check(s->r.ring.close(), "close() reported closed twice");
        });
    }
    for (int w = 0; w < 2; ++w) {
        c.bodies.push_back([s] {
            s->r.work([&](int id) { (void)s->runs.run(id); });
            s->workers_left.fetch_add(1);
        });
    }
    c.check = [s] {
        if (s->workers_left.load() != 2) return std::string("a worker did not leave");
        return s->runs.verdict();
    };
    return c;
}

/// No close until the work is done: `Producers` producers submit `PerProducer` tasks each (no
/// deadline) into a ring of `N` while two workers run them and sleep when it is empty; the
/// worker that runs the last task closes. A publish that does not wake a sleeper strands its
/// task with every worker asleep, a free that does not wake a producer parked on the full ring
/// strands that producer: either is a deadlock.
template <std::uint32_t N, int Producers, int PerProducer>
dsched::Case pool_ring_work_then_close(staticrt::detail::SpinPolicy spin) {
    constexpr int kTasks = Producers * PerProducer;
    struct S {
        TestTaskRing<N> r;
        Runs<kTasks> runs;
    };
    auto s = std::make_shared<S>();
    dsched::Case c;
    for (int p = 0; p < Producers; ++p) {
        c.bodies.push_back([s, p, spin] {
            for (int i = 0; i < PerProducer; ++i) {
                dsched::check(s->r.submit(p * PerProducer + i, staticrt::Deadline::never(), spin) == Errc::ok,
                              "a submit on an open ring failed");
            }
        });
    }
    for (int w = 0; w < 2; ++w) {
        c.bodies.push_back([s] {
            s->r.work([&](int id) {
                if (s->runs.run(id) == kTasks) (void)s->r.ring.close();
            });
        });
    }
    c.check = [s] { return s->runs.verdict(); };
    return c;
}

/// One producer, 4 tasks, a ring of 2: the workers sleep and are woken by publish().
inline dsched::Case pool_ring_no_stranded_sleeper() { return pool_ring_work_then_close<2, 1, 4>({2, 0}); }

/// The hysteresis wake: two producers, 10 tasks each, a ring of 8 (wakes at even freed positions
/// or at most half full), two workers freeing cells out of order: a producer parked on the full
/// ring is woken.
inline dsched::Case pool_ring_full_producer_woken() { return pool_ring_work_then_close<8, 2, 10>({1, 0}); }

/// The half-full rescue of the hysteresis: a ring of 8 (quarter-ring wakes at even positions)
/// whose only busy cell holds odd position 1, taken by worker A before the schedule while every
/// later position was run and freed (head = tail = 9). Producer W blocks in claim() for that
/// cell; A frees it (odd: no quarter wake, but the ring is empty, so the depth wakes W), then
/// works and closes after W's task. Without the depth condition W sleeps for good.
inline dsched::Case pool_ring_last_busy_cell_freed() {
    struct S {
        TestTaskRing<8> r;
        Runs<1> runs;
        TestTaskRing<8>::Ring::Cell* held = nullptr;
        std::uint32_t held_pos = 0;
    };
    auto s = std::make_shared<S>();
    // Before the schedule (no scheduling points outside it).
    const auto pop_free = [&s](bool free) {
        std::uint32_t pos = 0;
        TestTaskRing<8>::Ring::Cell* c = nullptr;
        if (!s->r.ring.pop(pos, c)) return false;
        if (free) s->r.ring.free_cell(c, pos);
        else s->held = c, s->held_pos = pos;
        return true;
    };
    bool setup = s->r.submit(100, staticrt::Deadline::poll()) == Errc::ok && pop_free(true);  // position 0
    for (int i = 1; i <= 8; ++i) setup = setup && s->r.submit(100 + i, staticrt::Deadline::poll()) == Errc::ok;
    setup = setup && pop_free(false);  // position 1: held by worker A
    for (int i = 2; i <= 8; ++i) setup = setup && pop_free(true);
    dsched::Case c;
    c.bodies.push_back([s, setup] {  // worker A
        dsched::check(setup && s->held_pos == 1, "set-up: position 1 is not the held cell");
        s->r.ring.free_cell(s->held, s->held_pos);
        s->r.work([&](int id) {
            if (s->runs.run(id) == 1) (void)s->r.ring.close();
        });
    });
    c.bodies.push_back([s] {  // producer W
        dsched::check(s->r.submit(0, staticrt::Deadline::never(), {1, 0}) == Errc::ok, "a submit on an open ring failed");
    });
    c.check = [s] { return s->runs.verdict(); };
    return c;
}

/// close() wakes everybody: ring `full` (capacity 2) holds two tasks nobody runs and two
/// producers block in claim() with no deadline; ring `empty` has two workers that go to sleep.
/// One thread closes both: the producers return Errc::closed, the workers leave.
inline dsched::Case pool_ring_close_wakes() {
    struct S {
        TestTaskRing<2> full;
        TestTaskRing<2> empty;
        std::atomic<int> producers_closed{0};
        std::atomic<int> workers_left{0};
    };
    auto s = std::make_shared<S>();
    // Before the schedule (no scheduling points outside it): fill `full`.
    (void)s->full.submit(100, staticrt::Deadline::poll());
    (void)s->full.submit(101, staticrt::Deadline::poll());
    dsched::Case c;
    for (int p = 0; p < 2; ++p) {
        c.bodies.push_back([s, p] {
            const Errc e = s->full.submit(p, staticrt::Deadline::never());
            dsched::check(e == Errc::closed, "a producer blocked on a full ring did not end with closed");
            if (e == Errc::closed) s->producers_closed.fetch_add(1);
        });
    }
    for (int w = 0; w < 2; ++w) {
        c.bodies.push_back([s] {
            s->empty.work([](int) { dsched::fail("a task ran on the empty ring"); });
            s->workers_left.fetch_add(1);
        });
    }
    c.bodies.push_back([s] {
        dsched::check(s->full.ring.close(), "close() of an open ring returned false");
        dsched::check(s->empty.ring.close(), "close() of an open ring returned false");
        dsched::check(!s->empty.ring.close(), "a second close() returned true");
    });
    c.check = [s] {
        if (s->producers_closed.load() != 2) return std::string("a blocked producer did not return closed");
        if (s->workers_left.load() != 2) return std::string("a sleeping worker did not leave");
        return std::string();
    };
    return c;
}

// ---------------------------------------------------------------- targeted wake (near_submitter)

/// As pool_ring_work_then_close, with workers 0 .. targeted-1 on their own park words and the
/// others on the shared word (a pool of more than 64 workers mixes both). Worker w is "pinned"
/// to CPU cpus[w]; producers are threads 0 .. Producers-1, so a worker pinned to 0 is the one
/// producer 0's publish prefers. A publish that misses a parked worker, a worker that parks
/// after a publisher read the mask without seeing it, or a token left behind strands a task.
template <std::uint32_t N, int Producers, int PerProducer>
dsched::Case pool_ring_targeted(std::uint32_t targeted, std::array<std::uint32_t, 4> cpus) {
    constexpr int kTasks = Producers * PerProducer;
    struct S {
        TestTaskRing<N> r;
        Runs<kTasks> runs;
    };
    auto s = std::make_shared<S>();
    s->r.target(targeted, cpus);
    dsched::Case c;
    for (int p = 0; p < Producers; ++p) {
        c.bodies.push_back([s, p] {
            for (int i = 0; i < PerProducer; ++i) {
                dsched::check(s->r.submit(p * PerProducer + i, staticrt::Deadline::never(), {1, 0}) == Errc::ok,
                              "a submit on an open ring failed");
            }
        });
    }
    for (std::uint32_t w = 0; w < 2; ++w) {
        c.bodies.push_back([s, w] {
            s->r.work([&](int id) {
                if (s->runs.run(id) == kTasks) (void)s->r.ring.close();
            }, w);
        });
    }
    c.check = [s] {
        if (s->r.ring.sleepers() != 0) return std::string("a worker's park announcement outlived the close");
        for (auto& p : s->r.park) {
            if (p.token.load() != 0) return std::string("a wake token was left on a worker's park word");
        }
        return s->runs.verdict();
    };
    return c;
}

/// One producer, 4 tasks, a ring of 2, both workers targeted; worker 0 is on the producer's CPU.
inline dsched::Case pool_ring_targeted_one_producer() { return pool_ring_targeted<2, 1, 4>(2, {0, 7, 0, 0}); }
/// Two producers, 3 tasks each, a ring of 4, both workers targeted, one on each producer's CPU.
inline dsched::Case pool_ring_targeted_two_producers() { return pool_ring_targeted<4, 2, 3>(2, {1, 0, 0, 0}); }
/// Worker 0 targeted, worker 1 on the shared word: publish checks both.
inline dsched::Case pool_ring_targeted_mixed() { return pool_ring_targeted<2, 2, 2>(1, {0, 0, 0, 0}); }

/// close() wakes workers parked on their own words: two targeted workers go to sleep on an
/// empty ring; another thread closes it; both leave.
inline dsched::Case pool_ring_targeted_close_wakes() {
    struct S {
        TestTaskRing<2> r;
        std::atomic<int> workers_left{0};
    };
    auto s = std::make_shared<S>();
    s->r.target(2, {0, 1, 0, 0});
    dsched::Case c;
    for (std::uint32_t w = 0; w < 2; ++w) {
        c.bodies.push_back([s, w] {
            s->r.work([](int) { dsched::fail("a task ran on the empty ring"); }, w);
            s->workers_left.fetch_add(1);
        });
    }
    c.bodies.push_back([s] { dsched::check(s->r.ring.close(), "close() of an open ring returned false"); });
    c.check = [s] {
        if (s->workers_left.load() != 2) return std::string("a parked worker did not leave");
        return std::string();
    };
    return c;
}

}  // namespace dsched_scenarios
