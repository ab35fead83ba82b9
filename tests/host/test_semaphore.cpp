// SPDX-License-Identifier: MIT
// Unit tests for staticrt::BasicSemaphore and BasicBoundedSemaphore.
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "staticrt/sync/semaphore.hpp"
#include "eventually.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::BoundedSemaphore;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::Semaphore;

namespace {
constinit BoundedSemaphore g_slots{8};
constinit Semaphore g_sem{0};
}  // namespace

TEST(Semaphore, TryAcquire_CountsDownToZero) {
    Semaphore s{2};
    EXPECT_EQ(s.value(), 2u);
    EXPECT_TRUE(s.try_acquire());
    EXPECT_TRUE(s.try_acquire());
    EXPECT_FALSE(s.try_acquire());
    EXPECT_TRUE(s.release(3));
    EXPECT_EQ(s.value(), 3u);
    EXPECT_TRUE(s.release(0));
}

TEST(Semaphore, Acquire_WhenEmpty_TimesOut) {
    Semaphore s;
    EXPECT_EQ(s.acquire(Deadline::poll()).code(), Errc::timeout);
    EXPECT_EQ(s.acquire(Deadline::after(10ms)).code(), Errc::timeout);
    EXPECT_FALSE(s.try_acquire_for(2ms));
    EXPECT_FALSE(s.try_acquire_until(std::chrono::steady_clock::now() + 2ms));
}

TEST(Semaphore, Release_WakesSleeper) {
    staticrt::test::Watchdog wd{10s};
    std::atomic<bool> got{false};
    std::thread t([&] { got = static_cast<bool>(g_sem.acquire(Deadline::after(10s))); });
    ASSERT_TRUE(staticrt::test::eventually([] { return g_sem.sleepers() == 1; }));  // parked: release takes the wake path
    EXPECT_TRUE(g_sem.release());
    t.join();
    EXPECT_TRUE(got.load());
    EXPECT_EQ(g_sem.value(), 0u);
}

TEST(Semaphore, ReleaseMany_WakesManySleepers) {
    staticrt::test::Watchdog wd{10s};
    Semaphore s;
    std::atomic<int> got{0};
    std::thread ts[3];
    for (auto& t : ts) t = std::thread([&] { if (s.acquire(Deadline::after(10s))) ++got; });
    ASSERT_TRUE(staticrt::test::eventually([&] { return s.sleepers() == 3; }));  // all parked
    EXPECT_TRUE(s.release(3));
    for (auto& t : ts) t.join();
    EXPECT_EQ(got.load(), 3);
}

TEST(Semaphore, Release_BeyondMax_ReturnsOverRelease) {
    Semaphore s{Semaphore::kMax};
    EXPECT_EQ(s.release().code(), Errc::over_release);
    EXPECT_EQ(s.value(), Semaphore::kMax);
}

TEST(Semaphore, Init_Negative_ReturnsInvalidArgument) {
    Semaphore s;
    int user_value = -1;
    EXPECT_EQ(s.init(user_value).code(), Errc::invalid_argument);
    EXPECT_EQ(s.init(std::int64_t{Semaphore::kMax} + 1).code(), Errc::invalid_argument);
    EXPECT_EQ(s.value(), 0u);
    EXPECT_TRUE(s.init(5));
    EXPECT_EQ(s.value(), 5u);
    EXPECT_EQ(s.limit(), Semaphore::kMax);  // init() does not bound a plain Semaphore
    EXPECT_TRUE(s.release(3));
    EXPECT_EQ(s.value(), 8u);
}

TEST(BoundedSemaphore, Release_BeyondInitial_ReturnsOverReleaseAndChangesNothing) {
    EXPECT_EQ(g_slots.limit(), 8u);
    EXPECT_EQ(g_slots.release().code(), Errc::over_release);
    EXPECT_EQ(g_slots.value(), 8u);
    ASSERT_TRUE(g_slots.acquire());
    ASSERT_TRUE(g_slots.acquire());
    EXPECT_EQ(g_slots.release(3).code(), Errc::over_release);
    EXPECT_EQ(g_slots.value(), 6u);
    EXPECT_TRUE(g_slots.release(2));
    EXPECT_EQ(g_slots.value(), 8u);
}

TEST(BoundedSemaphore, Init_Negative_ReturnsInvalidArgument) {
    BoundedSemaphore s;
    EXPECT_EQ(s.limit(), 0u);
    EXPECT_EQ(s.init(-3).code(), Errc::invalid_argument);
    EXPECT_EQ(s.limit(), 0u);
    EXPECT_TRUE(s.init(2));
    EXPECT_EQ(s.limit(), 2u);
    EXPECT_EQ(s.value(), 2u);
    EXPECT_EQ(s.release().code(), Errc::over_release);
}

TEST(BoundedSemaphore, Acquire_WhenExhausted_TimesOutThenSucceedsAfterRelease) {
    staticrt::test::Watchdog wd{10s};
    BoundedSemaphore s{1};
    ASSERT_TRUE(s.acquire());
    EXPECT_EQ(s.acquire(Deadline::after(5ms)).code(), Errc::timeout);
    std::thread t([&] {
        EXPECT_TRUE(staticrt::test::eventually([&] { return s.sleepers() == 1; }));  // the acquirer is parked
        EXPECT_TRUE(s.release());
    });
    EXPECT_TRUE(s.acquire(Deadline::after(10s)));
    t.join();
    EXPECT_TRUE(s.release());
}

