// SPDX-License-Identifier: MIT
// tests/relacy/relacy_tests.cpp — the waiting layer, the queues, the result slots and the sync
// primitives under Relacy's model of the C++ memory model (tests/relacy/relacy_policy.hpp says what is modelled). Each case is a
// Relacy test suite run for a fixed number of random schedules; a failure prints Relacy's
// report (the kind: DEADLOCK, DATA RACE, ..., with the execution history) and a gtest-style
// "[  FAILED  ] Relacy.<case>" line (tests/mutants/run_mutants.py reads those).
//
//   staticrt_relacy_tests                          # every case
//   staticrt_relacy_tests --gtest_filter=Relacy.Spsc*   # cases whose name matches ('*' = any)
//   staticrt_relacy_tests --expect=deadlock Relacy.EventCountHandOff
//       # a re-introduced bug (tests/relacy/CMakeLists.txt): passes only when Relacy finds a
//       # failure of that kind (deadlock, data_race, assert, livelock) in that case
// STATICRT_RELACY_SCALE (env, default 1) multiplies the schedules per case.
#include "relacy_policy.hpp"  // first: see its header comment

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

using relacy_policy::Item;
using relacy_policy::RAtomic;
using relacy_policy::RelacyPolicy;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::detail::Attempt;

/// Stores `value` into every plain variable of `vars` (a case's before()).
template <std::size_t K>
void set_all(rl::var<int> (&vars)[K], int value) {
    for (auto& v : vars) v(RL_INFO) = value;
}

/// EventCount's Dekker pair: a waiter that parks at once (no spin) against a notifier that
/// publishes a flag and calls notify_one(). A lost wake-up leaves the waiter asleep for good:
/// Relacy reports a deadlock. The flag carries a plain variable: its acquire/release pair is
/// the caller's, checked too.
struct EventCountHandOff : rl::test_suite<EventCountHandOff, 2> {
    staticrt::detail::EventCount<RelacyPolicy> ec;
    RAtomic<int> flag{0};
    rl::var<int> data;
    void before() { data(RL_INFO) = 0; }
    void thread(unsigned index) {
        if (index == 0) {
            data(RL_INFO) = 42;
            flag.store(1, std::memory_order_release);
            ec.notify_one();
        } else {
            const auto r = ec.wait_for(
                [&]() noexcept { return flag.load(std::memory_order_acquire) != 0 ? Attempt::done : Attempt::would_block; },
                Deadline::never(), staticrt::detail::kNoSpin);
            RL_ASSERT(static_cast<bool>(r));
            RL_ASSERT(data(RL_INFO) == 42);
        }
    }
};

/// Two waiters, each for a token of its own, and one notifier that hands out both with
/// notify_all() after the second: neither waiter may sleep through it.
struct EventCountTwoWaiters : rl::test_suite<EventCountTwoWaiters, 3> {
    staticrt::detail::EventCount<RelacyPolicy> ec;
    RAtomic<int> tokens{0};
    void thread(unsigned index) {
        if (index == 0) {
            (void)tokens.fetch_add(1, std::memory_order_release);
            ec.notify_one();
            (void)tokens.fetch_add(1, std::memory_order_release);
            ec.notify_all();
        } else {
            const auto r = ec.wait_for(
                [&]() noexcept {
                    int t = tokens.load(std::memory_order_acquire);
                    while (t > 0) {
                        if (tokens.compare_exchange_weak(t, t - 1, std::memory_order_acq_rel, std::memory_order_acquire))
                            return Attempt::done;
                    }
                    return Attempt::would_block;
                },
                Deadline::never(), staticrt::detail::kNoSpin);
            RL_ASSERT(static_cast<bool>(r));
        }
    }
};

constexpr int kItems = 4;

