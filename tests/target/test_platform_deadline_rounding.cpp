// SPDX-License-Identifier: MIT
// Conformance: short deadlines are never cut short. Win32 timeouts are whole milliseconds on
// another clock than Instant::now(), POSIX ones absolute nanoseconds: on every OS, sleep_until(),
// wait() and join() return only once the deadline has passed on the monotonic clock, and a
// deadline already in the past (even before the clock's epoch) returns at once.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "staticrt/platform/thread.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::Result;
using staticrt::Instant;
namespace platform = staticrt::platform;

namespace {

// Sub-millisecond, whole and fractional milliseconds: the cases a ms-rounding bug gets wrong.
constexpr std::chrono::microseconds kShort[] = {200us, 1000us, 1500us, 2300us};

alignas(16) std::byte g_stack[256 * 1024];

void wait_for_gate(void* arg) noexcept {
    auto* gate = static_cast<std::atomic<std::uint32_t>*>(arg);
    // [test.rounding.gate] acquire: pairs with the release store in the test.
    while (gate->load(std::memory_order_acquire) == 0) (void)platform::wait(*gate, 0, Deadline::never());
}

}  // namespace

TEST_CASE("SleepUntil_ShortDeadlines_NeverReturnEarly") {
    staticrt::test::Watchdog wd{std::chrono::seconds(30), "SleepUntil_ShortDeadlines_NeverReturnEarly"};
    for (auto d : kShort) {
        for (int i = 0; i < 3; ++i) {
            const Deadline deadline = Deadline::after(d);
            REQUIRE(platform::sleep_until(deadline));
            CAPTURE(d.count());
            CHECK(Instant::now() >= deadline.instant());
        }
    }
}

TEST_CASE("Wait_ShortDeadlines_TimeoutOnlyAfterDeadline") {
    staticrt::test::Watchdog wd{std::chrono::seconds(30), "Wait_ShortDeadlines_TimeoutOnlyAfterDeadline"};
    std::atomic<std::uint32_t> word{5};
    for (auto d : kShort) {
        for (int i = 0; i < 3; ++i) {
            const Deadline deadline = Deadline::after(d);
            Result<void> r = platform::wait(word, 5, deadline);
            // Spurious success is allowed; a timeout must not come early.
            while (r) r = platform::wait(word, 5, deadline);
            CAPTURE(d.count());
            CHECK(r.code() == Errc::timeout);
            CHECK(Instant::now() >= deadline.instant());
        }
    }
}

TEST_CASE("Join_ShortDeadlines_TimeoutOnlyAfterDeadline") {
    staticrt::test::Watchdog wd{std::chrono::seconds(30), "Join_ShortDeadlines_TimeoutOnlyAfterDeadline"};
    std::atomic<std::uint32_t> gate{0};
    platform::ThreadHandle h;
    REQUIRE(platform::start_thread(h, {g_stack, sizeof g_stack}, &wait_for_gate, &gate));
    for (auto d : kShort) {
        const Deadline deadline = Deadline::after(d);
        CAPTURE(d.count());
        CHECK(platform::join(h, deadline).code() == Errc::timeout);
        CHECK(Instant::now() >= deadline.instant());
    }
    gate.store(1, std::memory_order_release);  // [test.rounding.gate] release
    platform::wake_all(gate);
    CHECK(platform::join(h, Deadline::after(20s)));
}

TEST_CASE("Waits_DeadlineBeforeEpoch_ReturnAtOnce") {
    staticrt::test::Watchdog wd{std::chrono::seconds(30), "Waits_DeadlineBeforeEpoch_ReturnAtOnce"};
    const Deadline past = Deadline::at(Instant(-1'000'000'000));
    CHECK(past.expired());
    CHECK(platform::sleep_until(past));
    std::atomic<std::uint32_t> word{1};
    CHECK(platform::wait(word, 1, past).code() == Errc::timeout);
    CHECK(platform::wait(word, 2, past));  // the word differs: success, like a poll
}
