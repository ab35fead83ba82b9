// SPDX-License-Identifier: MIT
// platform::heavy_barrier(): availability on this Linux host (membarrier PRIVATE_EXPEDITED,
// kernel >= 4.14) and a Dekker hand-off that pairs it with light_barrier(); the cross-process
// pair (join_system_barrier / system_barrier: membarrier GLOBAL_EXPEDITED, kernel >= 4.16).
#include <gtest/gtest.h>

#include <linux/membarrier.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <new>
#include <thread>

#include "staticrt/detail/wait_policy.hpp"
#include "staticrt/platform/arch.hpp"
#include "staticrt/platform/memory.hpp"
#include "watchdog.hpp"

namespace platform = staticrt::platform;

namespace {
/// Runs child() in a forked child process; the test expects it to return true (exit status 0).
template <class Child>
void expect_forked_child_true(Child&& child) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) ::_exit(child() ? 0 : 1);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}
}  // namespace

// ctest runs each test in a process of its own, so nothing in this one has waited or woken yet:
// the answer must come from the load-time registration (memory.cpp), not from a first call.
// Resolved lazily, the registration waited for an RCU grace period inside the first wake of a
// fresh ThreadPool's workers (the first parallel map ran 5-10x slower on 16 cores).
TEST(HeavyBarrier, ResolvedAtLoad_BeforeAnyCall) {
    EXPECT_TRUE(platform::heavy_barrier_resolved());
}

// A fork() child keeps the parent's cached "available" answer, so it must also keep the kernel
// registration: heavy_barrier() ignores the syscall's result, and an unregistered child's
// PRIVATE_EXPEDITED would fail with EPERM and leave every waiter in it without its barrier.
TEST(HeavyBarrier, ForkChild_InheritsRegistration) {
    if (!platform::heavy_barrier_available()) GTEST_SKIP() << "no membarrier";
    expect_forked_child_true([] {
        const long r = ::syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
        return r == 0 && platform::heavy_barrier_available();
    });
}

TEST(HeavyBarrier, Available_Linux6_True) {
    // The CI hosts run Linux 6.x; under qemu-user the target suite covers the fallback.
    EXPECT_TRUE(platform::heavy_barrier_available());
    EXPECT_TRUE(platform::heavy_barrier_available());  // cached answer is stable
}

TEST(HeavyBarrier, ConcurrentFirstCalls_SameAnswer) {
    const bool first = platform::heavy_barrier_available();
    std::atomic<int> disagreements{0};
    std::thread a([&] { if (platform::heavy_barrier_available() != first) ++disagreements; });
    std::thread b([&] { if (platform::heavy_barrier_available() != first) ++disagreements; });
    a.join();
    b.join();
    EXPECT_EQ(disagreements.load(), 0);
}

// Store-buffer litmus: fast thread "x = 1; light; r1 = y", slow thread "y = 1; heavy; r2 = x".
// With the asymmetric barrier r1 == 0 && r2 == 0 is forbidden.
TEST(HeavyBarrier, StoreBufferLitmus_NeverBothZero) {
    if (!platform::heavy_barrier_available()) GTEST_SKIP() << "no membarrier";
    staticrt::test::Watchdog wd{std::chrono::seconds(120)};
    const long long rounds = staticrt::test::scaled(50000, 2000);
    alignas(128) std::atomic<int> x{0};
    alignas(128) std::atomic<int> y{0};
    alignas(128) std::atomic<int> r1{0}, r2{0};
    std::atomic<long long> go{0}, done{0};
    int both_zero = 0;
    std::thread fast([&] {
        for (long long i = 1; i <= rounds; ++i) {
            while (go.load(std::memory_order_acquire) != i) platform::cpu_relax();
            (void)y.load(std::memory_order_relaxed);  // as in cross_process_litmus below
            x.store(1, std::memory_order_relaxed);
            platform::light_barrier();
            r1.store(y.load(std::memory_order_relaxed), std::memory_order_relaxed);
            done.fetch_add(1, std::memory_order_acq_rel);
        }
    });
    for (long long i = 1; i <= rounds; ++i) {
        x.store(0, std::memory_order_relaxed);
        y.store(0, std::memory_order_relaxed);
        go.store(i, std::memory_order_release);
        for (long long d = 0; d < i % 97; ++d) platform::cpu_relax();
        (void)x.load(std::memory_order_relaxed);
        y.store(1, std::memory_order_relaxed);
        platform::heavy_barrier();
        r2.store(x.load(std::memory_order_relaxed), std::memory_order_relaxed);
        while (done.load(std::memory_order_acquire) != i) {}
        if (r1.load(std::memory_order_relaxed) == 0 && r2.load(std::memory_order_relaxed) == 0) ++both_zero;
    }
    fast.join();
    EXPECT_EQ(both_zero, 0);
}

