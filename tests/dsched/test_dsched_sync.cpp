// SPDX-License-Identifier: MIT
// Semaphore, BoundedSemaphore, Event and Latch over DSchedPolicy under seeded schedules: the
// public class templates (sync/semaphore.hpp, event.hpp, latch.hpp) with the test policy, fast
// paths included. Semaphore: no unit lost or duplicated among threads handing units around, a
// blocked acquire is woken by release (one by one, or release(n)), a finite deadline ends with
// the unit taken or left, over_release never raises the count past the bound. Event: set()
// wakes every waiter; the set(); clear() pulse wakes a waiter registered before it. Latch:
// reaching zero wakes every waiter. Process-shared flavours run the same code with the other
// Scope (the fences differ only under the OS policy). Condition (a sequence counter under the
// user's lock, sync/condition.hpp) with a lock of DAtomics: every waiter woken, one notify(1) at a
// time or notify_all; a notify without the lock refused; an unnotified finite wait times out.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "dsched.hpp"
#include "dsched_suite.hpp"
#include "staticrt/sync/condition.hpp"
#include "staticrt/sync/event.hpp"
#include "staticrt/sync/latch.hpp"
#include "staticrt/sync/semaphore.hpp"

namespace {

using dsched::Case;
using dsched::DAtomic;
using dsched::DSchedPolicy;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::WaitScope;

template <WaitScope Scope>
using Sem = staticrt::detail::SemaphoreCore<Scope, false, DSchedPolicy>;
template <WaitScope Scope>
using BoundedSem = staticrt::detail::SemaphoreCore<Scope, true, DSchedPolicy>;
template <WaitScope Scope>
using Ev = staticrt::BasicEvent<Scope, DSchedPolicy>;
template <WaitScope Scope>
using Lt = staticrt::BasicLatch<Scope, DSchedPolicy>;

constexpr WaitScope kPrivate = WaitScope::process_private;
constexpr WaitScope kShared = WaitScope::process_shared;

/// Spins (yield: a scheduling point) until `pred` holds: "the waiter is registered".
template <class Pred>
void until(Pred pred) {
    while (!pred()) DSchedPolicy::yield();
}

/// A primitive under test and the number of waiter threads that returned from it.
template <class Prim>
struct Woken {
    Prim prim;
    DAtomic<int> woke{0};
};

/// Adds `n` threads that each run wait(prim) (a blocking call with no deadline) and then count
/// themselves in s->woke.
template <class Prim, class Wait>
void add_waiters(Case& c, const std::shared_ptr<Woken<Prim>>& s, int n, Wait wait) {
    for (int i = 0; i < n; ++i) {
        c.bodies.push_back([s, wait] {
            wait(s->prim);
            (void)s->woke.fetch_add(1);
        });
    }
}

/// "" when all `n` waiters returned, else how many did.
template <class Prim>
std::string all_woke(const Woken<Prim>& s, int n) {
    return s.woke.peek() == n ? std::string() : "woke " + std::to_string(s.woke.peek());
}

/// One thread waits with a finite deadline (wait(prim, deadline) -> Result<void>), another pokes
/// the primitive once: the wait ends with success or Errc::timeout, and agrees(prim, success)
/// holds afterwards (the state says which it was).
template <class Prim, class Wait, class Poke, class Agrees>
Case deadline_case(Wait wait, Poke poke, Agrees agrees) {
    struct S {
        Prim prim;
        DAtomic<int> ok{-1};
    };
    auto s = std::make_shared<S>();
    Case c;
    c.bodies.push_back([s, wait] {
        const auto r = wait(s->prim, Deadline::after(std::chrono::seconds(1)));
        dsched::check(r.has_value() || r.code() == Errc::timeout, "a finite wait: neither success nor timeout");
        s->ok.store(r.has_value() ? 1 : 0);
    });
    c.bodies.push_back([s, poke] { poke(s->prim); });
    c.check = [s, agrees] {
        const int ok = s->ok.peek();
        if (ok < 0) return std::string("the waiter did not return");
        return agrees(s->prim, ok == 1) ? std::string() : std::string("the state disagrees with the wait's result");
    };
    return c;
}

// ------------------------------------------------------------------ semaphore
/// `units` units, `threads` threads, each acquires (no deadline) and releases `rounds` times.
/// Never more holders than units; every unit back at the end.
template <WaitScope Scope>
Case semaphore_units(std::uint32_t units, int threads, int rounds) {
    struct S {
        explicit S(std::uint32_t n) { (void)sem.init(n); }
        Sem<Scope> sem;
        DAtomic<int> holders{0};
        DAtomic<int> done{0};
    };
    auto s = std::make_shared<S>(units);
    Case c;
    for (int t = 0; t < threads; ++t) {
        c.bodies.push_back([s, units, rounds] {
            for (int i = 0; i < rounds; ++i) {
                if (!s->sem.acquire(Deadline::never())) {
                    dsched::fail("acquire(never) failed");
                    return;
                }
                dsched::check(s->holders.fetch_add(1) < static_cast<int>(units), "more holders than units");
                (void)s->holders.fetch_sub(1);
                dsched::check(s->sem.release().has_value(), "release failed");
                (void)s->done.fetch_add(1);
            }
        });
    }
    c.check = [s, units, threads, rounds] {
        if (s->done.peek() != threads * rounds) return std::string("rounds lost");
        if (s->sem.value() != units) return "count " + std::to_string(s->sem.value()) + " at the end";
        return std::string();
    };
    return c;
}

/// Count 0: `acquirers` threads block in acquire(never); one thread releases `acquirers` units,
/// one by one (notify_one) or as release(n) (notify_all). Every acquirer returns, count 0.
template <WaitScope Scope>
Case semaphore_release_wakes(int acquirers, bool batch) {
    auto s = std::make_shared<Woken<Sem<Scope>>>();
    Case c;
    add_waiters(c, s, acquirers, [](Sem<Scope>& sem) {
        dsched::check(sem.acquire(Deadline::never()).has_value(), "acquire(never) failed");
    });
    c.bodies.push_back([s, acquirers, batch] {
        if (batch) {
            dsched::check(s->prim.release(static_cast<std::uint32_t>(acquirers)).has_value(), "release(n) failed");
        } else {
            for (int i = 0; i < acquirers; ++i) dsched::check(s->prim.release().has_value(), "release failed");
        }
    });
    c.check = [s, acquirers] {
        if (s->prim.value() != 0) return std::string("units left over");
        return all_woke(*s, acquirers);
    };
    return c;
}

/// One acquirer with a finite deadline against one release: it ends with the unit (ok) or
/// without it (timeout), and the count says which.
template <WaitScope Scope>
Case semaphore_deadline() {
    return deadline_case<Sem<Scope>>([](Sem<Scope>& sem, Deadline d) { return sem.acquire(d); },
                                     [](Sem<Scope>& sem) { (void)sem.release(); },
                                     [](const Sem<Scope>& sem, bool took) { return sem.value() == (took ? 0u : 1u); });
}

/// BoundedSemaphore{2}: two threads acquire then release, a third releases once (one too many).
/// The count never exceeds the bound; each over_release changes nothing; the books balance.
template <WaitScope Scope>
Case bounded_over_release() {
    struct S {
        BoundedSem<Scope> sem{staticrt::SyncCount(2)};
        DAtomic<int> released{0};
        DAtomic<int> refused{0};
    };
    auto s = std::make_shared<S>();
    Case c;
    auto release_once = [](S& st) {
        const auto r = st.sem.release();
        if (r.has_value()) {
            (void)st.released.fetch_add(1);
        } else {
            dsched::check(r.code() == Errc::over_release, "release failed with other than over_release");
            (void)st.refused.fetch_add(1);
        }
        dsched::check(st.sem.value() <= 2, "count above the bound");
    };
    for (int t = 0; t < 2; ++t) {
        c.bodies.push_back([s, release_once] {
            dsched::check(s->sem.acquire(Deadline::never()).has_value(), "acquire(never) failed");
            release_once(*s);
        });
    }
    c.bodies.push_back([s, release_once] { release_once(*s); });
    c.check = [s] {
        const int rel = s->released.peek();
        if (rel + s->refused.peek() != 3) return std::string("a release did not return");
        if (s->refused.peek() < 1) return std::string("the extra release was not refused");
        if (s->sem.value() != static_cast<std::uint32_t>(rel)) {  // 2 - 2 acquired + rel
            return "count " + std::to_string(s->sem.value()) + " after " + std::to_string(rel) + " releases";
        }
        return std::string();
    };
    return c;
}

// ------------------------------------------------------------------ event
/// `waiters` threads wait (no deadline); one thread sets the event. Every waiter returns
/// success. `pulse`: the setter waits until all of them are registered, then calls set();
/// clear() — they must still return success although the flag is down again.
template <WaitScope Scope>
Case event_set_wakes_all(int waiters, bool pulse) {
    auto s = std::make_shared<Woken<Ev<Scope>>>();
    Case c;
    add_waiters(c, s, waiters, [pulse](Ev<Scope>& ev) {
        dsched::check(ev.wait(Deadline::never()).has_value(), "wait(never) failed");
        if (!pulse) dsched::check(ev.is_set(), "woke with the flag down (nobody clears here)");
    });
    c.bodies.push_back([s, waiters, pulse] {
        if (pulse) until([&] { return s->prim.sleepers() == static_cast<std::uint32_t>(waiters); });
        s->prim.set();
        if (pulse) s->prim.clear();
    });
    c.check = [s, waiters, pulse] {
        if (s->prim.sleepers() != 0) return std::string("a waiter is still registered");
        if (pulse && s->prim.is_set()) return std::string("the flag is up after clear()");
        return all_woke(*s, waiters);
    };
    return c;
}

/// One waiter with a finite deadline against set(): success only with the flag up (nobody
/// clears here), else timeout.
template <WaitScope Scope>
Case event_deadline() {
    return deadline_case<Ev<Scope>>(
        [](Ev<Scope>& ev, Deadline d) {
            const auto r = ev.wait(d);
            if (r) dsched::check(ev.is_set(), "success with the flag down");
            return r;
        },
        [](Ev<Scope>& ev) { ev.set(); }, [](const Ev<Scope>& ev, bool) { return ev.is_set(); });
}

// ------------------------------------------------------------------ latch
/// Count `count`, counted down by `count` threads (one each; `split`: the first counts down 2
/// at once and one thread less runs), `waiters` threads wait (no deadline). Every waiter
/// returns once the count is zero, and not before.
template <WaitScope Scope>
Case latch_zero_wakes_all(std::uint32_t count, int waiters, bool split) {
    auto s = std::make_shared<Woken<Lt<Scope>>>();
    (void)s->prim.init(count);
    Case c;
    add_waiters(c, s, waiters, [](Lt<Scope>& latch) {
        dsched::check(latch.wait(Deadline::never()).has_value(), "wait(never) failed");
        dsched::check(latch.count() == 0, "woke before the count reached zero");
    });
    std::uint32_t left = count;
    bool first = true;
    while (left > 0) {
        const std::uint32_t n = split && first && left >= 2 ? 2u : 1u;
        first = false;
        left -= n;
        c.bodies.push_back([s, n] { dsched::check(s->prim.count_down(n).has_value(), "count_down failed"); });
    }
    c.check = [s, waiters] {
        if (s->prim.count() != 0) return std::string("count not zero");
        if (s->prim.sleepers() != 0) return std::string("a waiter is still registered");
        return all_woke(*s, waiters);
    };
    return c;
}

/// Counting down more than remains is invalid_argument and changes nothing, under a race with
/// a valid count-down and a waiter.
template <WaitScope Scope>
Case latch_too_far() {
    struct S {
        Lt<Scope> latch{staticrt::SyncCount(2)};
        DAtomic<int> refused{0};
    };
    auto s = std::make_shared<S>();
    Case c;
    c.bodies.push_back([s] { dsched::check(s->latch.wait(Deadline::never()).has_value(), "wait(never) failed"); });
    c.bodies.push_back([s] { dsched::check(s->latch.count_down(2).has_value(), "count_down(2) failed"); });
    c.bodies.push_back([s] {
        const auto r = s->latch.count_down(3);
        dsched::check(!r && r.code() == Errc::invalid_argument,
                      "count_down(3) of 2 did not fail with invalid_argument");
        (void)s->refused.fetch_add(1);
    });
    c.check = [s] {
        if (s->refused.peek() != 1) return std::string("the refused count-down did not return");
        if (s->latch.count() != 0) return std::string("count not zero");
        return std::string();
    };
    return c;
}

// ------------------------------------------------------------------ condition
/// A lock for Condition under the scheduler: a DAtomic owner word, taken with a CAS and a yield
/// between tries (every try a scheduling point), with the interface Condition asks of a lock.
class DLock {
public:
    void lock() {
        int expected = -1;
        while (!m_owner.compare_exchange_weak(expected, dsched::self())) {
            expected = -1;
            DSchedPolicy::yield();
        }
    }
    void unlock() { m_owner.store(-1); }
    [[nodiscard]] bool held_by_current_thread() const { return m_owner.load() == dsched::self(); }

private:
    DAtomic<int> m_owner{-1};
};

template <WaitScope Scope>
using Cond = staticrt::BasicCondition<Scope, DSchedPolicy>;

/// `waiters` threads wait (no deadline) for their own ticket under the lock; one thread hands
/// out the tickets, one at a time with notify(1) (or all at once with notify_all), each under
/// the lock. A notify that wakes nobody who registered before it strands a waiter: deadlock.
template <WaitScope Scope>
Case condition_hand_out(int waiters, bool all_at_once) {
    struct S {
        DLock lock;
        Cond<Scope> cond;
        int tickets = 0;  // under the lock
        DAtomic<int> woke{0};
    };
    auto s = std::make_shared<S>();
    Case c;
    for (int i = 0; i < waiters; ++i) {
        c.bodies.push_back([s] {
            s->lock.lock();
            const auto r = s->cond.wait(s->lock, Deadline::never(), [&] { return s->tickets > 0; });
            dsched::check(r.has_value(), "a wait without a deadline failed");
            dsched::check(s->lock.held_by_current_thread(), "wait() returned without the lock");
            --s->tickets;
            s->lock.unlock();
            (void)s->woke.fetch_add(1);
        });
    }
    c.bodies.push_back([s, waiters, all_at_once] {
        if (all_at_once) {
            s->lock.lock();
            s->tickets = waiters;
            dsched::check(s->cond.notify_all(s->lock).has_value(), "notify_all under the lock failed");
            s->lock.unlock();
            return;
        }
        for (int i = 0; i < waiters; ++i) {
            s->lock.lock();
            ++s->tickets;
            dsched::check(s->cond.notify(s->lock, 1).has_value(), "notify under the lock failed");
            s->lock.unlock();
        }
    });
    c.check = [s, waiters] {
        return s->woke.peek() == waiters ? std::string() : "woke " + std::to_string(s->woke.peek());
    };
    return c;
}

/// A notify without the lock is refused (Errc::not_owner) and changes nothing; a predicate wait
/// with a finite deadline and no notify ends with Errc::timeout, holding the lock again.
template <WaitScope Scope>
Case condition_refusals() {
    struct S {
        DLock lock;
        Cond<Scope> cond;
        DAtomic<int> done{0};
    };
    auto s = std::make_shared<S>();
    Case c;
    c.bodies.push_back([s] {
        s->lock.lock();
        // The predicate form: the plain wait() may return spuriously (documented).
        const auto r = s->cond.wait(s->lock, Deadline::after(std::chrono::seconds(1)), [] { return false; });
        dsched::check(!r && r.code() == Errc::timeout, "a wait nobody notifies did not time out");
        dsched::check(s->lock.held_by_current_thread(), "a timed-out wait returned without the lock");
        s->lock.unlock();
        (void)s->done.fetch_add(1);
    });
    c.bodies.push_back([s] {
        const auto r = s->cond.notify_one(s->lock);  // not holding the lock
        dsched::check(!r && r.code() == Errc::not_owner, "a notify without the lock was not refused");
        (void)s->done.fetch_add(1);
    });
    c.check = [s] { return s->done.peek() == 2 ? std::string() : std::string("a thread did not finish"); };
    return c;
}

// ------------------------------------------------------------------ the cases
TEST(DschedSemaphore, TwoUnits_ThreeThreads_NoUnitLostOrDuplicated) {
    dsched_suite::expect_all_pass("semaphore.units", 300, [] { return semaphore_units<kPrivate>(2, 3, 2); });
}

TEST(DschedSemaphore, BlockedAcquires_WokenByReleaseOneByOne) {
    dsched_suite::expect_all_pass("semaphore.release_wakes", 300,
                                  [] { return semaphore_release_wakes<kPrivate>(2, false); });
}

TEST(DschedSemaphore, BlockedAcquires_WokenByReleaseN) {
    dsched_suite::expect_all_pass("semaphore.release_n_wakes", 300,
                                  [] { return semaphore_release_wakes<kPrivate>(3, true); });
}

TEST(DschedSemaphore, ProcessShared_BlockedAcquires_WokenByRelease) {
    dsched_suite::expect_all_pass("process_semaphore.release_wakes", 200,
                                  [] { return semaphore_release_wakes<kShared>(2, false); });
}

TEST(DschedSemaphore, FiniteDeadline_EndsWithTheUnitOrWithout) {
    dsched_suite::expect_all_pass("semaphore.deadline", 300, [] { return semaphore_deadline<kPrivate>(); });
}

TEST(DschedSemaphore, Bounded_OverRelease_RefusedAndCountNeverAboveBound) {
    dsched_suite::expect_all_pass("bounded_semaphore.over_release", 300,
                                  [] { return bounded_over_release<kPrivate>(); });
}

TEST(DschedEvent, Set_WakesEveryWaiter) {
    dsched_suite::expect_all_pass("event.set_wakes_all", 300, [] { return event_set_wakes_all<kPrivate>(3, false); });
}

TEST(DschedEvent, ProcessShared_Set_WakesEveryWaiter) {
    dsched_suite::expect_all_pass("process_event.set_wakes_all", 200,
                                  [] { return event_set_wakes_all<kShared>(2, false); });
}

TEST(DschedEvent, SetClearPulse_WakesRegisteredWaiters) {
    dsched_suite::expect_all_pass("event.pulse", 300, [] { return event_set_wakes_all<kPrivate>(2, true); });
}

TEST(DschedEvent, FiniteDeadline_EndsWithSuccessOrTimeout) {
    dsched_suite::expect_all_pass("event.deadline", 300, [] { return event_deadline<kPrivate>(); });
}

TEST(DschedLatch, CountDownToZero_WakesEveryWaiter) {
    dsched_suite::expect_all_pass("latch.zero_wakes_all", 300,
                                  [] { return latch_zero_wakes_all<kPrivate>(3, 2, false); });
}

TEST(DschedLatch, CountDownByTwoThenOne_WakesEveryWaiter) {
    dsched_suite::expect_all_pass("latch.split_wakes_all", 200,
                                  [] { return latch_zero_wakes_all<kPrivate>(3, 2, true); });
}

TEST(DschedLatch, ProcessShared_CountDownToZero_WakesEveryWaiter) {
    dsched_suite::expect_all_pass("process_latch.zero_wakes_all", 200,
                                  [] { return latch_zero_wakes_all<kShared>(2, 2, false); });
}

TEST(DschedCondition, NotifyOneAtATime_WakesEveryWaiter) {
    dsched_suite::expect_all_pass("condition.notify_one_each", 300, [] { return condition_hand_out<kPrivate>(2, false); });
}

TEST(DschedCondition, NotifyAll_WakesEveryWaiter) {
    dsched_suite::expect_all_pass("condition.notify_all", 300, [] { return condition_hand_out<kPrivate>(3, true); });
}

TEST(DschedCondition, ProcessShared_NotifyOneAtATime_WakesEveryWaiter) {
    dsched_suite::expect_all_pass("process_condition.notify_one_each", 200,
                                  [] { return condition_hand_out<kShared>(2, false); });
}

TEST(DschedCondition, NotifyWithoutLock_Refused_UnnotifiedWait_TimesOut) {
    dsched_suite::expect_all_pass("condition.refusals", 200, [] { return condition_refusals<kPrivate>(); });
}

TEST(DschedLatch, CountDownPastZero_InvalidArgumentChangesNothing) {
    dsched_suite::expect_all_pass("latch.too_far", 200, [] { return latch_too_far<kPrivate>(); });
}

}  // namespace
