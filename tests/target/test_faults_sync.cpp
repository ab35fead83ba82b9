// SPDX-License-Identifier: MIT
// Issue 11, case 5 and 6 (portable): Event keeps a pulse (a waiter asleep across set(); clear();
// returns success, like Python); Deadline saturates at the extremes of any clock; a deadline that
// is already past gives Errc::timeout in every blocking primitive (ProcessMutex used to give
// os_error 22). Plus: queues and LogRing in process-private memory scribbled by a writer that
// does not use the API end in an error value or normal operation (case 2, the part every target
// can run; the cross-process scribble fuzz is in tests/stress/test_shm_scribble.cpp).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <new>
#include <thread>

#include "staticrt/ipc/process_mutex.hpp"
#include "staticrt/queue/mpmc_queue.hpp"
#include "staticrt/queue/scq_queue.hpp"
#include "staticrt/queue/spsc_queue.hpp"
#include "staticrt/sync.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::Instant;

TEST_CASE("Faults: Event keeps a pulse: a sleeping waiter returns success across set(); clear();") {
    staticrt::Event ev;
    std::atomic<int> result{-1};
    std::thread waiter([&] {
        auto r = ev.wait(Deadline::after(30s));
        result.store(r ? 1 : static_cast<int>(r.code()) + 100);
    });
    while (ev.waiting() == 0) std::this_thread::yield();  // the waiter registered to sleep
    ev.set();
    ev.clear();
    waiter.join();
    CHECK(result.load() == 1);  // before: timeout after 30 s (Python returns True)
    CHECK_FALSE(ev.is_set());
    CHECK(ev.wait(Deadline::poll()).code() == Errc::timeout);
    ev.set();
    CHECK(ev.is_set());
    ev.set();  // idempotent
    CHECK(ev.wait(Deadline::poll()));
    ev.clear();
    CHECK_FALSE(ev.is_set());
}

TEST_CASE("Faults: ProcessEvent pulse with many sleepers: every one returns") {
    staticrt::ProcessEvent ev;
    std::atomic<int> oks{0};
    std::thread t[3];
    for (auto& th : t) th = std::thread([&] { oks.fetch_add(ev.wait(Deadline::after(30s)) ? 1 : 0); });
    while (ev.waiting() < 3) std::this_thread::yield();
    ev.set();
    ev.clear();
    for (auto& th : t) th.join();
    CHECK(oks.load() == 3);
}

TEST_CASE("Faults: Deadline::at saturates at the ends of any clock") {
    using SC = std::chrono::steady_clock;
    using Sys = std::chrono::system_clock;
    CHECK(Deadline::at(SC::time_point::min()).is_poll());   // before: overflowed into never()
    CHECK(Deadline::at(SC::time_point::max()).is_never());
    CHECK(Deadline::at(Sys::time_point::min()).is_poll());
    CHECK(Deadline::at(Sys::time_point::max()).is_never());
    using Secs = std::chrono::time_point<SC, std::chrono::seconds>;
    CHECK(Deadline::at(Secs::min()).is_poll());
    CHECK(Deadline::at(Secs::max()).is_never());
    CHECK(Deadline::at(SC::now() - 1h).expired());
    const Deadline soon = Deadline::at(SC::now() + 1h);
    CHECK_FALSE(soon.is_never());
    CHECK_FALSE(soon.expired());
}

namespace {
// Deadlines that are all in the past, in every form a caller can make one.
template <class Fn>
void for_each_past_deadline(Fn fn) {
    fn(Deadline::poll(), "poll");
    fn(Deadline::at(Instant(-5)), "Instant(-5)");
    fn(Deadline::at(Instant(1)), "Instant(1)");
    fn(Deadline::at(std::chrono::steady_clock::time_point::min()), "steady min");
    fn(Deadline::at(std::chrono::steady_clock::now() - 1s), "now - 1s");
    fn(Deadline::after(-5ms), "after(-5ms)");
}
}  // namespace

