// SPDX-License-Identifier: MIT
// tests/dsched/slot_pool_scenarios.hpp — the result-slot pool (exec/detail/slot_pool.hpp) over
// DSchedPolicy: scenarios shared by staticrt_dsched_tests and the bug executables.
#pragma once

#include <memory>
#include <string>

#include "dsched.hpp"
#include "staticrt/exec/detail/slot_pool.hpp"

namespace dsched_scenarios {

/// A SlotPool<DSchedPolicy> over `N` slots of its own (ResultSlots does the same over its array).
template <std::uint32_t N>
struct TestSlotPool : staticrt::detail::SlotPool<dsched::DSchedPolicy> {
    using Base = staticrt::detail::SlotPool<dsched::DSchedPolicy>;
    Slot slots[N];
    TestSlotPool() {
        bind_slots(slots, N, [this](std::uint32_t i) noexcept { slots[i].owner = this; });
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
                (*r)->state.store(staticrt::detail::SlotWord::kFree);
                s->pool.release(*r);
                (void)s->rounds.fetch_add(1);
            }
        });
    }
    c.check = [s] { return s->rounds.peek() == 6 ? std::string() : std::string("rounds lost"); };
    return c;
}

}  // namespace dsched_scenarios