// ---------------------------------------------------------------- across processes
// platform::join_system_barrier() / system_barrier(): the pair used by process-shared notifies
// (membarrier GLOBAL_EXPEDITED; docs/memory-ordering.md, "## waiting layer").

namespace {
// Linux >= 6.3 answers which registrations the calling process holds; older kernels EINVAL.
constexpr int kCmdGetRegistrations = 1 << 9;

long registrations() { return ::syscall(SYS_membarrier, kCmdGetRegistrations, 0, 0); }

using Policy = staticrt::detail::OsWaitPolicy;
constexpr auto kShared = platform::WaitScope::process_shared;
}  // namespace

TEST(SystemBarrier, Reach_Linux6_JoinedProcesses) {
    EXPECT_EQ(platform::system_barrier_reach(), platform::SystemBarrierReach::joined_processes);
    // Issuing needs no registration.
    EXPECT_TRUE(platform::system_barrier());
}

// ctest runs each test in a process of its own: nothing joined before this test.
TEST(SystemBarrier, Join_KernelRegistered_Idempotent) {
    const bool fresh = !platform::system_barrier_joined();  // false only if the whole binary runs in one process
    const long before = registrations();
    ASSERT_TRUE(platform::join_system_barrier());
    EXPECT_TRUE(platform::system_barrier_joined());
    ASSERT_TRUE(platform::join_system_barrier());  // again: still fine
    EXPECT_TRUE(platform::system_barrier_joined());
    const long after = registrations();
    if (before < 0 || after < 0) GTEST_SKIP() << "kernel cannot list registrations (< 6.3)";
    if (fresh) {
        EXPECT_EQ(before & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0);
    }
    EXPECT_NE(after & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0);
}

// The waiting layer's choice of notify barrier for process-shared objects follows the join: a
// seq_cst fence before (the waiter's system barrier would not reach this process), the
// compiler barrier after, and in a child forked after the join. process_private is unaffected.
TEST(SystemBarrier, PolicyNotify_LightOnlyOnceJoined) {
    (void)Policy::light_notify(platform::WaitScope::process_private);  // the first call may resolve the cache (fence path)
    const bool private_light = Policy::light_notify(platform::WaitScope::process_private);
    EXPECT_EQ(private_light, platform::heavy_barrier_available());
    if (!platform::system_barrier_joined()) {
        EXPECT_FALSE(Policy::light_notify(kShared));
    }
    ASSERT_TRUE(platform::join_system_barrier());
    EXPECT_TRUE(Policy::light_notify(kShared));
    EXPECT_EQ(Policy::light_notify(platform::WaitScope::process_private), private_light);
    expect_forked_child_true([] { return Policy::light_notify(kShared); });
}

// A fork() child keeps the parent's "joined" word, so it must keep the kernel registration too:
// its notifies use light barriers that only the registration makes safe.
TEST(SystemBarrier, ForkChild_InheritsJoin) {
    ASSERT_TRUE(platform::join_system_barrier());
    if (registrations() < 0) GTEST_SKIP() << "kernel cannot list registrations (< 6.3)";
    expect_forked_child_true([] {
        const long r = registrations();
        return r >= 0 && (r & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) != 0 && platform::system_barrier_joined();
    });
}

