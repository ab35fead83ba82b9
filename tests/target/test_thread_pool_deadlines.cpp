// SPDX-License-Identifier: MIT
// Conformance: ThreadPool deadlines (map, parallel_for, shutdown, futures), per-item failures of
// map_checked/parallel_for_checked, shutdown_nowait (Python's shutdown(wait=False)), and stall
// reporting of a thread worker stuck on one task. Every wait here ends on observable state.
#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <span>
#include <thread>

#include "staticrt/exec/future.hpp"
#include "staticrt/exec/thread_pool.hpp"

using staticrt::Deadline;
using staticrt::Errc;
using staticrt::Error;
using staticrt::Result;

namespace {
using Pool1 = staticrt::ThreadPool<1, 16, staticrt::kDefaultPoolStackBytes, 64, 16>;
using Pool2 = staticrt::ThreadPool<2, 64, staticrt::kDefaultPoolStackBytes, 64, 64>;

struct Gate {
    std::atomic<int> entered{0};
    std::atomic<bool> open{false};
    void pass() {
        entered.fetch_add(1);
        while (!open.load()) std::this_thread::yield();
    }
    void wait_entered(int n) const {
        while (entered.load() < n) std::this_thread::yield();
    }
};

// A started one-worker pool whose worker is held inside a task by `gate` until the test opens it.
std::unique_ptr<Pool1> held_pool(Gate& gate, const staticrt::ThreadPoolOptions& o = {}) {
    auto pool = std::make_unique<Pool1>();
    REQUIRE(pool->start(o));
    REQUIRE(pool->submit_detached([&gate] { gate.pass(); }));
    gate.wait_entered(1);
    return pool;
}
}  // namespace

TEST_CASE("ThreadPool::map_checked reports per-item failures apart from pool signals") {
    auto pool = std::make_unique<Pool2>();
    REQUIRE(pool->start({}));
    std::array<int, 100> in{};
    for (int i = 0; i < 100; ++i) in[static_cast<std::size_t>(i)] = i;
    std::array<int, 100> out{};
    std::array<Error, 100> errors{};
    auto r = pool->map_checked(
        [](int x) -> Result<int> {
            if (x % 3 == 0) return staticrt::task_error(x);
            return x * 2;
        },
        std::span<const int>(in), std::span<int>(out), std::span<Error>(errors));
    REQUIRE(r);
    CHECK(r->failed == 34);
    REQUIRE(r->first_failed < 100);
    CHECK(r->first_failed % 3 == 0);
    CHECK(staticrt::task_error_code(r->first_error) == static_cast<int>(r->first_failed));
    for (std::size_t i = 0; i < 100; ++i) {
        if (i % 3 == 0) {
            CHECK(errors[i].code == Errc::task_failed);
            CHECK(errors[i].os_code == static_cast<int>(i));
        } else {
            CHECK(errors[i] == Error{});
            CHECK(out[i] == static_cast<int>(i) * 2);
        }
    }
    // Without an errors span: the report only. A task's Errc::closed is an item failure, the call is ok.
    auto r2 = pool->map_checked([](int) -> Result<int> { return unexpected(Errc::closed); }, std::span<const int>(in),
                                std::span<int>(out), std::span<Error>());
    REQUIRE(r2);
    CHECK(r2->failed == 100);
    CHECK(r2->first_error == Errc::closed);
    (void)pool->shutdown();
    CHECK(pool->map_checked([](int x) -> Result<int> { return x; }, std::span<const int>(in), std::span<int>(out),
                            std::span<Error>())
              .code() == Errc::closed);
}

TEST_CASE("ThreadPool::parallel_for_checked reports failures by index") {
    auto pool = std::make_unique<Pool2>();
    REQUIRE(pool->start({}));
    std::array<Error, 50> errors{};
    std::array<std::atomic<int>, 50> runs{};
    auto r = pool->parallel_for_checked(
        10, 60,
        [&](std::size_t i) -> Result<void> {
            runs[i - 10].fetch_add(1);
            return i == 42 ? Result<void>(staticrt::task_error(7)) : staticrt::ok();
        },
        std::span<Error>(errors));
    REQUIRE(r);
    CHECK(r->failed == 1);
    CHECK(r->first_failed == 42);
    CHECK(errors[32].code == Errc::task_failed);
    for (auto& n : runs) CHECK(n.load() == 1);
}

TEST_CASE("ThreadPool::map with a passed deadline runs nothing, returns timeout, pool stays usable") {
    auto pool = std::make_unique<Pool2>();
    REQUIRE(pool->start({}));
    std::array<int, 64> in{}, out{};
    std::atomic<int> calls{0};
    auto fn = [&](int x) {
        calls.fetch_add(1);
        return x + 1;
    };
    CHECK(pool->map(fn, std::span<const int>(in), std::span<int>(out), 0, Deadline::poll()).code() == Errc::timeout);
    CHECK(calls.load() == 0);
    CHECK(pool->parallel_for(0, 64, [&](std::size_t) { calls.fetch_add(1); }, 0, Deadline::poll()).code() ==
          Errc::timeout);
    CHECK(calls.load() == 0);
    REQUIRE(pool->map(fn, std::span<const int>(in), std::span<int>(out)));  // usable afterwards
    CHECK(calls.load() == 64);
    CHECK(out[63] == 1);
}

