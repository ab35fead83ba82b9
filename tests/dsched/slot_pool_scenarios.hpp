// SPDX-License-Identifier: MIT
// tests/dsched/slot_pool_scenarios.hpp — the result-slot pool (exec/detail/slot_pool.hpp) over
// DSchedPolicy: scenarios shared by staticrt_dsched_tests and the bug executables.
#pragma once

#include <memory>
#include <string>

#include "dsched.hpp"
#include "staticrt/exec/detail/slot_pool.hpp"

namespace dsched_scenarios {

/// A SlotPool<DSchedPolicy> over `N` slots of its own (ResultSlots does the same over its array);
/// the first `Homes` are home slots of queue cells 0..Homes-1 (a ThreadPool's binding).
template <std::uint32_t N, std::uint32_t Homes = 0>
struct TestSlotPool : staticrt::detail::SlotPool<dsched::DSchedPolicy> {
    using Base = staticrt::detail::SlotPool<dsched::DSchedPolicy>;
    Slot slots[N];
    TestSlotPool() {
        bind_slots(slots, N, [this](std::uint32_t i) noexcept { slots[i].owner = this; }, Homes);
    }
};

/// The pool's only slot is taken before the schedule starts; one thread waits for a slot with
/// no deadline while another closes the pool (ThreadPool::shutdown() does this): the waiter
/// must return Errc::closed.
inline dsched::Case slot_pool_close_wakes_submitter() {
    struct S {
        TestSlotPool<1> pool;
        dsched::DAtomic<int> closed_seen{0};
    };
    auto s = std::make_shared<S>();
    (void)s->pool.acquire(staticrt::Deadline::poll());  // the only slot: in use
    dsched::Case c;
    c.bodies.push_back([s] {
        const auto r = s->pool.acquire(staticrt::Deadline::never());
        dsched::check(!r && r.code() == staticrt::Errc::closed, "a blocked acquire did not end with closed");
        (void)s->closed_seen.fetch_add(1);
    });
    c.bodies.push_back([s] { s->pool.close(); });
    c.check = [s] { return s->closed_seen.peek() == 1 ? std::string() : std::string("the submitter did not return"); };
    return c;
}

/// Three threads share one slot: each acquires it (no deadline) twice, holds it, releases it.
/// Never two holders at once; nobody stranded (a release wakes the waiters).
inline dsched::Case slot_pool_hand_over() {
    struct S {
        TestSlotPool<1> pool;
        dsched::DAtomic<int> holders{0};
        dsched::DAtomic<int> rounds{0};
    };
    auto s = std::make_shared<S>();
    dsched::Case c;
    for (int t = 0; t < 3; ++t) {
        c.bodies.push_back([s] {
            for (int i = 0; i < 2; ++i) {
                const auto r = s->pool.acquire(staticrt::Deadline::never());
                if (!r) {
                    dsched::fail("acquire(never) failed on an open pool");
                    return;
                }
                dsched::check(s->holders.fetch_add(1) == 0, "two holders of the only slot");
                (void)s->holders.fetch_sub(1);
                s->pool.release(*r);
                (void)s->rounds.fetch_add(1);
            }
        });
    }
    c.check = [s] { return s->rounds.peek() == 6 ? std::string() : std::string("rounds lost"); };
    return c;
}

/// Home slots (ThreadPool's binding): both slots are homes and both are held before the
/// schedule starts. One thread waits for any free slot with no deadline (a submitter whose cell
/// had none); another frees a home slot by a plain store (a reader's get()): the waiter must
/// wake. Without the notify after [slot.home.free] it sleeps for good (deadlock).
inline dsched::Case slot_pool_home_release_wakes_waiter() {
    struct S {
        TestSlotPool<2, 2> pool;
        dsched::DAtomic<int> woke{0};
    };
    auto s = std::make_shared<S>();
    auto* a = s->pool.take_for_cell(0);
    auto* b = s->pool.take_for_cell(1);
    dsched::Case c;
    if (a == nullptr || b == nullptr) {
        c.bodies.push_back([] { dsched::fail("a free home slot was not taken"); });
        return c;
    }
    c.bodies.push_back([s] {
        const auto r = s->pool.wait_any_free(staticrt::Deadline::never());
        dsched::check(r.has_value(), "wait_any_free(never) failed on an open pool");
        (void)s->woke.fetch_add(1);
    });
    c.bodies.push_back([s, b] { s->pool.release(b); });
    c.check = [s] { return s->woke.peek() == 1 ? std::string() : std::string("the waiter did not return"); };
    return c;
}

/// Home slot + free list: one home slot (cell 0) and one free-list slot. The "submitter" owns
/// cell 0 (in a ThreadPool every position of that cell is claimed by one submitter at a time, in
/// order) and takes a slot for it three times, waiting for any free slot when neither is free;
/// it hands each slot to a "reader" through two mailboxes, so the reader may hold both slots
/// while the submitter wants a third. The reader frees each slot as get() does. Never two
/// holders of one slot; every round completes; no wake-up lost.
inline dsched::Case slot_pool_home_hand_over() {
    struct S {
        TestSlotPool<2, 1> pool;
        dsched::DAtomic<int> held[2];
        dsched::DAtomic<int> box[2];  ///< slot index + 1, 0 = empty
        dsched::DAtomic<int> released{0};
    };
    auto s = std::make_shared<S>();
    dsched::Case c;
    c.bodies.push_back([s] {
        for (int round = 0; round < 3; ++round) {
            auto* slot = s->pool.take_for_cell(0);
            while (slot == nullptr) {
                if (!s->pool.wait_any_free(staticrt::Deadline::never())) {
                    dsched::fail("wait_any_free(never) failed on an open pool");
                    return;
                }
                slot = s->pool.take_for_cell(0);
            }
            const int i = static_cast<int>(slot - s->pool.slots);
            dsched::check(s->held[i].fetch_add(1) == 0, "two holders of one slot");
            auto& box = s->box[round % 2];
            while (box.load() != 0) dsched::DSchedPolicy::yield();
            box.store(i + 1);
        }
    });
    c.bodies.push_back([s] {
        for (int round = 0; round < 3; ++round) {
            auto& box = s->box[round % 2];
            int v = 0;
            while ((v = box.load()) == 0) dsched::DSchedPolicy::yield();
            box.store(0);
            (void)s->held[v - 1].fetch_sub(1);
            s->pool.release(&s->pool.slots[v - 1]);
            (void)s->released.fetch_add(1);
        }
    });
    c.check = [s] { return s->released.peek() == 3 ? std::string() : std::string("rounds lost"); };
    return c;
}

}  // namespace dsched_scenarios