/// SpscQueue's ring of two cells (so the producer waits for room and the ring wraps twice): the
/// producer pushes kItems and closes, the consumer pops until closed. Every item once, in order,
/// its payload (a plain variable) written before the cell was published; nobody sleeps for good.
struct SpscTransfer : rl::test_suite<SpscTransfer, 2> {
    staticrt::detail::SpscRing<Item, 2, RelacyPolicy> q;
    void thread(unsigned index) {
        if (index == 0) {
            for (int k = 0; k < kItems; ++k) RL_ASSERT(static_cast<bool>(q.push(Item(k))));
            q.close();
        } else {
            int n = 0;
            for (;;) {
                Item out;
                const auto r = q.pop(out);
                if (!r) {
                    RL_ASSERT(r.code() == Errc::closed);
                    break;
                }
                RL_ASSERT(out.get() == n);
                ++n;
            }
            RL_ASSERT(n == kItems);
        }
    }
};

/// An element whose bytes are modelled by a plain variable per queue cell (`cells[key % 2]`, the
/// ring of two cells; every position's key is its own, so key % 2 is its cell): moving it into a
/// cell (the producer, after it found the cell free) writes that variable, moving it out (the
/// consumer, before it frees the cell) reads it. A free that does not order the consumer's read
/// before the producer's next write into the cell is a data race. (A payload inside the element
/// cannot show it: each construction makes a fresh rl::var, which Relacy treats as new memory.)
struct CellItem {
    int key = -1;
    rl::var<int>* cells = nullptr;
    CellItem() = default;
    CellItem(int k, rl::var<int>* c) : key(k), cells(c) {}
    CellItem(CellItem&& o) noexcept : key(o.key), cells(o.cells) { cells[key % 2](RL_INFO) = key; }  // into the cell
    CellItem& operator=(CellItem&& o) noexcept {  // out of the cell
        key = o.key;
        cells = o.cells;
        RL_ASSERT(cells[key % 2](RL_INFO) == key);
        return *this;
    }
    CellItem(const CellItem&) = delete;
    CellItem& operator=(const CellItem&) = delete;
    ~CellItem() = default;
};

/// A ring of two cells, one producer and one consumer, kItems items: each cell is reused, so
/// the consumer's move-out of a cell must happen-before the producer's next move-in (the free
/// orders: [spsc.free], [mpmc.free], [tq.free] and their loads). Items arrive in order.
template <class Q>
struct CellReuse : rl::test_suite<CellReuse<Q>, 2> {
    Q q;
    rl::var<int> cells[2];
    void before() { set_all(cells, -1); }
    void thread(unsigned index) {
        if (index == 0) {
            for (int k = 0; k < kItems; ++k) RL_ASSERT(static_cast<bool>(q.push(CellItem(k, cells))));
        } else {
            for (int k = 0; k < kItems; ++k) {
                CellItem out;
                RL_ASSERT(static_cast<bool>(q.pop(out)));
                RL_ASSERT(out.key == k);
            }
        }
    }
};

/// A ring of two cells, two producers of two items each, one consumer: every item once, each
/// producer's items in its order, payloads (plain variables) published with their cells.
template <class Q>
struct TwoProducers : rl::test_suite<TwoProducers<Q>, 3> {
    Q q;
    void thread(unsigned index) {
        if (index < 2) {
            for (int k = 0; k < 2; ++k) RL_ASSERT(static_cast<bool>(q.push(Item(static_cast<int>(index) * 10 + k))));
        } else {
            int next[2] = {0, 0};
            for (int n = 0; n < 4; ++n) {
                Item out;
                RL_ASSERT(static_cast<bool>(q.pop(out)));
                const int v = out.get();
                const int p = v / 10;
                RL_ASSERT(p == 0 || p == 1);
                RL_ASSERT(v % 10 == next[p]);
                ++next[p];
            }
        }
    }
};

template <class T>
using Spsc2 = staticrt::detail::SpscRing<T, 2, RelacyPolicy>;
template <class T>
using Mpmc2 = staticrt::detail::MpmcRing<T, 2, RelacyPolicy>;
/// TicketQueue's ring with CasTries 0: every call without a deadline takes a fetch_add ticket and
/// waits on its own cell (the 16-core path).
template <class T>
using Ticket2 = staticrt::detail::TicketRing<T, 2, RelacyPolicy, staticrt::WaitScope::process_private, 0>;
/// ScqQueue's ring (fetch_add claims that cannot fail).
template <class T>
using Scq2 = staticrt::detail::ScqRing<T, 2, RelacyPolicy>;