TEST_CASE("ThreadPool::map_checked: a deadline that passes mid-way stops new chunks; unrun items say timeout") {
    auto pool = std::make_unique<Pool1>();
    REQUIRE(pool->start({}));
    std::array<int, 32> in{}, out{};
    std::array<Error, 32> errors{};
    const Deadline d = Deadline::after(std::chrono::milliseconds(20));
    std::atomic<int> ran{0};
    // Every item waits for the deadline itself: each participating thread (at most 2) runs one
    // chunk, and no chunk may start after the deadline.
    auto r = pool->map_checked(
        [&](int x) -> Result<int> {
            while (!d.expired()) std::this_thread::yield();
            ran.fetch_add(1);
            return x;
        },
        std::span<const int>(in), std::span<int>(out), std::span<Error>(errors), d, 1);
    CHECK(r.code() == Errc::timeout);
    CHECK(ran.load() >= 1);
    CHECK(ran.load() <= 2);
    int timeouts = 0;
    for (const Error& e : errors) timeouts += e.code == Errc::timeout ? 1 : 0;
    CHECK(timeouts == 32 - ran.load());
    CHECK(pool->submit([] { return 3; }));  // usable
    CHECK(pool->wait_idle(Deadline::after(std::chrono::seconds(30))));
}

TEST_CASE("ThreadPool: a future's get() times out and stays valid") {
    auto pool = std::make_unique<Pool1>();
    REQUIRE(pool->start({}));
    Gate gate;
    auto f = pool->submit([&] {
        gate.pass();
        return 9;
    });
    REQUIRE(f);
    gate.wait_entered(1);
    CHECK(f->get(Deadline::after(std::chrono::milliseconds(5))).code() == Errc::timeout);
    CHECK(f->valid());
    gate.open.store(true);
    CHECK(*f->get() == 9);
}

TEST_CASE("ThreadPool::shutdown with a deadline times out, keeps draining, and a later shutdown joins") {
    Gate gate;
    auto pool = held_pool(gate);
    auto queued = pool->submit([] { return 4; });
    REQUIRE(queued);
    CHECK(pool->shutdown(staticrt::ShutdownMode::drain, Deadline::after(std::chrono::milliseconds(5))).code() ==
          Errc::timeout);
    CHECK(pool->closed());
    CHECK(pool->submit([] { return 1; }).code() == Errc::closed);
    gate.open.store(true);
    CHECK(pool->shutdown());       // resumes the join
    CHECK(*queued->get() == 4);    // drained
    CHECK(pool->shutdown());       // idempotent
}

TEST_CASE("ThreadPool::shutdown_nowait returns at once; the queue drains in the background") {
    Gate gate;
    auto pool = held_pool(gate);
    auto queued = pool->submit([] { return 5; });
    REQUIRE(queued);
    pool->shutdown_nowait();     // returns although the worker is held by the gate
    CHECK(pool->closed());
    CHECK_FALSE(queued->done());
    gate.open.store(true);
    CHECK(*queued->get() == 5);  // the worker drained it after shutdown_nowait returned
    pool.reset();                // the destructor joins
}

TEST_CASE("ThreadPool::shutdown_nowait(cancel) cancels queued futures in the background") {
    Gate gate;
    auto pool = held_pool(gate);
    auto queued = pool->submit([] { return 5; });
    REQUIRE(queued);
    pool->shutdown_nowait(staticrt::ShutdownMode::cancel);
    gate.open.store(true);
    CHECK(queued->get().code() == Errc::closed);
    CHECK(pool->shutdown());
}

TEST_CASE("ThreadPool: a worker stuck on one task is reported once through the hook and stats") {
    struct Seen {
        std::atomic<int> calls{0};
        std::atomic<int> code{0};
        std::atomic<std::size_t> worker{99};
    } seen;
    staticrt::ThreadPoolOptions o;
    o.stall_timeout_ns = 5'000'000;  // 5 ms
    o.on_failure.user = &seen;
    o.on_failure.fn = [](void* u, std::size_t w, Error e) noexcept {
        auto* s = static_cast<Seen*>(u);
        s->code.store(static_cast<int>(e.code));
        s->worker.store(w);
        s->calls.fetch_add(1);
    };
    Gate gate;
    auto pool = held_pool(gate, o);
    // wait_idle() checks for stalls while it waits: it reports the stuck worker by itself.
    std::thread waiter([&] { (void)pool->wait_idle(); });
    while (seen.calls.load() == 0) std::this_thread::yield();
    CHECK(seen.code.load() == static_cast<int>(Errc::process_stalled));
    CHECK(seen.worker.load() == 0u);
    CHECK(pool->stats(0).stalls == 1u);
    CHECK(pool->stats(0).stalled);
    for (int i = 0; i < 3; ++i) (void)pool->check_stalls();
    CHECK(seen.calls.load() == 1);  // once per task
    gate.open.store(true);
    waiter.join();
    CHECK_FALSE(pool->stats(0).stalled);
    CHECK(pool->check_stalls() == 0u);
    CHECK(pool->stats(0).stalls == 1u);
}

TEST_CASE("ThreadPool: stall reporting is off by default and never reports an idle pool") {
    auto pool = std::make_unique<Pool1>();
    REQUIRE(pool->start({}));
    CHECK(pool->check_stalls() == 0u);
    CHECK(pool->stats(0).stalls == 0u);
}
