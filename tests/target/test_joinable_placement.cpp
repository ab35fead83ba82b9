// SPDX-License-Identifier: MIT
// Conformance: JoinableQueue counts an item when it is placed, not when push() starts
// (Python's queue.Queue counts inside put's lock). Each case waits until the second push is
// asleep on the full queue (blocked_producers() == 1), so under the old count-at-start code the
// blocked push was already counted and every CHECK below failed.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "staticrt/queue/joinable_queue.hpp"

using staticrt::Deadline;
using staticrt::Errc;

namespace {

using Q = staticrt::JoinableQueue<int, 1>;

/// Starts a push of `v` that blocks on the full queue `q` and returns once it is asleep.
std::thread start_blocked_push(Q& q, int v, Deadline d, std::atomic<int>& result) {
    std::thread t([&q, v, d, &result] { result.store(static_cast<int>(q.push(v, d).code())); });
    while (q.blocked_producers() == 0) std::this_thread::yield();
    return t;
}

}  // namespace

TEST_CASE("JoinableQueue: a push blocked on a full queue is not counted as unfinished") {
    Q q;
    REQUIRE(q.push(1));
    std::atomic<int> res{-1};
    std::thread t = start_blocked_push(q, 2, Deadline::never(), res);
    CHECK(q.unfinished() == 1u);  // old code: 2
    q.close();                    // the blocked push gives up: closed, never counted
    t.join();
    CHECK(res.load() == static_cast<int>(Errc::closed));
    CHECK(q.unfinished() == 1u);
}

TEST_CASE("JoinableQueue: join returns at once after task_done while a push is blocked") {
    Q q;
    REQUIRE(q.push(1));
    std::atomic<int> res{-1};
    std::thread t = start_blocked_push(q, 2, Deadline::never(), res);
    CHECK(q.task_done());                  // done with the one placed item (Python allows it before get)
    CHECK(q.unfinished() == 0u);
    CHECK(q.join(Deadline::poll()));       // old code: timeout (the blocked push was counted)
    CHECK(q.task_done().code() == Errc::over_release);  // old code: accepted
    int v = 0;
    REQUIRE(q.try_pop(v));                 // room: the blocked push lands and is counted now
    CHECK(v == 1);
    t.join();
    CHECK(res.load() == static_cast<int>(Errc::ok));
    CHECK(q.unfinished() == 1u);
    CHECK(q.join(Deadline::poll()).code() == Errc::timeout);  // the landed item is unfinished
    REQUIRE(q.try_pop(v));
    CHECK(v == 2);
    CHECK(q.task_done());                  // its real task_done is accepted, not over_release
    CHECK(q.join(Deadline::poll()));
}

TEST_CASE("JoinableQueue: a timed-out blocked push leaves the count exact") {
    Q q;
    REQUIRE(q.push(1));
    std::atomic<int> res{-1};
    // A short deadline: the push must time out; the checks below hold at any moment before or after.
    std::thread t = start_blocked_push(q, 2, Deadline::after(std::chrono::milliseconds(50)), res);
    CHECK(q.unfinished() == 1u);
    t.join();
    CHECK(res.load() == static_cast<int>(Errc::timeout));
    CHECK(q.unfinished() == 1u);
    CHECK(q.task_done());
    CHECK(q.task_done().code() == Errc::over_release);
    CHECK(q.join(Deadline::poll()));
}

TEST_CASE("JoinableQueue: try_push counts only placed items") {
    Q q;
    CHECK(q.try_push(1));
    CHECK_FALSE(q.try_push(2));
    CHECK(q.unfinished() == 1u);
    q.close();
    CHECK_FALSE(q.try_push(3));
    CHECK(q.unfinished() == 1u);
}
