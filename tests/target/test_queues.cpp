// SPDX-License-Identifier: MIT
// Conformance: SpscQueue, MpmcQueue, ScqQueue, TicketQueue, JoinableQueue on every target (x86-64, aarch64 and armhf
// under qemu, Windows under wine). Small counts: qemu is ~10x slower.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "staticrt/queue/joinable_queue.hpp"
#include "staticrt/queue/mpmc_queue.hpp"
#include "staticrt/queue/scq_queue.hpp"
#include "staticrt/queue/spsc_queue.hpp"
#include "staticrt/queue/ticket_queue.hpp"

#include "skip.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;

TEST_CASE_TEMPLATE("Queue: try_push/try_pop, full, empty, FIFO over laps", Q, staticrt::SpscQueue<std::uint32_t, 4>,
                   staticrt::MpmcQueue<std::uint32_t, 4>, staticrt::ScqQueue<std::uint32_t, 4>,
                   staticrt::TicketQueue<std::uint32_t, 4>) {
    Q q;
    std::uint32_t v = 0;
    CHECK_FALSE(q.try_pop(v));
    std::uint32_t in = 0, out = 0;
    for (int round = 0; round < 50; ++round) {
        while (q.try_push(in)) ++in;
        CHECK(q.size_approx() == 4);
        while (q.try_pop(v)) CHECK(v == out++);
        CHECK(q.size_approx() == 0);
    }
    CHECK(in == out);
}

TEST_CASE_TEMPLATE("Queue: deadline, close, drain", Q, staticrt::SpscQueue<int, 2>, staticrt::MpmcQueue<int, 2>,
                   staticrt::ScqQueue<int, 2>, staticrt::TicketQueue<int, 2>,
                   staticrt::SpscQueue<int, 2, staticrt::WaitScope::process_shared>,
                   staticrt::MpmcQueue<int, 2, staticrt::WaitScope::process_shared>,
                   staticrt::ScqQueue<int, 2, staticrt::WaitScope::process_shared>) {
    Q q;
    const Errc slept = q.pop(Deadline::after(5ms)).code();
    if (slept == Errc::not_supported) {
        // Windows: no cross-process wait-on-address in the platform yet. The process-shared
        // flavour's blocking calls say so instead of spinning; the non-blocking calls work.
        CHECK(Q::kScope == staticrt::WaitScope::process_shared);
        CHECK(q.try_push(1));
        int v = 0;
        CHECK(q.try_pop(v));
        CHECK(v == 1);
        STATICRT_SKIP("win-no-shared-wait",
                      "process-shared blocking calls return not_supported here (Windows): only try_push/try_pop checked");
    }
    CHECK(slept == Errc::timeout);
    CHECK(q.push(1));
    CHECK(q.push(2));
    CHECK(q.push(3, Deadline::after(1ms)).code() == Errc::timeout);
    q.close();
    CHECK(q.push(3).code() == Errc::closed);
    CHECK(*q.pop() == 1);
    CHECK(*q.pop() == 2);
    CHECK(q.pop().code() == Errc::closed);
}

TEST_CASE_TEMPLATE("Queue: move-only elements", Q, staticrt::MpmcQueue<std::unique_ptr<int>, 2>,
                   staticrt::ScqQueue<std::unique_ptr<int>, 2>, staticrt::TicketQueue<std::unique_ptr<int>, 2>) {
    Q q;
    CHECK(q.try_push(std::make_unique<int>(5)));
    auto r = q.pop();
    REQUIRE(r);
    CHECK(**r == 5);
}

TEST_CASE("SpscQueue: blocking hand-off between two threads keeps order") {
    staticrt::SpscQueue<std::uint32_t, 8> q;
    constexpr std::uint32_t kItems = 20000;
    std::thread producer([&] {
        for (std::uint32_t i = 1; i <= kItems; ++i) (void)q.push(i);
        q.close();
    });
    std::uint32_t expect = 1;
    bool in_order = true;
    while (auto r = q.pop()) in_order &= (*r == expect++);
    producer.join();
    CHECK(in_order);
    CHECK(expect == kItems + 1);
}

