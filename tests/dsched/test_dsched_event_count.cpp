// SPDX-License-Identifier: MIT
// detail::EventCount<DSchedPolicy> under seeded schedules: no lost wake-up (prepare / re-check /
// commit against publish / notify), notify_all wakes every registered waiter, wait_for() with a
// finite deadline ends with done or timeout and never hangs.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "dsched.hpp"
#include "dsched_suite.hpp"
#include "staticrt/detail/event_count.hpp"

namespace {

using dsched::Case;
using dsched::DAtomic;
using dsched::DSchedPolicy;
using staticrt::Deadline;
using staticrt::detail::Attempt;
using Ev = staticrt::detail::EventCount<DSchedPolicy>;

/// `waiters` threads wait for the flag with the raw prepare / re-check / commit / cancel
/// protocol; one thread publishes it and notifies (one notify_one per waiter, or one notify_all).
Case publish_and_wait(int waiters, bool all) {
    struct S {
        Ev ev;
        DAtomic<std::uint32_t> flag{0};
        DAtomic<int> woke{0};
    };
    auto s = std::make_shared<S>();
    Case c;
    for (int w = 0; w < waiters; ++w) {
        c.bodies.push_back([s] {
            Ev::Key key = s->ev.prepare_wait();
            while (s->flag.load() == 0) {
                const auto r = s->ev.commit_wait(key, Deadline::never());
                dsched::check(r.has_value(), "commit_wait(never) failed");
            }
            s->ev.cancel_wait();
            (void)s->woke.fetch_add(1);
        });
    }
    c.bodies.push_back([s, waiters, all] {
        s->flag.store(1);
        if (all) {
            s->ev.notify_all();
        } else {
            for (int w = 0; w < waiters; ++w) s->ev.notify_one();
        }
    });
    c.check = [s, waiters] {
        if (s->woke.peek() != waiters) return "woke " + std::to_string(s->woke.peek());
        if (s->ev.waiters() != 0) return std::string("a waiter is still registered");
        return std::string();
    };
    return c;
}

/// A counter handed over one unit at a time: the consumer takes `n` units with wait_for(),
/// the producer adds them one by one, notifying after each.
Case wait_for_units(int n, bool finite) {
    struct S {
        Ev ev;
        DAtomic<int> units{0};
        DAtomic<int> taken{0};
        DAtomic<int> timeouts{0};
    };
    auto s = std::make_shared<S>();
    Case c;
    c.bodies.push_back([s, n, finite] {
        for (int i = 0; i < n; ++i) {
            for (;;) {
                const Deadline d = finite ? Deadline::after(std::chrono::seconds(1)) : Deadline::never();
                const auto r = s->ev.wait_for(
                    [&]() noexcept {
                        int u = s->units.load();
                        while (u > 0) {
                            if (s->units.compare_exchange_weak(u, u - 1)) return Attempt::done;
                        }
                        return Attempt::would_block;
                    },
                    d, staticrt::detail::SpinPolicy{2, 1});
                if (r) break;
                dsched::check(finite && r.code() == staticrt::Errc::timeout, "wait_for failed without a deadline");
                (void)s->timeouts.fetch_add(1);
            }
            (void)s->taken.fetch_add(1);
        }
    });
    c.bodies.push_back([s, n] {
        for (int i = 0; i < n; ++i) {
            (void)s->units.fetch_add(1);
            s->ev.notify_one();
        }
    });
    c.check = [s, n] {
        if (s->taken.peek() != n || s->units.peek() != 0) return std::string("units lost or duplicated");
        return std::string();
    };
    return c;
}

TEST(DschedEventCount, NotifyOne_PerWaiter_NoLostWakeUp) {
    dsched_suite::expect_all_pass("event_count.notify_one", 600, [] { return publish_and_wait(2, false); });
}

TEST(DschedEventCount, NotifyAll_WakesEveryWaiter) {
    dsched_suite::expect_all_pass("event_count.notify_all", 600, [] { return publish_and_wait(3, true); });
}

TEST(DschedEventCount, WaitFor_Never_TakesEveryUnit) {
    dsched_suite::expect_all_pass("event_count.wait_for", 400, [] { return wait_for_units(3, false); });
}

TEST(DschedEventCount, WaitFor_FiniteDeadline_EndsWithDoneOrTimeout) {
    dsched_suite::expect_all_pass("event_count.wait_for_deadline", 400,
                                  [] { return wait_for_units(3, true); });
}

}  // namespace
