// SPDX-License-Identifier: MIT
// Unit tests for detail::EventCount, the waiting primitive under every blocking structure:
// no lost wake-up (ping-pong where each notify races the other side's registration),
// notify_all wakes every registered waiter, notify_one without waiters costs nothing visible,
// timeouts, wait_for's settle values, and process_shared scope across a fork (with and without
// the system barrier joined; a process refused membarrier re-checks its sleeps).
#include <gtest/gtest.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <new>
#include <thread>

#include "eventually.hpp"
#include "staticrt/detail/event_count.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::detail::Attempt;
using staticrt::detail::EventCount;
using staticrt::detail::OsWaitPolicy;
using staticrt::platform::WaitScope;

namespace {

/// Waits until `flag` reads `want`, with the low-level prepare / commit / cancel calls.
template <class Ev>
bool wait_until_value(Ev& ev, const std::atomic<std::uint32_t>& flag, std::uint32_t want, Deadline d) {
    auto key = ev.prepare_wait();
    bool got = true;
    while (flag.load(std::memory_order_acquire) != want) {
        if (auto r = ev.commit_wait(key, d); !r && r.code() == Errc::timeout &&
                                             flag.load(std::memory_order_acquire) != want) {
            got = false;
            break;
        }
    }
    ev.cancel_wait();
    return got;
}

template <WaitScope Scope>
void ping_pong(int rounds) {
    staticrt::test::Watchdog wd{120s, "event count ping-pong"};
    EventCount<OsWaitPolicy, Scope> to_b, to_a;
    std::atomic<std::uint32_t> ball{0};  // odd: b's turn, even: a's turn
    std::thread b([&] {
        for (int i = 0; i < rounds; ++i) {
            ASSERT_TRUE(wait_until_value(to_b, ball, 2u * static_cast<std::uint32_t>(i) + 1, Deadline::never()));
            ball.store(2u * static_cast<std::uint32_t>(i) + 2, std::memory_order_release);
            to_a.notify_one();
        }
    });
    for (int i = 0; i < rounds; ++i) {
        ball.store(2u * static_cast<std::uint32_t>(i) + 1, std::memory_order_release);
        to_b.notify_one();
        ASSERT_TRUE(wait_until_value(to_a, ball, 2u * static_cast<std::uint32_t>(i) + 2, Deadline::never()));
    }
    b.join();
    EXPECT_EQ(ball.load(), 2u * static_cast<std::uint32_t>(rounds));
    EXPECT_EQ(to_a.waiters(), 0u);
    EXPECT_EQ(to_b.waiters(), 0u);
}

}  // namespace

// A lost wake-up hangs a round (no timed backstop) and the watchdog fails the test.
TEST(EventCount, PingPong_NoLostWakeup_Private) { ping_pong<WaitScope::process_private>(20000); }
TEST(EventCount, PingPong_NoLostWakeup_Shared) { ping_pong<WaitScope::process_shared>(20000); }

TEST(EventCount, NotifyAll_WakesEveryRegisteredWaiter) {
    staticrt::test::Watchdog wd{30s};
    EventCount<> ev;
    std::atomic<std::uint32_t> go{0};
    std::atomic<int> woke{0};
    std::thread ts[4];
    for (auto& t : ts) t = std::thread([&] {
        if (wait_until_value(ev, go, 1, Deadline::never())) woke.fetch_add(1);
    });
    ASSERT_TRUE(staticrt::test::eventually([&] { return ev.waiters() == 4; }));  // all registered
    go.store(1, std::memory_order_release);
    ev.notify_all();
    for (auto& t : ts) t.join();
    EXPECT_EQ(woke.load(), 4);
    EXPECT_EQ(ev.waiters(), 0u);
}

TEST(EventCount, WakeAll_WithoutWaiterCount_StillBumpsTheEpoch) {
    staticrt::test::Watchdog wd{30s};
    EventCount<> ev;
    auto key = ev.prepare_wait();
    const auto before = key;
    ev.wake_all();  // unconditional: a key taken before it no longer matches
    EXPECT_TRUE(ev.commit_wait(key, Deadline::never()));  // returns at once: the epoch moved
    EXPECT_NE(key, before);                               // refreshed for the next round
    ev.cancel_wait();
}