TEST_CASE_TEMPLATE("Queue: a producer blocked on a full queue gets in after one pop (its slip is bounded)", Q,
                   staticrt::SpscQueue<std::uint64_t, 64>, staticrt::MpmcQueue<std::uint64_t, 64>,
                   staticrt::TicketQueue<std::uint64_t, 64>, staticrt::ScqQueue<std::uint64_t, 128>,
                   staticrt::CompactScqQueue<std::uint64_t, 128>) {
    // A full queue of 8-byte elements, long enough for the producer's slip: the producer slips
    // back (waits for more than one free cell) for a bounded number of polls only. The consumer
    // frees exactly one cell and then waits for the producer's signal, which comes only after
    // the blocked push went through.
    Q q;
    constexpr std::uint64_t n = Q::capacity();
    for (std::uint64_t i = 0; i < n; ++i) REQUIRE(q.try_push(i));
    std::atomic<int> pushed{0};
    std::thread producer([&] {
        pushed.store(q.push(n, Deadline::after(10s)) ? 1 : -1, std::memory_order_release);
    });
    // Pop only once the producer has spent its spin phase and parks: a pop before its first
    // attempt would let the push in on its fast path and test nothing.
    const Deadline parked = Deadline::after(10s);
    while (q.waiting_producers() == 0 && !parked.expired()) std::this_thread::sleep_for(1ms);
    CHECK(q.waiting_producers() == 1u);
    const auto first = q.pop(Deadline::after(10s));
    REQUIRE(first.has_value());
    CHECK(*first == 0u);
    const Deadline bound = Deadline::after(10s);
    while (pushed.load(std::memory_order_acquire) == 0 && !bound.expired()) std::this_thread::sleep_for(1ms);
    producer.join();
    CHECK(pushed.load() == 1);
    for (std::uint64_t i = 1; i <= n; ++i) {
        const auto r = q.pop(Deadline::poll());
        REQUIRE(r.has_value());
        CHECK(*r == i);
    }
}

namespace {
struct Pair16 {  // two words: a blocking push hands its wait a copy of it (kWaitByValue)
    std::uint64_t a;
    std::uint64_t b;
};
}  // namespace

TEST_CASE_TEMPLATE("Queue: a 16-byte element pushed by reference through a full queue arrives whole", Q,
                   staticrt::SpscQueue<Pair16, 8>, staticrt::MpmcQueue<Pair16, 8>, staticrt::ScqQueue<Pair16, 8>,
                   staticrt::TicketQueue<Pair16, 8>) {
    static_assert(staticrt::detail::kWaitByValue<Pair16, const Pair16&>);
    Q q;
    constexpr std::uint64_t kItems = 2000;
    std::atomic<int> bad{0};  // the producer's findings, checked on this thread
    std::atomic<bool> drained{false};
    std::thread producer([&] {
        for (std::uint64_t i = 0; i < kItems; ++i) {
            Pair16 v{i, ~i};
            const bool ok = (i % 2 == 0) ? q.push(v, Deadline::after(10s)).has_value()  // const T&
                                         : q.push(std::move(v), Deadline::after(10s)).has_value();
            if (!ok || v.a != i) {  // trivially copyable: the caller's object is untouched
                bad.fetch_add(1);
                return;
            }
        }
        // Full, then closed while this push waits: Errc::closed, the object is untouched.
        while (!drained.load(std::memory_order_acquire)) std::this_thread::yield();
        while (q.try_push(Pair16{kItems, ~kItems})) {
        }
        Pair16 last{kItems + 1, ~(kItems + 1)};
        if (q.push(last, Deadline::after(10s)).code() != Errc::closed) bad.fetch_add(1);
        if (last.a != kItems + 1 || last.b != ~(kItems + 1)) bad.fetch_add(1);
    });
    // Let the producer run into the full queue before each pop.
    std::uint64_t expect = 0;
    bool whole = true;
    while (expect < kItems) {
        if (expect % 64 == 0) std::this_thread::sleep_for(1ms);
        const auto r = q.pop(Deadline::after(10s));
        REQUIRE(r.has_value());
        whole &= r->a == expect && r->b == ~expect;
        ++expect;
    }
    CHECK(whole);
    drained.store(true, std::memory_order_release);
    const Deadline bound = Deadline::after(10s);
    while (q.waiting_producers() == 0 && !bound.expired()) std::this_thread::sleep_for(1ms);
    q.close();
    producer.join();
    CHECK(bad.load() == 0);
    std::uint64_t left = 0;
    while (auto r = q.pop(Deadline::poll())) {
        CHECK(r->a == kItems);
        ++left;
    }
    CHECK(left == 8);
}

