// SPDX-License-Identifier: MIT
// Conformance: CPU counts, topology, CpuSet, process affinity, pinning, current CPU.
// Portable: runs natively, under qemu-user (aarch64, armhf) and under wine.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "staticrt/platform/cpu.hpp"
#include "watchdog.hpp"

using staticrt::CpuSet;
using staticrt::Errc;
namespace platform = staticrt::platform;

TEST_CASE("CpuSet_AddRemoveQuery_BehavesLikeABitset") {
    constexpr CpuSet s = [] {
        CpuSet x;
        x.add(0);
        x.add(63);
        x.add(64);
        x.add(1023);
        return x;
    }();
    static_assert(s.count() == 4, "CpuSet is usable in constant expressions");
    CHECK(s.contains(0));
    CHECK(s.contains(63));
    CHECK(s.contains(64));
    CHECK(s.contains(1023));
    CHECK_FALSE(s.contains(1));
    CHECK_FALSE(s.contains(platform::kMaxCpus));
    CHECK(s.first() == 0);
    CHECK(s.next(1) == 63);
    CHECK(s.next(65) == 1023);
    CHECK(s.nth(2) == 64);
    CHECK(s.nth(4) == platform::kMaxCpus);
    CHECK(s.word(1) == 1u);
    CHECK(CpuSet{}.empty());
    CHECK(CpuSet{}.first() == platform::kMaxCpus);

    CpuSet t = s;
    CHECK_FALSE(t.add(platform::kMaxCpus));
    CHECK(t == s);
    t.remove(63);
    CHECK(t.count() == 3);
    CHECK((s & t) == t);
    CHECK((s | t) == s);
    CHECK(CpuSet::range(2, 5).count() == 3);
    CHECK(CpuSet::range(2, 5).first() == 2);
    CHECK(CpuSet::single(7).nth(0) == 7);
    CHECK(sizeof(CpuSet) == platform::kMaxCpus / 8);
}

TEST_CASE("CpuCounts_Always_AtLeastOneAndPhysicalNotAboveLogical") {
    const std::size_t logical = platform::logical_cpu_count();
    const std::size_t physical = platform::physical_cpu_count();
    CHECK(logical >= 1);
    CHECK(physical >= 1);
    CHECK(physical <= logical);
}

TEST_CASE("ProcessAffinity_Always_NonEmptyAndTopologyKnown") {
    auto aff = platform::process_affinity();
    REQUIRE(aff);
    CHECK_FALSE(aff->empty());
    CHECK(aff->count() <= platform::logical_cpu_count());
    for (std::size_t c = aff->first(); c < platform::kMaxCpus; c = aff->next(c + 1)) {
        auto t = platform::topology(c);
        REQUIRE(t);
        CHECK(t->core_index < platform::physical_cpu_count());
        CHECK(t->smt_index < platform::logical_cpu_count());
        auto g = platform::to_group(c);
        REQUIRE(g);
        CHECK(__builtin_popcountll(g->mask) == 1);
    }
}

TEST_CASE("Topology_SameCoreIndex_SamePackageAndCoreAndDistinctSmtIndex") {
    auto aff = platform::process_affinity();
    REQUIRE(aff);
    for (std::size_t a = aff->first(); a < platform::kMaxCpus; a = aff->next(a + 1)) {
        for (std::size_t b = aff->next(a + 1); b < platform::kMaxCpus; b = aff->next(b + 1)) {
            auto ta = platform::topology(a);
            auto tb = platform::topology(b);
            REQUIRE(ta);
            REQUIRE(tb);
            if (ta->core_index == tb->core_index) {
                CHECK(ta->package == tb->package);
                CHECK(ta->smt_index != tb->smt_index);
            }
        }
    }
}

TEST_CASE("PhysicalCoreCpus_Always_SubsetOfAffinityOnePerCore") {
    auto aff = platform::process_affinity();
    auto prim = platform::physical_core_cpus();
    REQUIRE(aff);
    REQUIRE(prim);
    CHECK_FALSE(prim->empty());
    CHECK((*prim & *aff) == *prim);
    CHECK(prim->count() <= platform::physical_cpu_count());
    // no two CPUs of the result share a core
    for (std::size_t a = prim->first(); a < platform::kMaxCpus; a = prim->next(a + 1))
        for (std::size_t b = prim->next(a + 1); b < platform::kMaxCpus; b = prim->next(b + 1))
            CHECK(platform::topology(a)->core_index != platform::topology(b)->core_index);
}

TEST_CASE("Topology_CpuBeyondMax_NoSuchCpu") {
    CHECK(platform::topology(platform::kMaxCpus).code() == Errc::no_such_cpu);
    CHECK(platform::topology(static_cast<std::size_t>(-1)).code() == Errc::no_such_cpu);
    CHECK(platform::to_group(platform::kMaxCpus).code() == Errc::no_such_cpu);
}

TEST_CASE("ToGroup_CpuZero_GroupZeroBitZero") {
    auto g = platform::to_group(0);
    REQUIRE(g);
    CHECK(g->group == 0);
    CHECK(g->mask == 1u);
}

TEST_CASE("CurrentCpu_Always_InsideProcessAffinity") {
    auto aff = platform::process_affinity();
    auto cpu = platform::current_cpu();
    REQUIRE(aff);
    REQUIRE(cpu);
    CHECK(aff->contains(*cpu));
}

TEST_CASE("PinCurrentThread_EachAllowedCpu_CurrentCpuMatches") {
    staticrt::test::Watchdog wd{std::chrono::seconds(60), "PinCurrentThread_EachAllowedCpu"};
    auto aff = platform::process_affinity();
    REQUIRE(aff);
    std::atomic<int> failures{0};
    std::atomic<int> pinned{0};
    // A separate thread so the test runner's main thread keeps its affinity.
    std::thread t([&] {
        for (std::size_t c = aff->first(); c < platform::kMaxCpus; c = aff->next(c + 1)) {
            if (!platform::pin_current_thread(CpuSet::single(c))) {
                failures.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            pinned.fetch_add(1, std::memory_order_relaxed);
            auto now = platform::current_cpu();
            if (!now || *now != c) failures.fetch_add(1, std::memory_order_relaxed);
        }
        // back to every allowed CPU
        if (!platform::pin_current_thread(*aff)) failures.fetch_add(1, std::memory_order_relaxed);
    });
    t.join();
    CHECK(failures.load() == 0);
    CHECK(static_cast<std::size_t>(pinned.load()) == aff->count());
}

TEST_CASE("PinCurrentThread_CpuOutsideAffinity_NoSuchCpu") {
    auto aff = platform::process_affinity();
    REQUIRE(aff);
    REQUIRE_FALSE(aff->contains(platform::kMaxCpus - 1));  // no test machine has 1024 CPUs
    std::thread t([] {
        CHECK(platform::pin_current_thread(CpuSet::single(platform::kMaxCpus - 1)).code() == Errc::no_such_cpu);
        // a set mixing a valid and an invalid CPU is refused as a whole
        CpuSet mixed = CpuSet::single(platform::kMaxCpus - 1);
        mixed.add(platform::process_affinity()->first());
        CHECK(platform::pin_current_thread(mixed).code() == Errc::no_such_cpu);
    });
    t.join();
}

TEST_CASE("PinCurrentThread_EmptySet_InvalidArgument") {
    CHECK(platform::pin_current_thread(CpuSet{}).code() == Errc::invalid_argument);
}
