// SPDX-License-Identifier: MIT
// Conformance: detail::EventCount, the waiting primitive under every blocking structure, on
// every target: no lost wake-up (a ping-pong where each notify races the other side's
// registration; a lost one hangs and the ctest timeout fails it), notify_all wakes every
// registered waiter, timeouts, and wait_for's settle values. Small counts: qemu is ~10x slower.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "staticrt/detail/event_count.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::detail::Attempt;
using staticrt::detail::EventCount;
using staticrt::detail::OsWaitPolicy;
using staticrt::platform::WaitScope;

namespace {

template <class Ev>
void wait_value(Ev& ev, const std::atomic<std::uint32_t>& flag, std::uint32_t want) {
    auto key = ev.prepare_wait();
    while (flag.load(std::memory_order_acquire) != want) (void)ev.commit_wait(key, Deadline::never());
    ev.cancel_wait();
}

/// Polls `pred` (yielding) until it holds; false after 30 s (the state never came).
template <class Pred>
bool eventually(Pred pred) {
    const Deadline end = Deadline::after(30s);
    while (!pred()) {
        if (end.expired()) return false;
        std::this_thread::yield();
    }
    return true;
}

}  // namespace

TEST_CASE_TEMPLATE("EventCount: ping-pong loses no wake-up", Ev, EventCount<>,
                   EventCount<OsWaitPolicy, WaitScope::process_shared>) {
    constexpr std::uint32_t kRounds = 2000;
    Ev to_b, to_a;
    std::atomic<std::uint32_t> ball{0};
    std::thread b([&] {
        for (std::uint32_t i = 0; i < kRounds; ++i) {
            wait_value(to_b, ball, 2 * i + 1);
            ball.store(2 * i + 2, std::memory_order_release);
            to_a.notify_one();
        }
    });
    for (std::uint32_t i = 0; i < kRounds; ++i) {
        ball.store(2 * i + 1, std::memory_order_release);
        to_b.notify_one();
        wait_value(to_a, ball, 2 * i + 2);
    }
    b.join();
    CHECK(ball.load() == 2 * kRounds);
    CHECK(to_a.waiters() == 0);
    CHECK(to_b.waiters() == 0);
}

TEST_CASE("EventCount: notify_all wakes every registered waiter") {
    EventCount<> ev;
    std::atomic<std::uint32_t> go{0};
    std::atomic<int> woke{0};
    std::thread ts[3];
    for (auto& t : ts) t = std::thread([&] {
        wait_value(ev, go, 1);
        woke.fetch_add(1);
    });
    REQUIRE(eventually([&] { return ev.waiters() == 3; }));
    go.store(1, std::memory_order_release);
    ev.notify_all();
    for (auto& t : ts) t.join();
    CHECK(woke.load() == 3);
}

TEST_CASE("EventCount: timeouts and wait_for results") {
    EventCount<> ev;
    auto key = ev.prepare_wait();
    const auto before = key;
    CHECK(ev.commit_wait(key, Deadline::poll()).code() == Errc::timeout);
    (void)ev.commit_wait(key, Deadline::after(2ms));  // timeout, or a spurious return
    CHECK(key == before);                             // nobody notified
    ev.wake_all();
    CHECK(ev.commit_wait(key, Deadline::never()));    // the epoch moved: returns at once
    CHECK(key != before);
    ev.cancel_wait();
    CHECK(ev.wait_for([]() noexcept { return Attempt::done; }, Deadline::never()));
    CHECK(ev.wait_for([]() noexcept { return Attempt::closed; }, Deadline::never()).code() == Errc::closed);
    CHECK(ev.wait_for([]() noexcept { return Attempt::would_block; }, Deadline::poll()).code() == Errc::timeout);
    CHECK(ev.wait_for([]() noexcept { return Attempt::would_block; }, Deadline::after(2ms)).code() == Errc::timeout);
    CHECK(ev.waiters() == 0);
}