TEST(EventCount, NotifyWithoutWaiters_LeavesTheEpoch) {
    EventCount<> ev;
    ev.notify_one();
    ev.notify_all();
    auto key = ev.prepare_wait();
    const auto before = key;
    // Nobody notified after the key: the epoch stays, and a poll finds it unchanged.
    (void)ev.commit_wait(key, Deadline::after(2ms));  // timeout, or a spurious return
    EXPECT_EQ(key, before);
    EXPECT_EQ(ev.commit_wait(key, Deadline::poll()).code(), Errc::timeout);
    ev.cancel_wait();
    EXPECT_EQ(ev.waiters(), 0u);
}

TEST(EventCount, WaitFor_SettlesOrTimesOut) {
    EventCount<> ev;
    EXPECT_TRUE(ev.wait_for([]() noexcept { return Attempt::done; }, Deadline::never()));
    EXPECT_EQ(ev.wait_for([]() noexcept { return Attempt::closed; }, Deadline::never()).code(), Errc::closed);
    EXPECT_EQ(ev.wait_for([]() noexcept { return Attempt::corrupted; }, Deadline::never()).code(), Errc::corrupted);
    int calls = 0;
    EXPECT_EQ(ev.wait_for([&]() noexcept { ++calls; return Attempt::would_block; }, Deadline::poll()).code(),
              Errc::timeout);
    EXPECT_EQ(calls, 1);  // a poll deadline tries once
    EXPECT_EQ(ev.wait_for([]() noexcept { return Attempt::would_block; }, Deadline::after(3ms)).code(),
              Errc::timeout);
    EXPECT_EQ(ev.wait_for([]() noexcept { return Attempt::would_block; }, Deadline::after(3ms),
                          staticrt::detail::kNoSpin).code(),
              Errc::timeout);
    EXPECT_EQ(ev.waiters(), 0u);
}

TEST(EventCount, WaitFor_WokenByNotify) {
    staticrt::test::Watchdog wd{30s};
    EventCount<> ev;
    std::atomic<std::uint32_t> flag{0};
    std::thread t([&] {
        EXPECT_TRUE(ev.wait_for(
            [&]() noexcept { return flag.load(std::memory_order_acquire) != 0 ? Attempt::done : Attempt::would_block; },
            Deadline::never()));
    });
    ASSERT_TRUE(staticrt::test::eventually([&] { return ev.waiters() == 1; }));
    flag.store(1, std::memory_order_release);
    ev.notify_one();
    t.join();
}

// process_shared: the EventCount lives in a MAP_SHARED page; the child waits, the parent
// notifies once the child is registered.
TEST(EventCount, ProcessShared_WakesAcrossFork) {
    staticrt::test::Watchdog wd{30s};
    struct Shared {
        EventCount<OsWaitPolicy, WaitScope::process_shared> ev;
        std::atomic<std::uint32_t> flag{0};
    };
    void* mem = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(mem, MAP_FAILED);
    auto* sh = ::new (mem) Shared();
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        const bool got = wait_until_value(sh->ev, sh->flag, 1, Deadline::after(20s));
        ::_exit(got ? 0 : 1);
    }
    ASSERT_TRUE(staticrt::test::eventually([&] { return sh->ev.waiters() == 1; }));
    sh->flag.store(1, std::memory_order_release);
    sh->ev.notify_all();
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    ::munmap(mem, sizeof(Shared));
}