TEST_CASE("Faults: a past deadline gives Errc::timeout in every primitive") {
    staticrt::ipc::ProcessMutex pm;
    staticrt::Mutex m;
    std::atomic<int> stage{0};
    std::thread holder([&] {  // holds both locks until told
        REQUIRE(pm.lock(Deadline::never()));
        m.lock();
        stage.store(1);
        while (stage.load() != 2) std::this_thread::yield();
        m.unlock();
        pm.unlock();
    });
    while (stage.load() != 1) std::this_thread::yield();
    staticrt::Semaphore sem;
    staticrt::Event ev;
    staticrt::ProcessEvent pev;
    staticrt::MpmcQueue<int, 2> mq;
    staticrt::SpscQueue<int, 2> sq;
    staticrt::MpmcQueue<int, 2, staticrt::WaitScope::process_shared> smq;
    staticrt::Mutex cm;
    staticrt::Condition cv;
    staticrt::Latch latch{1};
    for_each_past_deadline([&](Deadline d, const char* what) {
        CAPTURE(what);
        CHECK(pm.lock(d).code() == Errc::timeout);  // before: os_error (EINVAL) for Instant(-5)
        CHECK(m.lock(d).code() == Errc::timeout);
        CHECK(sem.acquire(d).code() == Errc::timeout);
        CHECK(ev.wait(d).code() == Errc::timeout);
        CHECK(pev.wait(d).code() == Errc::timeout);
        CHECK(mq.pop(d).code() == Errc::timeout);
        CHECK(sq.pop(d).code() == Errc::timeout);
        CHECK(smq.pop(d).code() == Errc::timeout);
        CHECK(latch.wait(d).code() == Errc::timeout);
        std::unique_lock lk(cm);
        CHECK(cv.wait(lk, d).code() == Errc::timeout);
    });
    stage.store(2);
    holder.join();
}

namespace {
// Random bytes, from a fixed-seed xorshift (reproducible), over an object's whole representation.
template <class T>
void scribble(T& obj, std::uint64_t& state) {
    auto* p = reinterpret_cast<unsigned char*>(&obj);
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        p[i] = static_cast<unsigned char>(state);
    }
}
using SharedMpmc8 = staticrt::MpmcQueue<std::uint32_t, 8, staticrt::WaitScope::process_shared>;
using SharedScq8 = staticrt::ScqQueue<std::uint32_t, 8, staticrt::WaitScope::process_shared>;
using SharedCompactScq8 = staticrt::CompactScqQueue<std::uint32_t, 8, staticrt::WaitScope::process_shared>;
}  // namespace

TEST_CASE_TEMPLATE("Faults: a scribbled queue ends every call with a value or an error, by its deadline", Q,
                   staticrt::MpmcQueue<std::uint32_t, 8>, staticrt::SpscQueue<std::uint32_t, 8>,
                   SharedMpmc8, SharedScq8, SharedCompactScq8) {
    std::uint64_t state = 0x9E3779B97F4A7C15ull;
    for (int round = 0; round < 200; ++round) {
        alignas(Q) unsigned char storage[sizeof(Q)];
        Q* q = ::new (storage) Q;  // trivially destructible here: no destructor needed
        scribble(*q, state);
        std::uint32_t v = 0;
        for (int i = 0; i < 20; ++i) {
            (void)q->try_push(static_cast<std::uint32_t>(i));
            (void)q->try_pop(v);
        }
        auto p = q->pop(Deadline::after(1ms));
        CHECK((p || p.code() == Errc::timeout || p.code() == Errc::closed || p.code() == Errc::corrupted));
        auto r = q->push(1u, Deadline::after(1ms));
        CHECK((r || r.code() == Errc::timeout || r.code() == Errc::closed || r.code() == Errc::corrupted));
        (void)q->size_approx();
        q->close();
        for (int i = 0; i < 2 * 8 + 2; ++i) {
            auto e = q->pop(Deadline::after(1ms));
            if (!e) {
                CHECK((e.code() == Errc::timeout || e.code() == Errc::closed || e.code() == Errc::corrupted));
                break;
            }
        }
    }
}
