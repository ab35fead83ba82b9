// SPDX-License-Identifier: MIT
// Conformance: monotonic time, Deadline arithmetic and wait-on-address.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"

#include "eventually.hpp"
#include "skip.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::Instant;
namespace platform = staticrt::platform;

TEST_CASE("Instant::now is monotonic") {
    Instant a = Instant::now();
    Instant b = Instant::now();
    CHECK(b >= a);
}

TEST_CASE("Deadline: zero polls, negative is expired, huge is never") {
    CHECK(Deadline::after(0ns).is_poll());
    CHECK(Deadline::after(-5s).is_poll());
    CHECK(Deadline::after(-5s).expired());
    CHECK(Deadline::after(std::chrono::hours::max()).is_never());
    CHECK(Deadline::after(std::chrono::duration<double>(1e300)).is_never());
    CHECK_FALSE(Deadline::never().expired());
    CHECK(Deadline::after(1h).remaining_ns() > 0);
    CHECK(Deadline::poll().remaining_ns() == 0);
    // a wall-clock time point in the past is expired; one far in the future is not
    CHECK(Deadline::at(std::chrono::system_clock::now() - 1s).expired());
    CHECK_FALSE(Deadline::at(std::chrono::system_clock::now() + 1h).expired());
}

TEST_CASE("wait: returns timeout at the deadline when nobody wakes") {
    std::atomic<std::uint32_t> word{7};
    const Instant start = Instant::now();
    auto r = platform::wait(word, 7, Deadline::after(20ms));
    REQUIRE_FALSE(r);
    CHECK(r.error() == Errc::timeout);
    CHECK(Instant::now().ns_since(start) >= 20'000'000);
    CHECK(platform::wait(word, 7, Deadline::poll()).code() == Errc::timeout);
}

TEST_CASE("wait: returns at once when the word differs") {
    std::atomic<std::uint32_t> word{1};
    CHECK(platform::wait(word, 0, Deadline::never()));
    CHECK(platform::wait(word, 0, Deadline::poll()));
}

TEST_CASE("wait/wake_one: a parked thread is woken") {
    staticrt::test::Watchdog wd{60s, "wait/wake_one: a parked thread is woken"};
    std::atomic<std::uint32_t> word{0};
    std::thread t([&] {
        // [test.wait] acquire: pairs with the release store below.
        while (word.load(std::memory_order_acquire) == 0) (void)platform::wait(word, 0, Deadline::never());
    });
    // Parked first (Windows: WaitOnAddress has no observer, the wake may race the park there).
    auto parked = staticrt::test::await_parked(word, 0);
    if (!parked) CHECK(parked.code() == Errc::not_supported);
    word.store(1, std::memory_order_release);
    platform::wake_one(word);
    t.join();
    CHECK(word.load() == 1);
}

TEST_CASE("wake_all wakes every waiter") {
    staticrt::test::Watchdog wd{60s, "wake_all wakes every waiter"};
    std::atomic<std::uint32_t> word{0};
    std::atomic<int> woke{0};
    std::thread ts[4];
    for (auto& t : ts)
        t = std::thread([&] {
            while (word.load(std::memory_order_acquire) == 0) (void)platform::wait(word, 0, Deadline::never());
            woke.fetch_add(1);
        });
    auto parked = staticrt::test::await_parked(word, 3);  // all four parked (not observable on Windows)
    if (!parked) CHECK(parked.code() == Errc::not_supported);
    word.store(1, std::memory_order_release);
    platform::wake_all(word);
    for (auto& t : ts) t.join();
    CHECK(woke.load() == 4);
}

TEST_CASE("parked_on: counts the parked threads and wakes none") {
    staticrt::test::Watchdog wd{60s, "parked_on: counts the parked threads and wakes none"};
    std::atomic<std::uint32_t> word{0};
    auto none = platform::parked_on(word);
    if (!none) {
        REQUIRE(none.code() == Errc::not_supported);
        STATICRT_SKIP("win-waitonaddress-unobservable",
                      "Windows waits on a process_private word with WaitOnAddress: nobody can count its waiters");
    }
    CHECK(*none == 0);
    std::atomic<int> returns{0};  // wait() returns seen by the waiters (a wake-up would add one)
    std::thread ts[3];
    for (auto& t : ts)
        t = std::thread([&] {
            while (word.load(std::memory_order_acquire) == 0) {
                (void)platform::wait(word, 0, Deadline::never());
                returns.fetch_add(1);
            }
        });
    auto parked = staticrt::test::await_parked(word, 2);
    REQUIRE(parked);
    CHECK(*parked == 3);
    for (int i = 0; i < 5; ++i) CHECK(platform::parked_on(word).value_or(99) == 3);
    CHECK(returns.load() == 0);
    platform::wake_one(word);  // the word is unchanged: the woken one parks again
    CHECK(staticrt::test::eventually([&] { return returns.load() == 1; }));
    word.store(1, std::memory_order_release);
    platform::wake_all(word);
    for (auto& t : ts) t.join();
    CHECK(platform::parked_on(word).value_or(99) == 0);
}