/// JoinableQueue: a producer puts two items and joins; a consumer takes each, writes its result
/// (a plain variable) and calls task_done(). join() returns only after both, and the producer then
/// sees both results (Python's queue.join(): the consumers' writes happen-before join's return).
struct JoinableJoin : rl::test_suite<JoinableJoin, 2> {
    staticrt::detail::JoinableRing<int, 2, RelacyPolicy> q;
    rl::var<int> results[2];
    void before() { set_all(results, 0); }
    void thread(unsigned index) {
        if (index == 0) {
            RL_ASSERT(static_cast<bool>(q.push(0)));
            RL_ASSERT(static_cast<bool>(q.push(1)));
            RL_ASSERT(static_cast<bool>(q.join()));
            RL_ASSERT(results[0](RL_INFO) == 10 && results[1](RL_INFO) == 11);
        } else {
            for (int n = 0; n < 2; ++n) {
                int v = -1;
                RL_ASSERT(static_cast<bool>(q.pop(v)));
                RL_ASSERT(v == n);
                results[v](RL_INFO) = 10 + v;
                RL_ASSERT(static_cast<bool>(q.task_done()));
            }
        }
    }
};

/// A SlotPool over one slot of its own, the home slot of queue cell 0 (a ThreadPool's binding
/// with ResultSlotCount == QueueCapacity == 1).
struct HomeSlotPool : staticrt::detail::SlotPool<RelacyPolicy> {
    Slot slots[1];
    HomeSlotPool() {
        bind_slots(slots, 1, [this](std::uint32_t i) noexcept { slots[i].owner = this; }, 1);
    }
};

/// The home result slot handed from one lap of its queue cell to the next: the future's holder
/// reads the result (a plain variable: the slot's bytes) and frees the slot ([slot.home.free]);
/// the cell's next owner waits for a free slot (wait_any_free: the waiting layer), takes the
/// home slot ([slot.home.take]) and writes the next result. A free that does not order the read
/// before the next write is a data race; a free that wakes nobody, a deadlock.
struct SlotPoolHomeHandOver : rl::test_suite<SlotPoolHomeHandOver, 2> {
    HomeSlotPool pool;
    rl::var<int> result;
    HomeSlotPool::Slot* held = nullptr;
    void before() {
        held = pool.take_for_cell(0);  // the previous lap: submitted, its result stored
        RL_ASSERT(held == &pool.slots[0]);
        result(RL_INFO) = 1;
    }
    void thread(unsigned index) {
        if (index == 0) {  // Future::get() of the previous lap, then the slot goes home
            RL_ASSERT(result(RL_INFO) == 1);
            pool.release(held);
        } else {  // the submitter that claimed cell 0 one lap later
            HomeSlotPool::Slot* s = nullptr;
            while ((s = pool.take_for_cell(0)) == nullptr) {
                RL_ASSERT(static_cast<bool>(pool.wait_any_free(Deadline::never())));
            }
            RL_ASSERT(s == &pool.slots[0]);
            result(RL_INFO) = 2;  // the worker's write of the new result (published to it by the queue)
        }
    }
};

using Sem = staticrt::detail::SemaphoreCore<staticrt::WaitScope::process_private, false, RelacyPolicy>;
using Ev = staticrt::BasicEvent<staticrt::WaitScope::process_private, RelacyPolicy>;
using Lt = staticrt::BasicLatch<staticrt::WaitScope::process_private, RelacyPolicy>;

