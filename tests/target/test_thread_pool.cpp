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
