// SPDX-License-Identifier: MIT
// Conformance: ThreadPool and futures on every target (kept fast: qemu is ~10x slower).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <span>
#include <thread>

#include "staticrt/exec/future.hpp"
#include "staticrt/exec/thread_pool.hpp"

#include "eventually.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;

namespace {
using Pool = staticrt::ThreadPool<2, 64, staticrt::kDefaultPoolStackBytes, 64, 64>;
}  // namespace

TEST_CASE("ResultSlots: value, error, exhaustion and recycling") {
    staticrt::ResultSlots<2> slots;
    auto a = slots.make<int>();
    auto b = slots.make<int>();
    REQUIRE(a);
    REQUIRE(b);
    CHECK(slots.make<int>().code() == Errc::exhausted);
    (void)a->promise.set_value(4);
    CHECK(*a->future.get() == 4);
    (void)b->promise.set_error(staticrt::Error{Errc::closed});
    CHECK(b->future.get().code() == Errc::closed);
    CHECK(slots.make<int>());
}

TEST_CASE("ThreadPool: submit, error results, detached, wait_idle") {
    auto pool = std::make_unique<Pool>();
    REQUIRE(pool->start({}));
    auto f = pool->submit([](int x) { return x * x; }, 12);
    REQUIRE(f);
    CHECK(*f->get() == 144);
    auto e = pool->submit([]() -> staticrt::Result<int> { return unexpected(Errc::empty); });
    REQUIRE(e);
    CHECK(e->get().code() == Errc::empty);
    std::atomic<int> n{0};
    for (int i = 0; i < 100; ++i) REQUIRE(pool->submit_detached([&n] { n.fetch_add(1); }));
    REQUIRE(pool->wait_idle(Deadline::after(30s)));
    CHECK(n.load() == 100);
    CHECK(pool->pending() == 0);
    std::uint64_t ran = 0;
    for (std::size_t w = 0; w < pool->worker_count(); ++w) ran += pool->stats(w).tasks_run;
    CHECK(ran == 102);
}

namespace {
/// One worker, a queue of 4 cells and 4 result slots: every cell has a home result slot.
using HomePool = staticrt::ThreadPool<1, 4, staticrt::kDefaultPoolStackBytes, 64, 4>;

std::uint64_t tasks_run(const HomePool& pool) {
    std::uint64_t ran = 0;
    for (std::size_t w = 0; w < pool.worker_count(); ++w) ran += pool.stats(w).tasks_run;
    return ran;
}
}  // namespace

TEST_CASE("ThreadPool: a future held across laps of the queue does not hold up later submits") {
    // The held future keeps cell 0's home slot; each later lap's submit to cell 0 finds it busy,
    // sends that cell out empty and goes on with the next cell (no free list: 4 slots, 4 cells).
    auto pool = std::make_unique<HomePool>();
    REQUIRE(pool->start({}));
    auto held = pool->submit([] { return -1; });
    REQUIRE(held);
    for (int i = 0; i < 40; ++i) {
        auto f = (i % 2 == 0) ? pool->submit([](int x) { return x; }, i)
                              : pool->submit(Deadline::after(30s), [](int x) { return x; }, i);
        REQUIRE(f);
        CHECK(*f->get() == i);
    }
    CHECK(*held->get() == -1);
    REQUIRE(pool->wait_idle(Deadline::after(30s)));
    CHECK(pool->pending() == 0);
    CHECK(tasks_run(*pool) == 41);  // the empty cells are not tasks
}

TEST_CASE("ThreadPool: with every result slot held, submit fails; a slot freed out of order serves the next") {
    auto pool = std::make_unique<HomePool>();
    REQUIRE(pool->start({}));
    staticrt::Future<int> f[4];
    for (int i = 0; i < 4; ++i) {
        auto r = pool->submit([](int x) { return x; }, i);
        REQUIRE(r);
        f[i] = std::move(*r);
    }
    REQUIRE(pool->wait_idle(Deadline::after(30s)));  // the queue is empty again; the 4 slots stay held
    CHECK(pool->try_submit([] { return 9; }).code() == Errc::exhausted);
    CHECK(pool->submit([] { return 9; }).code() == Errc::exhausted);
    CHECK(pool->submit(Deadline::after(5ms), [] { return 9; }).code() == Errc::timeout);
    CHECK(*f[2].get() == 2);  // frees cell 2's home slot; the next position maps to another cell
    auto g = pool->submit(Deadline::after(30s), [] { return 7; });
    REQUIRE(g);
    CHECK(*g->get() == 7);
    CHECK(*f[0].get() == 0);
    CHECK(*f[1].get() == 1);
    CHECK(*f[3].get() == 3);
    REQUIRE(pool->wait_idle(Deadline::after(30s)));
    CHECK(pool->pending() == 0);
    CHECK(tasks_run(*pool) == 5);
}

TEST_CASE("ThreadPool: map and parallel_for with the caller helping") {
    auto pool = std::make_unique<Pool>();
    REQUIRE(pool->start({}));
    int in[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    int out[10] = {};
    REQUIRE(pool->map([](int x) { return x * x; }, std::span<const int>(in), std::span<int>(out)));
    for (int i = 0; i < 10; ++i) CHECK(out[i] == (i + 1) * (i + 1));
    std::atomic<int> hits[257] = {};
    REQUIRE(pool->parallel_for(0, 257, [&](std::size_t i) { hits[i].fetch_add(1); }, 5));
    for (auto& h : hits) CHECK(h.load() == 1);
    int small[3] = {};
    CHECK(pool->map([](int x) { return x; }, std::span<const int>(in), std::span<int>(small)).code() ==
          Errc::invalid_argument);
}

TEST_CASE("ThreadPool: full queue, closed after shutdown, cancel reports closed") {
    auto pool = std::make_unique<staticrt::ThreadPool<1, 2, staticrt::kDefaultPoolStackBytes, 64, 8>>();
    REQUIRE(pool->start({}));
    std::atomic<bool> open{false};
    std::atomic<bool> entered{false};
    REQUIRE(pool->submit_detached([&] {
        entered.store(true);
        while (!open.load()) std::this_thread::sleep_for(1ms);
    }));
    while (!entered.load()) std::this_thread::sleep_for(1ms);
    auto a = pool->try_submit([] { return 1; });
    auto b = pool->try_submit([] { return 2; });
    REQUIRE(a);
    REQUIRE(b);
    CHECK(pool->try_submit([] { return 3; }).code() == Errc::full);
    std::thread opener([&] {
        // Open only once shutdown has closed the pool (it set the cancel flag before).
        CHECK(staticrt::test::eventually([&] { return pool->closed(); }));
        open.store(true);
    });
    CHECK(pool->shutdown(staticrt::ShutdownMode::cancel));
    opener.join();
    CHECK(a->get().code() == Errc::closed);
    CHECK(b->get().code() == Errc::closed);
    CHECK(pool->submit([] { return 1; }).code() == Errc::closed);
}