// Cross-process ping-pong through two process_shared EventCounts, every hand-off racing the other
// side's registration: a process that joined the system barrier notifies with a compiler
// barrier only, and its partner's system_barrier() must still reach it (no lost wake-up: each
// wait has a 10 s deadline, a lost one fails the round). Both joined, only one joined, neither.
namespace {
void cross_process_ping_pong(bool parent_joins, bool child_joins) {
    staticrt::test::Watchdog wd{120s, "cross-process event count ping-pong"};
    if ((parent_joins || child_joins) &&
        staticrt::platform::system_barrier_reach() != staticrt::platform::SystemBarrierReach::joined_processes) {
        GTEST_SKIP() << "no system barrier here";
    }
    struct Shared {
        EventCount<OsWaitPolicy, WaitScope::process_shared> to_child, to_parent;
        alignas(128) std::atomic<std::uint32_t> ball{0};  // odd: the child's turn, even: the parent's
    };
    void* mem = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(mem, MAP_FAILED);
    auto* sh = ::new (mem) Shared();
    const auto rounds = static_cast<std::uint32_t>(staticrt::test::scaled(20000, 500));
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        if (child_joins && !staticrt::platform::join_system_barrier()) ::_exit(2);
        for (std::uint32_t i = 0; i < rounds; ++i) {
            if (!wait_until_value(sh->to_child, sh->ball, 2 * i + 1, Deadline::after(10s))) ::_exit(1);
            sh->ball.store(2 * i + 2, std::memory_order_release);
            sh->to_parent.notify_one();
        }
        ::_exit(0);
    }
    if (parent_joins) {
        ASSERT_TRUE(staticrt::platform::join_system_barrier());
    }
    std::uint32_t lost = 0;
    for (std::uint32_t i = 0; i < rounds && lost == 0; ++i) {
        sh->ball.store(2 * i + 1, std::memory_order_release);
        sh->to_child.notify_one();
        if (!wait_until_value(sh->to_parent, sh->ball, 2 * i + 2, Deadline::after(10s))) ++lost;
    }
    int status = 0;
    if (lost != 0) ::kill(pid, SIGKILL);
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_EQ(lost, 0u);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    ::munmap(mem, sizeof(Shared));
}
}  // namespace

TEST(EventCount, ProcessShared_PingPong_BothJoined_NoLostWakeUp) { cross_process_ping_pong(true, true); }
TEST(EventCount, ProcessShared_PingPong_ChildJoinedOnly_NoLostWakeUp) { cross_process_ping_pong(false, true); }
TEST(EventCount, ProcessShared_PingPong_NeitherJoined_NoLostWakeUp) { cross_process_ping_pong(false, false); }

// A process that may not issue membarrier (a seccomp filter here; an emulator elsewhere) cannot
// reach a joined notifier's CPU, so its process-shared sleeps re-check every 10 ms
// (OsWaitPolicy::wait_registered): a wait on a word nobody changes returns as a spurious wake
// after about that long, never as the caller's timeout, and the caller's own deadline still holds.
TEST(EventCount, ProcessShared_MembarrierDenied_SleepsRecheckEvery10ms) {
    staticrt::test::Watchdog wd{60s};
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        sock_filter filter[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_membarrier, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) ::_exit(10);
        namespace platform = staticrt::platform;
        const auto reach = platform::system_barrier_reach();
        // Answered before the fork (the whole binary in one process, not ctest's one per test).
        if (reach == platform::SystemBarrierReach::joined_processes) ::_exit(17);
        if (reach != platform::SystemBarrierReach::not_from_here) ::_exit(11);
        if (platform::join_system_barrier().code() != Errc::not_supported) ::_exit(12);
        OsWaitPolicy::atomic<std::uint32_t> word{7};
        // Nobody changes the word: the first return is the 10 ms re-check, reported as a wake.
        auto t0 = std::chrono::steady_clock::now();
        auto r = OsWaitPolicy::wait_registered(word, 7, Deadline::after(5s), WaitScope::process_shared);
        auto waited = std::chrono::steady_clock::now() - t0;
        if (!r) ::_exit(13);
        if (waited < 5ms || waited > 2s) ::_exit(14);
        // A deadline shorter than the re-check is the caller's timeout, on time.
        t0 = std::chrono::steady_clock::now();
        r = OsWaitPolicy::wait_registered(word, 7, Deadline::after(2ms), WaitScope::process_shared);
        waited = std::chrono::steady_clock::now() - t0;
        if (r.code() != Errc::timeout || waited > 1s) ::_exit(15);
        // process_private is not capped: it sleeps to its deadline.
        t0 = std::chrono::steady_clock::now();
        r = OsWaitPolicy::wait_registered(word, 7, Deadline::after(50ms), WaitScope::process_private);
        waited = std::chrono::steady_clock::now() - t0;
        if (r.code() != Errc::timeout || waited < 45ms) ::_exit(16);
        ::_exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 17) GTEST_SKIP() << "the reach was cached before the fork";
    EXPECT_EQ(WEXITSTATUS(status), 0) << "10: seccomp refused, 11: reach, 12: join, 13-16: the sleeps (see the test)";
}
