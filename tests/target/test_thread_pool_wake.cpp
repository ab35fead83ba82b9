// SPDX-License-Identifier: MIT
// Conformance: ThreadPoolOptions::wake. Under both policies a pool whose workers park between
// tasks (spin_ns = 0) runs every task of several submitters exactly once; with
// WakePolicy::near_submitter, a submit from a thread pinned to the CPU of a parked, pinned
// worker wakes that worker (not another parked one), round after round. Each case runs from
// threads of its own, so the test runner's affinity is never changed.
#include <doctest/doctest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "eventually.hpp"
#include "skip.hpp"
#include "staticrt/exec/thread_pool.hpp"
#include "staticrt/platform/cpu.hpp"

using staticrt::CpuSet;
using staticrt::WakePolicy;
using staticrt::test::eventually;
namespace platform = staticrt::platform;

namespace {

using Pool = staticrt::ThreadPool<2, 64, staticrt::kDefaultPoolStackBytes, 64, 16>;

/// Three submitters x kPerSubmitter detached tasks into a pool that parks whenever idle; every
/// task's counter must end at exactly 1, and the workers must have parked and been woken.
void every_task_once(WakePolicy policy) {
    constexpr int kSubmitters = 3;
    constexpr int kPerSubmitter = 1500;
    auto pool = std::make_unique<Pool>();
    auto ran = std::make_unique<std::atomic<int>[]>(kSubmitters * kPerSubmitter);
    staticrt::ThreadPoolOptions o;
    o.wake = policy;
    o.spin_ns = 0;  // park at once: every lull goes through the wake-up protocol
    REQUIRE(pool->start(o));
    std::vector<std::thread> ts;
    std::atomic<int> failed{0};
    for (int s = 0; s < kSubmitters; ++s) {
        ts.emplace_back([&, s] {
            for (int i = 0; i < kPerSubmitter; ++i) {
                const int id = s * kPerSubmitter + i;
                if (!pool->submit_detached(staticrt::Deadline::never(), [&ran, id] { ran[id].fetch_add(1); })) {
                    failed.fetch_add(1);
                }
                if (i % 100 == 99) std::this_thread::sleep_for(std::chrono::microseconds(200));  // let them park
            }
        });
    }
    for (auto& t : ts) t.join();
    REQUIRE(pool->wait_idle());
    CHECK(failed.load() == 0);
    int wrong = 0;
    for (int i = 0; i < kSubmitters * kPerSubmitter; ++i) wrong += ran[i].load() != 1 ? 1 : 0;
    CHECK(wrong == 0);
    std::uint64_t sleeps = 0, wakes = 0;
    for (std::size_t w = 0; w < 2; ++w) {
        sleeps += pool->stats(w).sleeps;
        wakes += pool->stats(w).wakes;
    }
    CHECK(sleeps > 0);
    CHECK(wakes > 0);
    REQUIRE(pool->shutdown());
}

}  // namespace

TEST_CASE("ThreadPoolWake_NearSubmitter_SubmittersWithLulls_EveryTaskRunsOnce") {
    every_task_once(WakePolicy::near_submitter);
}

TEST_CASE("ThreadPoolWake_LongestParked_SubmittersWithLulls_EveryTaskRunsOnce") {
    every_task_once(WakePolicy::longest_parked);
}

TEST_CASE("ThreadPoolWake_NearSubmitter_WakesTheParkedWorkerOnTheSubmittersCpu") {
    auto aff = platform::process_affinity();
    REQUIRE(aff);
    if (aff->count() < 2) STATICRT_SKIP("single-cpu", "one CPU in the process affinity: no second worker CPU");
    const std::size_t c0 = aff->first();
    const std::size_t c1 = aff->next(c0 + 1);
    constexpr int kRounds = 20;
    // From the thread pinned to `cpu`: kRounds submits, each to a pool whose two workers are
    // both parked (pinned to c0 and c1); returns how many of them ran on worker `expected`.
    auto rounds_on = [&](Pool& pool, std::size_t cpu, std::size_t expected) {
        int hits = -1;
        std::thread t([&] {
            if (!platform::pin_current_thread(CpuSet::single(cpu))) return;
            hits = 0;
            for (int r = 0; r < kRounds; ++r) {
                // Both workers parked: each parks (sleeps counted) after its last task.
                std::uint64_t before[2];
                for (std::size_t w = 0; w < 2; ++w) before[w] = pool.stats(w).sleeps;
                auto f = pool.submit([&pool] { return pool.current_worker(); });
                if (!f) return;
                auto ran = f->get();
                if (!ran) return;
                if (*ran == expected) ++hits;
                const std::size_t w = *ran < 2 ? *ran : 0;
                if (!eventually([&] { return pool.stats(w).sleeps > before[w]; })) return;
            }
        });
        t.join();
        return hits;
    };
    auto pool = std::make_unique<Pool>();
    staticrt::ThreadPoolOptions o;
    o.wake = WakePolicy::near_submitter;
    o.spin_ns = 0;
    o.cpus = CpuSet::single(c0) | CpuSet::single(c1);  // explicit: worker 0 on c0, worker 1 on c1
    REQUIRE(pool->start(o));
    REQUIRE(pool->stats(0).cpu == c0);
    REQUIRE(pool->stats(1).cpu == c1);
    REQUIRE(eventually([&] { return pool->stats(0).sleeps > 0 && pool->stats(1).sleeps > 0; }));
    CHECK(rounds_on(*pool, c1, 1) == kRounds);
    CHECK(rounds_on(*pool, c0, 0) == kRounds);
    REQUIRE(pool->shutdown());
}
