// SPDX-License-Identifier: MIT
// Conformance: futures that stay done (Python's Future.done()/result()/exception()/cancelled()),
// SharedFuture waited on by several threads, and task errors of the user's own that no pool
// signal can be confused with. Before: get() emptied the Future (done() false, a second read
// invalid_argument), no cancelled/failed/error observers, no shared form, a task's Errc::closed
// looked like a cancel, and futures' failures always called on_failure.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "staticrt/exec/future.hpp"
#include "staticrt/exec/thread_pool.hpp"

using staticrt::Deadline;
using staticrt::Errc;
using staticrt::Error;
using staticrt::Result;

namespace {
using Pool = staticrt::ThreadPool<1, 16, staticrt::kDefaultPoolStackBytes, 64, 16>;
enum class ParseError { bad_digit = 1, overflow = 2 };

struct Gate {
    std::atomic<int> entered{0};
    std::atomic<bool> open{false};
    void pass() {
        entered.fetch_add(1);
        while (!open.load()) std::this_thread::yield();
    }
};
}  // namespace

TEST_CASE("Future: result() leaves the value in place; done() stays true") {
    staticrt::ResultSlots<1> slots;
    auto pf = slots.make<int>();
    REQUIRE(pf);
    CHECK_FALSE(pf->future.done());
    CHECK(pf->future.error() == Error{});
    (void)pf->promise.set_value(7);
    CHECK(pf->future.done());
    CHECK(*pf->future.result() == 7);
    CHECK(*pf->future.result(Deadline::poll()) == 7);  // again: not consumed
    CHECK(pf->future.done());
    CHECK_FALSE(pf->future.failed());
    CHECK_FALSE(pf->future.cancelled());
    CHECK(pf->future.error() == Error{});
    CHECK(*pf->future.get() == 7);  // the one-shot move-out still works after result()
    CHECK_FALSE(pf->future.valid());
    CHECK(slots.make<int>());       // and recycled the slot
}

TEST_CASE("Future: failed() and error() for an error the writer stored; broken is not failed") {
    staticrt::ResultSlots<2> slots;
    auto a = slots.make<int>();
    REQUIRE(a);
    (void)a->promise.set_error(Error{Errc::would_block});
    CHECK(a->future.done());
    CHECK(a->future.failed());
    CHECK_FALSE(a->future.cancelled());
    CHECK(a->future.error() == Errc::would_block);
    CHECK(a->future.result().code() == Errc::would_block);
    CHECK(a->future.error() == Errc::would_block);  // still there
    auto b = slots.make<int>();
    REQUIRE(b);
    { auto drop = std::move(b->promise); }  // dropped without writing
    CHECK(b->future.done());
    CHECK_FALSE(b->future.failed());
    CHECK(b->future.error() == Errc::broken);
}

TEST_CASE("SharedFuture: several threads wait for one result and read it; the last handle frees the slot") {
    staticrt::ResultSlots<1> slots;
    auto pf = slots.make<int>();
    REQUIRE(pf);
    staticrt::SharedFuture<int> shared = pf->future.share();
    CHECK_FALSE(pf->future.valid());
    CHECK(shared.valid());
    std::atomic<int> sum{0}, started{0};
    std::vector<std::thread> readers;
    for (int i = 0; i < 4; ++i)
        readers.emplace_back([copy = shared, &sum, &started]() mutable {
            started.fetch_add(1);
            auto r = copy.result();
            if (r) sum.fetch_add(*r);
            auto again = copy.result(Deadline::poll());
            if (again) sum.fetch_add(*again);
        });
    while (started.load() < 4) std::this_thread::yield();
    (void)pf->promise.set_value(5);
    for (auto& t : readers) t.join();
    CHECK(sum.load() == 40);
    CHECK(shared.done());
    CHECK(*shared.result() == 5);
    CHECK(slots.make<int>().code() == Errc::exhausted);  // still held by `shared`
    shared = staticrt::SharedFuture<int>{};              // last handle
    CHECK(slots.make<int>());
}

TEST_CASE("SharedFuture: handles dropped before the result recycle the slot when it is written") {
    staticrt::ResultSlots<1> slots;
    auto pf = slots.make<int>();
    REQUIRE(pf);
    {
        auto s1 = pf->future.share();
        auto s2 = s1;
        CHECK_FALSE(s2.done());
    }
    CHECK(slots.make<int>().code() == Errc::exhausted);  // the promise still holds it
    (void)pf->promise.set_value(1);
    CHECK(slots.make<int>());
}

TEST_CASE("ThreadPool: a task's own error is task_failed with its code; a task's Errc::closed is failed, not cancelled") {
    auto pool = std::make_unique<Pool>();
    REQUIRE(pool->start({}));
    auto f = pool->submit([]() -> Result<int> { return staticrt::task_error(ParseError::overflow); });
    REQUIRE(f);
    auto r = f->result();
    REQUIRE_FALSE(r);
    CHECK(r.code() == Errc::task_failed);
    CHECK(staticrt::task_error_code<ParseError>(r.error()) == ParseError::overflow);
    CHECK(f->failed());
    CHECK_FALSE(staticrt::task_error_code(Error{Errc::closed}).has_value());  // a pool signal is not a task code
    auto g = pool->submit([]() -> Result<int> { return unexpected(Errc::closed); });
    REQUIRE(g);
    REQUIRE(g->wait());
    CHECK(g->failed());          // the task said "closed" itself
    CHECK_FALSE(g->cancelled()); // the pool did not cancel it
    (void)pool->shutdown();
}

TEST_CASE("ThreadPool: shutdown(cancel) marks queued futures cancelled, not failed") {
    auto pool = std::make_unique<Pool>();
    REQUIRE(pool->start({}));
    Gate gate;
    REQUIRE(pool->submit_detached([&] { gate.pass(); }));
    while (gate.entered.load() == 0) std::this_thread::yield();
    auto queued = pool->submit([] { return 1; });
    REQUIRE(queued);
    std::thread stopper([&] { (void)pool->shutdown(staticrt::ShutdownMode::cancel); });
    while (!pool->closed()) std::this_thread::yield();
    gate.open.store(true);
    stopper.join();
    CHECK(queued->done());
    CHECK(queued->cancelled());
    CHECK_FALSE(queued->failed());
    CHECK(queued->error() == Errc::closed);
}

TEST_CASE("ThreadPool: a failed future does not call on_failure unless report_future_failures") {
    for (const bool report : {false, true}) {
        std::atomic<int> calls{0};
        staticrt::ThreadPoolOptions o;
        o.report_future_failures = report;
        o.on_failure.user = &calls;
        o.on_failure.fn = [](void* u, std::size_t, Error) noexcept { static_cast<std::atomic<int>*>(u)->fetch_add(1); };
        auto pool = std::make_unique<Pool>();
        REQUIRE(pool->start(o));
        auto f = pool->submit([]() -> Result<int> { return staticrt::task_error(1); });
        REQUIRE(f);
        CHECK(f->get().code() == Errc::task_failed);
        REQUIRE(pool->submit_detached([]() -> Result<void> { return staticrt::task_error(2); }));
        REQUIRE(pool->wait_idle(Deadline::after(std::chrono::seconds(30))));
        CHECK(calls.load() == (report ? 2 : 1));  // the detached one always reports
        (void)pool->shutdown();
    }
}