// ---- SemaphoreLike: one concept, the same calls and error paths for every semaphore.

namespace {
/// Written against the concept only: works for any of the four semaphores.
template <staticrt::SemaphoreLike S>
std::uint32_t take_all(S& s) {
    std::uint32_t n = 0;
    while (s.acquire(Deadline::poll())) ++n;
    return n;
}
}  // namespace

template <class S>
class SemaphoreLikeTest : public ::testing::Test {};
using SemaphoreTypes = ::testing::Types<staticrt::Semaphore, staticrt::BoundedSemaphore, staticrt::ProcessSemaphore,
                                        staticrt::ProcessBoundedSemaphore>;
TYPED_TEST_SUITE(SemaphoreLikeTest, SemaphoreTypes);

TYPED_TEST(SemaphoreLikeTest, Init_NegativeOrTooLarge_ReturnsInvalidArgumentAndChangesNothing) {
    static_assert(staticrt::SemaphoreLike<TypeParam>);
    TypeParam s{2};
    const std::uint32_t limit = s.limit();
    EXPECT_EQ(s.init(-1).code(), Errc::invalid_argument);
    EXPECT_EQ(s.init(std::int64_t{-1} << 40).code(), Errc::invalid_argument);
    EXPECT_EQ(s.init(std::int64_t{TypeParam::kMax} + 1).code(), Errc::invalid_argument);
    EXPECT_EQ(s.value(), 2u);
    EXPECT_EQ(s.limit(), limit);
}

TYPED_TEST(SemaphoreLikeTest, Init_RunTimeValue_SetsCountAndAcquireTakesIt) {
    TypeParam s;  // count 0 until init()
    EXPECT_FALSE(s.try_acquire());
    const int user_value = 3;  // e.g. parsed from a command line
    ASSERT_TRUE(s.init(user_value));
    EXPECT_EQ(s.value(), 3u);
    EXPECT_EQ(take_all(s), 3u);
    EXPECT_EQ(s.acquire(Deadline::poll()).code(), Errc::timeout);
    EXPECT_TRUE(s.release(3));
    EXPECT_EQ(s.value(), 3u);
    EXPECT_TRUE(s.init(0));
    EXPECT_EQ(s.value(), 0u);
    EXPECT_TRUE(s.init(TypeParam::kMax));
    EXPECT_EQ(s.value(), TypeParam::kMax);
}

TYPED_TEST(SemaphoreLikeTest, Release_PastLimit_ReturnsOverReleaseAndChangesNothing) {
    TypeParam s;
    ASSERT_TRUE(s.init(4));
    ASSERT_TRUE(s.acquire(Deadline::poll()));
    const std::uint32_t room = s.limit() - s.value();  // 1 (bounded) or kMax - 3
    EXPECT_EQ(s.release(room + 1).code(), Errc::over_release);
    EXPECT_EQ(s.value(), 3u);
    EXPECT_TRUE(s.release(room));
    EXPECT_EQ(s.value(), s.limit());
    EXPECT_EQ(s.release().code(), Errc::over_release);
}

TEST(BoundedSemaphore, Init_SetsTheBound) {
    BoundedSemaphore s{5};
    ASSERT_TRUE(s.init(2));
    EXPECT_EQ(s.limit(), 2u);
    ASSERT_TRUE(s.acquire(Deadline::poll()));
    EXPECT_TRUE(s.release());
    EXPECT_EQ(s.release().code(), Errc::over_release);  // the old bound (5) no longer applies
}

TEST(Semaphore, Size_IsCountAndEventCount) {
    EXPECT_EQ(sizeof(Semaphore), 12u);         // count, epoch, waiter count; no stored bound
    EXPECT_EQ(sizeof(BoundedSemaphore), 16u);  // plus the bound
}

// Process-shared flavour across a real process boundary: the child acquires what the parent
// releases through a ProcessSemaphore in MAP_SHARED memory.
TEST(ProcessSemaphore, AcrossFork_ChildAcquiresParentsRelease) {
    staticrt::test::Watchdog wd{30s};
    void* mem = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(mem, MAP_FAILED);
    auto* ping = new (mem) staticrt::ProcessSemaphore{0};
    auto* pong = new (static_cast<char*>(mem) + 64) staticrt::ProcessBoundedSemaphore{1};
    ASSERT_TRUE(pong->acquire());
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        bool ok = true;
        for (int i = 0; i < 100; ++i) {
            ok = ok && static_cast<bool>(ping->acquire(Deadline::after(10s)));
            ok = ok && static_cast<bool>(pong->release());
        }
        ::_exit(ok ? 0 : 1);
    }
    for (int i = 0; i < 100; ++i) {
        ASSERT_TRUE(ping->release());
        ASSERT_TRUE(pong->acquire(Deadline::after(10s)));
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ::munmap(mem, 4096);
}
