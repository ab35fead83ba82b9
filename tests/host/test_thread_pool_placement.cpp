// SPDX-License-Identifier: MIT
// Host: ThreadPool's default placement with a caller pinned to one CPU (issue 15). Linux host
// view of the doctest case in tests/target/test_thread_pool_placement.cpp, plus the SMT-aware
// part: the worker avoids the caller's whole physical core, not only its CPU, and a caller pinned
// to a set of CPUs (not just one) keeps workers off all of them.
#include <gtest/gtest.h>

#include <cstddef>
#include <memory>
#include <thread>

#include "staticrt/exec/thread_pool.hpp"
#include "staticrt/platform/cpu.hpp"

using staticrt::CpuSet;
namespace platform = staticrt::platform;

namespace {

constexpr std::size_t kNone = platform::kMaxCpus;

std::size_t core_of(std::size_t cpu) {
    auto t = platform::topology(cpu);
    return t ? t->core_index : kNone;
}

struct Placement {
    bool pinned = false;
    bool started = false;
    bool shares = false;
    std::size_t cpu[2] = {kNone, kNone};
};

/// Starts ThreadPool<Workers> (Workers <= 2) from a thread pinned to `caller`.
template <std::size_t Workers>
Placement place_from(const CpuSet& caller) {
    Placement p;
    std::thread t([&] {
        if (!platform::pin_current_thread(caller)) return;
        p.pinned = true;
        auto pool = std::make_unique<staticrt::ThreadPool<Workers, 16, staticrt::kDefaultPoolStackBytes, 64, 16>>();
        if (!pool->start({})) return;
        p.started = true;
        p.shares = pool->shares_caller_cpu();
        for (std::size_t i = 0; i < Workers; ++i) p.cpu[i] = pool->stats(i).cpu;
        (void)pool->shutdown(staticrt::ShutdownMode::drain);
    });
    t.join();
    return p;
}

}  // namespace

TEST(ThreadPoolPlacement, CallerPinnedToCpu0_OneWorkerPinnedElsewhere) {
    auto aff = platform::process_affinity();
    ASSERT_TRUE(aff);
    auto cores = platform::physical_core_cpus();
    ASSERT_TRUE(cores);
    if (cores->count() < 2) GTEST_SKIP() << "fewer than two physical cores in the affinity";
    const std::size_t caller = aff->first();  // CPU 0 on an unrestricted machine, like the peer program
    const Placement p = place_from<1>(CpuSet::single(caller));
    ASSERT_TRUE(p.pinned);
    ASSERT_TRUE(p.started);
    EXPECT_NE(p.cpu[0], kNone);
    EXPECT_NE(p.cpu[0], caller);
    EXPECT_NE(core_of(p.cpu[0]), core_of(caller)) << "worker on the caller's SMT sibling";
    EXPECT_TRUE(cores->contains(p.cpu[0]));
    EXPECT_FALSE(p.shares);
}

TEST(ThreadPoolPlacement, CallerPinnedToEveryCpuButTheLastCore_WorkerOnTheLastCore) {
    auto aff = platform::process_affinity();
    ASSERT_TRUE(aff);
    auto cores = platform::physical_core_cpus();
    ASSERT_TRUE(cores);
    if (cores->count() < 2) GTEST_SKIP() << "fewer than two physical cores in the affinity";
    // The caller may run on every CPU except those of the highest core: a strict subset, not one CPU.
    const std::size_t last = cores->nth(cores->count() - 1);
    CpuSet caller;
    for (std::size_t c = aff->first(); c < kNone; c = aff->next(c + 1))
        if (core_of(c) != core_of(last)) caller.add(c);
    ASSERT_FALSE(caller.empty());
    const Placement p = place_from<2>(caller);
    ASSERT_TRUE(p.pinned);
    ASSERT_TRUE(p.started);
    EXPECT_EQ(p.cpu[0], last);             // the only core the caller cannot use comes first
    EXPECT_EQ(p.shares, true);             // worker 1 wraps onto the caller's cores and says so
    EXPECT_TRUE(caller.contains(p.cpu[1]));
}

TEST(ThreadPoolPlacement, PinFalse_NothingPinnedNothingShared) {
    auto aff = platform::process_affinity();
    ASSERT_TRUE(aff);
    Placement p;
    std::thread t([&] {
        if (!platform::pin_current_thread(CpuSet::single(aff->first()))) return;
        p.pinned = true;
        auto pool = std::make_unique<staticrt::ThreadPool<1, 16, staticrt::kDefaultPoolStackBytes, 64, 16>>();
        staticrt::ThreadPoolOptions o;
        o.pin = false;
        if (!pool->start(o)) return;
        p.started = true;
        p.shares = pool->shares_caller_cpu();
        p.cpu[0] = pool->stats(0).cpu;
        (void)pool->shutdown(staticrt::ShutdownMode::drain);
    });
    t.join();
    ASSERT_TRUE(p.pinned);
    ASSERT_TRUE(p.started);
    EXPECT_EQ(p.cpu[0], kNone);
    EXPECT_FALSE(p.shares);
}

TEST(ThreadPoolPlacement, FloatingCallerOnOneCpu_WorkerStartsElsewhere) {
    // A caller that is not pinned but runs on CPU c when it calls start(): the default placement
    // keeps ThreadPool<1>'s worker off c's core (the peer program's parallel_map case: a forked,
    // unpinned child that often runs on CPU 0). The caller is pinned only to read current_cpu()
    // reliably, then unpinned again before start().
    auto aff = platform::process_affinity();
    ASSERT_TRUE(aff);
    auto cores = platform::physical_core_cpus();
    ASSERT_TRUE(cores);
    if (cores->count() < 2) GTEST_SKIP() << "fewer than two physical cores in the affinity";
    const std::size_t c0 = aff->first();
    Placement p;
    std::thread t([&] {
        if (!platform::pin_current_thread(CpuSet::single(c0))) return;
        // Widen back to everything: the kernel keeps the thread on c0 until something moves it.
        if (!platform::pin_current_thread(*aff)) return;
        p.pinned = true;
        auto pool = std::make_unique<staticrt::ThreadPool<1, 16, staticrt::kDefaultPoolStackBytes, 64, 16>>();
        auto before = platform::current_cpu();  // read around start(): the thread could move
        if (!pool->start({})) return;
        auto after = platform::current_cpu();
        p.started = true;
        p.shares = pool->shares_caller_cpu();
        p.cpu[0] = pool->stats(0).cpu;
        p.cpu[1] = (before && after && *before == *after) ? *before : kNone;
        (void)pool->shutdown(staticrt::ShutdownMode::drain);
    });
    t.join();
    ASSERT_TRUE(p.pinned);
    ASSERT_TRUE(p.started);
    EXPECT_FALSE(p.shares);  // not reported for a floating caller
    EXPECT_TRUE(cores->contains(p.cpu[0]));
    // Where the caller ran on c0 just before and just after start() (nearly always), the worker is elsewhere.
    if (p.cpu[1] == c0) {
        EXPECT_NE(core_of(p.cpu[0]), core_of(c0));
    }
}
