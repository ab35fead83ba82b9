// SPDX-License-Identifier: MIT
// Conformance: the flat CPU index <-> processor group mapping (to_group) and pinning through it.
//
// On Windows a flat index is (group, bit): the sum of the active CPUs of lower groups plus the
// bit. On Linux there are no groups and the mapping is a pure renumbering. The properties below
// hold on every OS: every CPU the process may use has exactly one (group, bit), no two CPUs share
// one, the numbering is ordered, and indices past the machine are Errc::no_such_cpu.
#include <doctest/doctest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>

#include "staticrt/platform/cpu.hpp"
#include "staticrt/platform/thread.hpp"
#include "skip.hpp"
#include "watchdog.hpp"

using staticrt::CpuSet;
using staticrt::Errc;
namespace platform = staticrt::platform;

namespace {

int bit_count(std::uint64_t m) {
    int n = 0;
    for (; m != 0; m &= m - 1) ++n;
    return n;
}

}  // namespace

TEST_CASE("ToGroup_EveryCpuOfProcessAffinity_HasOneDistinctGroupBit") {
    auto cpus = platform::process_affinity();
    REQUIRE(cpus);
    REQUIRE_FALSE(cpus->empty());
    CHECK(cpus->count() <= platform::logical_cpu_count());

    std::uint16_t prev_group = 0;
    std::uint64_t prev_mask = 0;
    bool have_prev = false;
    for (std::size_t cpu = cpus->first(); cpu < platform::kMaxCpus; cpu = cpus->next(cpu + 1)) {
        CAPTURE(cpu);
        CHECK(cpu < platform::logical_cpu_count());
        auto g = platform::to_group(cpu);
        REQUIRE(g);
        CHECK(bit_count(g->mask) == 1);  // exactly one bit: one CPU
        if (have_prev) {
            // Ascending flat index -> ascending (group, bit): distinct, and groups in order.
            const bool later = g->group > prev_group || (g->group == prev_group && g->mask > prev_mask);
            CHECK(later);
        }
        prev_group = g->group;
        prev_mask = g->mask;
        have_prev = true;
    }
}

TEST_CASE("ToGroup_EveryCpuOfMachine_IsDistinctWithinItsGroup") {
    const std::size_t n = platform::logical_cpu_count();
    REQUIRE(n >= 1);
    std::uint16_t prev_group = 0;
    std::uint64_t prev_mask = 0;
    for (std::size_t cpu = 0; cpu < n; ++cpu) {
        CAPTURE(cpu);
        auto g = platform::to_group(cpu);
        REQUIRE(g);
        REQUIRE(bit_count(g->mask) == 1);
        if (cpu > 0) CHECK((g->group > prev_group || (g->group == prev_group && g->mask > prev_mask)));
        prev_group = g->group;
        prev_mask = g->mask;
    }
}

TEST_CASE("ToGroup_BeyondMachine_ReturnsNoSuchCpu") {
#if defined(_WIN32)
    // Windows numbers active CPUs densely. (Linux may also map configured-but-offline CPUs.)
    CHECK(platform::to_group(platform::logical_cpu_count()).code() == Errc::no_such_cpu);
#endif
    CHECK(platform::to_group(platform::kMaxCpus).code() == Errc::no_such_cpu);
    CHECK(platform::to_group(static_cast<std::size_t>(-1)).code() == Errc::no_such_cpu);
}

TEST_CASE("PinCurrentThread_SingleCpu_CurrentCpuIsThatCpu") {
    staticrt::test::Watchdog wd{std::chrono::seconds(30), "PinCurrentThread_SingleCpu_CurrentCpuIsThatCpu"};
    auto cpus = platform::process_affinity();
    REQUIRE(cpus);
    // In a helper thread, so the test runner's own thread keeps its affinity.
    for (std::size_t cpu = cpus->first(); cpu < platform::kMaxCpus; cpu = cpus->next(cpu + 1)) {
        CAPTURE(cpu);
        std::atomic<int> pinned{-1};
        std::atomic<std::size_t> seen{platform::kMaxCpus};
        std::thread t([&] {
            pinned.store(platform::pin_current_thread(CpuSet::single(cpu)) ? 1 : 0);
            // The scheduler moves the thread at its next opportunity: give it a few.
            for (int i = 0; i < 1000; ++i) {
                auto now = platform::current_cpu();
                if (now && *now == cpu) { seen.store(*now); return; }
                platform::yield_now();
            }
            auto now = platform::current_cpu();
            seen.store(now ? *now : platform::kMaxCpus);
        });
        t.join();
        CHECK(pinned.load() == 1);
        CHECK(seen.load() == cpu);
    }
}

