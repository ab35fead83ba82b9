// SPDX-License-Identifier: MIT
// Unit and death tests for staticrt::Thread<StackBytes>.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "staticrt/platform/cpu.hpp"
#include "staticrt/sync/event.hpp"
#include "staticrt/thread.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::Error;
using staticrt::Result;

namespace {
// Large enough for TSan and aarch64's 128 KiB minimum.
constexpr std::size_t kStack = 256 * 1024;
using TestThread = staticrt::Thread<kStack>;

std::atomic<int> g_hook_calls{0};
Errc g_hook_code = Errc::ok;
char g_hook_name[32] = {};
void record_failure(const char* name, Error e) noexcept {
    std::strncpy(g_hook_name, name, sizeof g_hook_name - 1);
    g_hook_code = e.code;
    g_hook_calls.fetch_add(1);
}
}  // namespace

TEST(Thread, StartJoin_RunsCallableOnItsOwnStack) {
    staticrt::test::Watchdog wd{10s};
    static TestThread t;
    int ran = 0;
    const void* local = nullptr;
    ASSERT_TRUE(t.start([&] {
        int on_stack = 0;
        local = &on_stack;
        ++ran;
    }));
    EXPECT_TRUE(t.joinable());
    ASSERT_TRUE(t.join());
    EXPECT_EQ(ran, 1);
    EXPECT_FALSE(t.joinable());
    EXPECT_FALSE(t.is_alive());
    // the callable ran on the Thread's own stack array (POSIX: caller-provided stack)
    const auto* begin = reinterpret_cast<const char*>(&t);
    EXPECT_TRUE(local > static_cast<const void*>(begin) && local < static_cast<const void*>(begin + sizeof t));
}

TEST(Thread, Start_WithName_KeepsTruncatedName) {
    staticrt::test::Watchdog wd{10s};
    static TestThread t;
    ASSERT_TRUE(t.start([] {}, {.name = "a-very-long-thread-name"}));
    EXPECT_STREQ(t.name(), "a-very-long-thr");
    ASSERT_TRUE(t.join());
}

TEST(Thread, Start_WhenAlreadyStarted_ReturnsInvalidArgument) {
    staticrt::test::Watchdog wd{10s};
    static TestThread t;
    staticrt::Event go;
    ASSERT_TRUE(t.start([&] { (void)go.wait(); }));
    EXPECT_TRUE(t.is_alive());
    EXPECT_EQ(t.start([] {}).code(), Errc::invalid_argument);
    go.set();
    ASSERT_TRUE(t.join());
    // restartable after join
    int runs = 0;
    ASSERT_TRUE(t.start([&] { ++runs; }));
    ASSERT_TRUE(t.join());
    EXPECT_EQ(runs, 1);
}

TEST(Thread, Join_WhenStillRunning_TimesOutAndStaysJoinable) {
    staticrt::test::Watchdog wd{10s};
    static TestThread t;
    staticrt::Event go;
    ASSERT_TRUE(t.start([&] { (void)go.wait(); }));
    EXPECT_EQ(t.join(Deadline::poll()).code(), Errc::timeout);
    EXPECT_EQ(t.join_for(10ms).code(), Errc::timeout);
    EXPECT_TRUE(t.joinable());
    EXPECT_TRUE(t.is_alive());
    EXPECT_NE(t.id(), 0u);
    go.set();
    EXPECT_TRUE(t.join(Deadline::after(10s)));
}

TEST(Thread, Join_WhenNotStarted_ReturnsInvalidArgument) {
    static TestThread t;
    EXPECT_EQ(t.join().code(), Errc::invalid_argument);
    EXPECT_EQ(t.pin(staticrt::platform::CpuSet::single(0)).code(), Errc::invalid_argument);
}

TEST(Thread, Callable_ReturningError_CallsFailureHookWithName) {
    staticrt::test::Watchdog wd{10s};
    static TestThread t;
    const auto previous = staticrt::set_thread_failure_hook(&record_failure);
    ASSERT_NE(previous, nullptr);
    g_hook_calls = 0;
    ASSERT_TRUE(t.start([]() -> Result<void> { return unexpected(Errc::exhausted); }, {.name = "failing"}));
    ASSERT_TRUE(t.join());
    EXPECT_EQ(g_hook_calls.load(), 1);
    EXPECT_EQ(g_hook_code, Errc::exhausted);
    EXPECT_STREQ(g_hook_name, "failing");
    // success does not call it
    ASSERT_TRUE(t.start([]() -> Result<void> { return staticrt::ok(); }));
    ASSERT_TRUE(t.join());
    EXPECT_EQ(g_hook_calls.load(), 1);
    EXPECT_EQ(staticrt::set_thread_failure_hook(previous), &record_failure);
}

TEST(Thread, Pin_ToFirstAllowedCpu_Succeeds) {
    staticrt::test::Watchdog wd{10s};
    static TestThread t;
    auto cpus = staticrt::platform::process_affinity();
    ASSERT_TRUE(cpus);
    staticrt::Event go;
    std::atomic<std::size_t> where{staticrt::platform::kMaxCpus};
    const std::size_t first = cpus->first();
    ASSERT_TRUE(t.start([&] {
        (void)go.wait();
        auto c = staticrt::platform::current_cpu();
        if (c) where = *c;
    }));
    EXPECT_TRUE(t.pin(staticrt::platform::CpuSet::single(first)));
    EXPECT_EQ(t.pin(staticrt::platform::CpuSet{}).code(), Errc::invalid_argument);
    go.set();
    ASSERT_TRUE(t.join());
    EXPECT_EQ(where.load(), first);
}

TEST(Thread, Start_WithAffinityOption_RunsThere) {
    staticrt::test::Watchdog wd{10s};
    static TestThread t;
    auto cpus = staticrt::platform::process_affinity();
    ASSERT_TRUE(cpus);
    const auto one = staticrt::platform::CpuSet::single(cpus->first());
    std::size_t where = staticrt::platform::kMaxCpus;
    ASSERT_TRUE(t.start([&] {
        auto c = staticrt::platform::current_cpu();
        if (c) where = *c;
    }, {.affinity = &one}));
    ASSERT_TRUE(t.join());
    EXPECT_EQ(where, cpus->first());
}

TEST(ThreadDeathTest, Join_FromItself_Traps) {
    EXPECT_DEATH(
        {
            static TestThread t;
            static std::atomic<bool> started{false};
            (void)t.start([] {
                while (!started.load()) std::this_thread::yield();
                (void)t.join();
            });
            started = true;
            std::this_thread::sleep_for(5s);
        },
        "called from the thread itself");
}