/// Semaphore: two units released at once (release(2)) after two payloads were written; two
/// blocked acquirers each get one, see both payloads, and nobody sleeps through the release.
struct SemaphoreHandOff : rl::test_suite<SemaphoreHandOff, 3> {
    Sem sem;
    rl::var<int> payload[2];
    void before() { set_all(payload, 0); }
    void thread(unsigned index) {
        if (index == 0) {
            payload[0](RL_INFO) = 1;
            payload[1](RL_INFO) = 2;
            RL_ASSERT(static_cast<bool>(sem.release(2)));
        } else {
            RL_ASSERT(static_cast<bool>(sem.acquire()));
            RL_ASSERT(payload[0](RL_INFO) == 1 && payload[1](RL_INFO) == 2);
        }
    }
};

/// Event: set() after a payload wakes both waiters, which see the payload.
struct EventSetWakes : rl::test_suite<EventSetWakes, 3> {
    Ev ev;
    rl::var<int> payload;
    void before() { payload(RL_INFO) = 0; }
    void thread(unsigned index) {
        if (index == 0) {
            payload(RL_INFO) = 5;
            ev.set();
        } else {
            RL_ASSERT(static_cast<bool>(ev.wait()));
            RL_ASSERT(payload(RL_INFO) == 5);
        }
    }
};

/// Latch of 2: each of two threads writes its payload and counts down; the waiter, woken at
/// zero, sees both ([latch.count_down] / [latch.wait]).
struct LatchCountDown : rl::test_suite<LatchCountDown, 3> {
    Lt latch{staticrt::SyncCount(2)};
    rl::var<int> payload[2];
    void thread(unsigned index) {
        if (index < 2) {
            payload[index](RL_INFO) = static_cast<int>(index) + 1;
            RL_ASSERT(static_cast<bool>(latch.count_down()));
        } else {
            RL_ASSERT(static_cast<bool>(latch.wait()));
            RL_ASSERT(payload[0](RL_INFO) == 1 && payload[1](RL_INFO) == 2);
        }
    }
};

/// Condition under a lock: two waiters each wait for a ticket (a plain variable under the lock)
/// while the notifier hands them out one at a time with notify(1). Neither sleeps through its
/// ticket (the sequence word's compare-and-sleep against the bump under the lock).
struct ConditionHandOut : rl::test_suite<ConditionHandOut, 3> {
    relacy_policy::RLock lock;
    staticrt::BasicCondition<staticrt::WaitScope::process_private, RelacyPolicy> cond;
    rl::var<int> tickets;
    void before() { tickets(RL_INFO) = 0; }
    void thread(unsigned index) {
        if (index == 0) {
            for (int i = 0; i < 2; ++i) {
                lock.lock();
                tickets(RL_INFO) = tickets(RL_INFO) + 1;
                RL_ASSERT(static_cast<bool>(cond.notify(lock, 1)));
                lock.unlock();
            }
        } else {
            lock.lock();
            RL_ASSERT(static_cast<bool>(cond.wait(lock, Deadline::never(), [&] { return tickets(RL_INFO) > 0; })));
            tickets(RL_INFO) = tickets(RL_INFO) - 1;
            lock.unlock();
        }
    }
};

struct Case {
    const char* name;
    bool (*run)(rl::test_params&);
    unsigned long iterations;
};

template <class Suite>
bool simulate(rl::test_params& p) {
    return rl::simulate<Suite>(p);
}

const Case kCases[] = {
    {"Relacy.EventCountHandOff", &simulate<EventCountHandOff>, 200000},
    {"Relacy.EventCountTwoWaiters", &simulate<EventCountTwoWaiters>, 200000},
    {"Relacy.SpscTransfer", &simulate<SpscTransfer>, 50000},
    {"Relacy.SpscCellReuse", &simulate<CellReuse<Spsc2<CellItem>>>, 50000},
    {"Relacy.MpmcTransfer", &simulate<TwoProducers<Mpmc2<Item>>>, 50000},
    {"Relacy.MpmcCellReuse", &simulate<CellReuse<Mpmc2<CellItem>>>, 50000},
    {"Relacy.TicketTransfer", &simulate<TwoProducers<Ticket2<Item>>>, 50000},
    {"Relacy.TicketCellReuse", &simulate<CellReuse<Ticket2<CellItem>>>, 50000},
    {"Relacy.ScqTransfer", &simulate<TwoProducers<Scq2<Item>>>, 50000},
    {"Relacy.JoinableJoin", &simulate<JoinableJoin>, 50000},
    {"Relacy.SlotPoolHomeHandOver", &simulate<SlotPoolHomeHandOver>, 100000},
    {"Relacy.SemaphoreHandOff", &simulate<SemaphoreHandOff>, 100000},
    {"Relacy.EventSetWakes", &simulate<EventSetWakes>, 100000},
    {"Relacy.LatchCountDown", &simulate<LatchCountDown>, 100000},
    {"Relacy.ConditionHandOut", &simulate<ConditionHandOut>, 100000},
};