TEST_CASE("PinCurrentThread_CpuOutsideAffinityOrEmpty_IsRefused") {
    auto cpus = platform::process_affinity();
    REQUIRE(cpus);
    std::size_t outside = 0;  // the lowest index the process may not use (kMaxCpus - 1 at most)
    while (outside + 1 < platform::kMaxCpus && cpus->contains(outside)) ++outside;
    std::thread t([&] {
        CHECK(platform::pin_current_thread(CpuSet{}).code() == Errc::invalid_argument);
        if (!cpus->contains(outside)) {
            CpuSet mixed = CpuSet::single(cpus->first());
            (void)mixed.add(outside);
            CHECK(platform::pin_current_thread(CpuSet::single(outside)).code() == Errc::no_such_cpu);
            CHECK(platform::pin_current_thread(mixed).code() == Errc::no_such_cpu);
        }
    });
    t.join();
}

TEST_CASE("PinCurrentThread_CpusInTwoGroups_IsOkOrInvalidArgument") {
    // Only meaningful where the process spans two processor groups (> 64 CPUs). Windows runs a
    // thread in one group at a time (invalid_argument); Linux has no such limit (ok).
    auto cpus = platform::process_affinity();
    REQUIRE(cpus);
    const std::size_t first = cpus->first();
    auto g0 = platform::to_group(first);
    REQUIRE(g0);
    std::size_t other = platform::kMaxCpus;
    for (std::size_t cpu = cpus->next(first + 1); cpu < platform::kMaxCpus; cpu = cpus->next(cpu + 1)) {
        auto g = platform::to_group(cpu);
        REQUIRE(g);
        if (g->group != g0->group) { other = cpu; break; }
    }
    if (other == platform::kMaxCpus) {
        // One group: a set of two CPUs of it is an ordinary pin, accepted everywhere.
        const std::size_t second = cpus->next(first + 1);
        if (second < platform::kMaxCpus) {
            std::thread t([&] {
                CpuSet two = CpuSet::single(first);
                (void)two.add(second);
                CHECK(platform::pin_current_thread(two));
            });
            t.join();
        }
        STATICRT_SKIP("one-cpu-group", "the process spans one processor group (<= 64 CPUs): no two-group set to pin");
    }
    std::thread t([&] {
        CpuSet two = CpuSet::single(first);
        (void)two.add(other);
        const Errc rc = platform::pin_current_thread(two).code();
#if defined(_WIN32)
        CHECK(rc == Errc::invalid_argument);
#else
        CHECK((rc == Errc::ok || rc == Errc::invalid_argument));
#endif
    });
    t.join();
}

TEST_CASE("Topology_EveryCpuOfMachine_HasACoreBelowPhysicalCount") {
    const std::size_t n = platform::logical_cpu_count();
    const std::size_t cores = platform::physical_cpu_count();
    REQUIRE(cores >= 1);
    CHECK(cores <= n);
    for (std::size_t cpu = 0; cpu < n; ++cpu) {
        CAPTURE(cpu);
        auto t = platform::topology(cpu);
        REQUIRE(t);
        CHECK(t->core_index < cores);
    }
    CHECK(platform::topology(n).code() == Errc::no_such_cpu);
    auto phys = platform::physical_core_cpus();
    REQUIRE(phys);
    auto all = platform::process_affinity();
    REQUIRE(all);
    CHECK((*phys & *all) == *phys);
    CHECK(phys->count() >= 1);
    CHECK(phys->count() <= cores);
}