// Store-buffer litmus across two processes through a MAP_SHARED page: the child runs
// "x = 1; fast(); r1 = y", the parent "y = 1; slow(); r2 = x". r1 == 0 && r2 == 0 is forbidden
// when fast/slow pair. Returns the both-zero count (-1: the child failed). Each side first reads
// the other's word (so that its own load hits while its store waits for the line) and the
// parent starts after a delay that sweeps 0-96 pauses: measured here (2026-12-07, 50000 rounds
// scaled to 20000), a compiler barrier on both sides gave ~280 both-zero rounds, a compiler
// barrier against a seq_cst fence 1-20, against membarrier(GLOBAL_EXPEDITED) 0.
namespace {
template <class Fast, class Slow>
long long cross_process_litmus(bool child_joins, Fast fast, Slow slow) {
    struct Shared {
        alignas(128) std::atomic<int> x{0};
        alignas(128) std::atomic<int> y{0};
        alignas(128) std::atomic<int> r1{0};
        alignas(128) std::atomic<long long> go{0};
        alignas(128) std::atomic<long long> done{0};
    };
    void* const mem = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return -1;
    auto* const s = new (mem) Shared{};
    const long long rounds = staticrt::test::scaled(50000, 2000);
    const pid_t pid = ::fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (child_joins && !platform::join_system_barrier()) ::_exit(2);
        for (long long i = 1; i <= rounds; ++i) {
            while (s->go.load(std::memory_order_acquire) != i) platform::cpu_relax();
            (void)s->y.load(std::memory_order_relaxed);  // y's line cached here: the load below hits
            s->x.store(1, std::memory_order_relaxed);
            fast();
            s->r1.store(s->y.load(std::memory_order_relaxed), std::memory_order_relaxed);
            s->done.store(i, std::memory_order_release);
        }
        ::_exit(0);
    }
    long long both_zero = 0;
    for (long long i = 1; i <= rounds; ++i) {
        s->x.store(0, std::memory_order_relaxed);
        s->y.store(0, std::memory_order_relaxed);
        s->go.store(i, std::memory_order_release);
        for (long long d = 0; d < i % 97; ++d) platform::cpu_relax();  // sweep the start offset
        (void)s->x.load(std::memory_order_relaxed);  // x's line cached here
        s->y.store(1, std::memory_order_relaxed);
        slow();
        const int r2 = s->x.load(std::memory_order_relaxed);
        while (s->done.load(std::memory_order_acquire) != i) {}
        if (s->r1.load(std::memory_order_relaxed) == 0 && r2 == 0) ++both_zero;
    }
    int status = 0;
    const bool child_ok = ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    ::munmap(mem, sizeof(Shared));
    return child_ok ? both_zero : -1;
}
}  // namespace

// The platform pair: a joined child's light barrier against the parent's system barrier (the
// parent did not join: issuing needs no registration). With a seq_cst fence in place of the
// system barrier, both-zero rounds appear here (mutant sysbarrier-no-syscall).
TEST(SystemBarrier, CrossProcessStoreBufferLitmus_JoinedLight_NeverBothZero) {
    staticrt::test::Watchdog wd{std::chrono::seconds(120)};
    EXPECT_EQ(cross_process_litmus(true, [] { platform::light_barrier(); }, [] { (void)platform::system_barrier(); }), 0);
}

// The waiting layer's pair for process-shared objects (OsWaitPolicy::notifier_fence /
// waiter_fence), notifier joined and not joined: each must pair with the waiter's half.
TEST(SystemBarrier, CrossProcessStoreBufferLitmus_PolicyPair_NotifierJoined_NeverBothZero) {
    staticrt::test::Watchdog wd{std::chrono::seconds(120)};
    EXPECT_EQ(cross_process_litmus(true, [] { Policy::notifier_fence(kShared); }, [] { Policy::waiter_fence(kShared); }), 0);
}
TEST(SystemBarrier, CrossProcessStoreBufferLitmus_PolicyPair_NotifierNotJoined_NeverBothZero) {
    staticrt::test::Watchdog wd{std::chrono::seconds(120)};
    EXPECT_EQ(cross_process_litmus(false, [] { Policy::notifier_fence(kShared); }, [] { Policy::waiter_fence(kShared); }), 0);
}