TEST_CASE_TEMPLATE("MPMC queues: a consumer that caught up with a burst returns it when the burst ends", Q,
                   staticrt::MpmcQueue<std::uint64_t, 64>, staticrt::TicketQueue<std::uint64_t, 64>,
                   staticrt::ScqQueue<std::uint64_t, 128>,
                   staticrt::CompactScqQueue<std::uint64_t, 128>) {
    // A consumer whose pop had to poll and then finds the next element already there waits for
    // the producers to get a quarter of the ring ahead (consumer_gap(), queue/detail/slot.hpp;
    // ScqQueue's run_ahead()),
    // but only while more elements keep coming. Bursts of three, each sent once the consumer has
    // taken the one before, usually while it still polls: every burst must come out although no
    // fourth element follows it.
    Q q;
    constexpr std::uint64_t kBursts = 1000;
    std::atomic<std::uint64_t> taken{0};
    bool in_order = true;
    std::thread consumer([&] {
        std::uint64_t n = 0;
        while (const auto v = q.pop(Deadline::never())) {
            in_order &= *v == n + 1;
            taken.store(++n, std::memory_order_release);
        }
    });
    bool all_out = true;
    for (std::uint64_t b = 0; b < kBursts && all_out; ++b) {
        // A few hundred loads first, so that the consumer is polling when the burst comes.
        for (int i = 0; i < 300; ++i) (void)taken.load(std::memory_order_relaxed);
        const std::uint64_t burst[3] = {3 * b + 1, 3 * b + 2, 3 * b + 3};
        REQUIRE(q.try_push_n(burst) == 3u);
        const Deadline bound = Deadline::after(10s);  // a hang guard, not a timing check
        while (taken.load(std::memory_order_acquire) != 3 * b + 3 && !bound.expired()) std::this_thread::yield();
        all_out = taken.load(std::memory_order_acquire) == 3 * b + 3;
    }
    CHECK(all_out);
    if (!all_out) {  // a consumer stuck waiting for the gap: give it the elements it waits for
        for (std::uint64_t i = 0; i < Q::capacity() && q.try_push(0); ++i) {
        }
    }
    q.close();
    consumer.join();
    if (all_out) {
        CHECK(taken.load() == 3 * kBursts);
        CHECK(in_order);
    }
}

TEST_CASE_TEMPLATE("MPMC queues: small stress, 3 producers 3 consumers, nothing lost, FIFO per producer", Q,
                   staticrt::MpmcQueue<std::uint64_t, 8>, staticrt::ScqQueue<std::uint64_t, 8>,
                   staticrt::ScqQueue<std::uint64_t, 1>, staticrt::CompactScqQueue<std::uint64_t, 16>,
                   staticrt::TicketQueue<std::uint64_t, 8>,
                   staticrt::TicketQueue<std::uint64_t, 1>) {
    Q q;
    constexpr std::uint64_t kPer = 5000;
    constexpr int kProducers = 3;
    std::atomic<std::uint64_t> sum{0}, xr{0}, count{0};
    std::atomic<int> left{kProducers};
    std::atomic<bool> order_ok{true};
    std::vector<std::thread> ts;
    for (int p = 0; p < kProducers; ++p)
        ts.emplace_back([&, p] {
            for (std::uint64_t i = 1; i <= kPer; ++i) (void)q.push((static_cast<std::uint64_t>(p) << 32) | i);
            if (left.fetch_sub(1) == 1) q.close();
        });
    for (int c = 0; c < 3; ++c)
        ts.emplace_back([&] {
            std::uint64_t last[kProducers] = {0, 0, 0};
            std::uint64_t s = 0, x = 0, n = 0;
            while (auto r = q.pop()) {
                const auto p = static_cast<std::size_t>(*r >> 32);
                const std::uint64_t seq = *r & 0xffffffffu;
                if (p >= kProducers || seq <= last[p]) order_ok = false;
                else last[p] = seq;
                s += *r;
                x ^= *r;
                ++n;
            }
            sum += s;
            xr ^= x;
            count += n;
        });
    for (auto& t : ts) t.join();
    std::uint64_t es = 0, ex = 0;
    for (std::uint64_t p = 0; p < kProducers; ++p)
        for (std::uint64_t i = 1; i <= kPer; ++i) {
            es += (p << 32) | i;
            ex ^= (p << 32) | i;
        }
    CHECK(order_ok.load());
    CHECK(count.load() == kPer * kProducers);
    CHECK(sum.load() == es);
    CHECK(xr.load() == ex);
}

TEST_CASE("JoinableQueue: join waits for task_done, over-release is an error") {
    staticrt::JoinableQueue<int, 4> q;
    CHECK(q.task_done().code() == Errc::over_release);
    CHECK(q.join(Deadline::poll()));
    std::thread worker([&] {
        while (auto r = q.pop()) (void)q.task_done();
    });
    for (int i = 0; i < 100; ++i) CHECK(q.push(i));
    CHECK(q.join(Deadline::after(30s)));
    CHECK(q.unfinished() == 0);
    q.close();
    worker.join();
}