/// gtest-style filter: '*' matches any run of characters; several patterns separated by ':'.
bool glob(const char* pat, const char* s) {
    if (*pat == '\0') return *s == '\0';
    if (*pat == '*') return glob(pat + 1, s) || (*s != '\0' && glob(pat, s + 1));
    return *pat == *s && glob(pat + 1, s + 1);
}
bool matches(const std::string& filter, const char* name) {
    if (filter.empty()) return true;
    std::size_t from = 0;
    for (;;) {
        const std::size_t to = filter.find(':', from);
        if (glob(filter.substr(from, to - from).c_str(), name)) return true;
        if (to == std::string::npos) return false;
        from = to + 1;
    }
}

rl::test_result_e expected_result(const std::string& kind) {
    if (kind == "deadlock") return rl::test_result_deadlock;
    if (kind == "data_race") return rl::test_result_data_race;
    if (kind == "assert") return rl::test_result_user_assert_failed;
    if (kind == "livelock") return rl::test_result_livelock;
    std::fprintf(stderr, "relacy: unknown --expect kind '%s'\n", kind.c_str());
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    std::string filter;
    std::string expect;
    for (int i = 1; i < argc; ++i) {
        if (std::strncmp(argv[i], "--gtest_filter=", 15) == 0) filter = argv[i] + 15;
        else if (std::strncmp(argv[i], "--expect=", 9) == 0) expect = argv[i] + 9;
        else if (argv[i][0] != '-') filter = argv[i];
    }
    double scale = 1.0;
    if (const char* s = std::getenv("STATICRT_RELACY_SCALE")) scale = std::atof(s) > 0 ? std::atof(s) : 1.0;
    int failed = 0;
    int ran = 0;
    for (const Case& c : kCases) {
        if (!matches(filter, c.name)) continue;
        ++ran;
        rl::test_params p;
        p.iteration_count = static_cast<rl::iteration_t>(static_cast<double>(c.iterations) * scale);
        p.execution_depth_limit = 50000;  // the spin phases of the blocking calls are long
        std::printf("[ RUN      ] %s\n", c.name);
        std::fflush(stdout);
        const bool ok = c.run(p);
        if (!expect.empty()) {
            const bool found = !ok && p.test_result == expected_result(expect);
            std::printf("relacy: %s: %s (%s expected) after %llu of %llu schedules\n", c.name,
                        ok ? "passed" : rl::test_result_str(p.test_result), expect.c_str(),
                        static_cast<unsigned long long>(ok ? p.iteration_count : p.stop_iteration),
                        static_cast<unsigned long long>(p.iteration_count));
            std::printf("%s %s\n", found ? "[       OK ]" : "[  FAILED  ]", c.name);
            failed += found ? 0 : 1;
            continue;
        }
        std::printf("relacy: %s: %llu schedules %s\n", c.name, static_cast<unsigned long long>(p.iteration_count),
                    ok ? "passed" : "FAILED");
        std::printf("%s %s\n", ok ? "[       OK ]" : "[  FAILED  ]", c.name);
        failed += ok ? 0 : 1;
    }
    if (ran == 0) {
        std::fprintf(stderr, "relacy: no case matches '%s'\n", filter.c_str());
        return 2;
    }
    std::printf("relacy: %d of %d cases %s\n", ran - failed, ran, expect.empty() ? "passed" : "found the bug");
    return failed == 0 ? 0 : 1;
}
