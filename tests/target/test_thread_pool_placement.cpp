// SPDX-License-Identifier: MIT
// Conformance: ThreadPool's default worker placement keeps workers off the core the calling thread
// is pinned to while other cores are free, and says so (shares_caller_cpu()) when it cannot.
// Issue 15: a caller pinned to CPU 0 and ThreadPool<1>'s one worker on CPU 0 made parallel_for
// run at the one-thread rate. Each case starts the pool from a separate thread, so the test
// runner's own affinity is never changed.
#include <doctest/doctest.h>

#include <cstddef>
#include <memory>
#include <thread>

#include "skip.hpp"
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

/// Physical-core CPUs of the process that are not on the core of `caller`.
std::size_t other_cores(std::size_t caller) {
    auto p = platform::physical_core_cpus();
    if (!p) return 0;
    std::size_t n = 0;
    for (std::size_t c = p->first(); c < kNone; c = p->next(c + 1)) n += (core_of(c) != core_of(caller)) ? 1 : 0;
    return n;
}

template <std::size_t Workers>
struct Observed {
    bool pinned = false;     // the caller thread could be pinned
    bool seen = false;       // ... and current_thread_affinity() reads the pin back
    bool started = false;
    bool shares = false;     // pool.shares_caller_cpu()
    std::size_t cpu[Workers] = {};
    bool map_ok = false;
};

/// From a new thread pinned to `caller` (empty set: left unpinned), starts ThreadPool<Workers>
/// with `opts`, records the placement, runs one parallel_for, shuts down.
template <std::size_t Workers>
Observed<Workers> start_from(const CpuSet& caller, const staticrt::ThreadPoolOptions& opts) {
    Observed<Workers> o;
    std::thread t([&] {
        if (!caller.empty()) {
            if (!platform::pin_current_thread(caller)) return;
        }
        o.pinned = true;
        if (auto mine = platform::current_thread_affinity(); mine && (caller.empty() || *mine == caller)) o.seen = true;
        using Pool = staticrt::ThreadPool<Workers, 16, staticrt::kDefaultPoolStackBytes, 64, 16>;
        auto pool = std::make_unique<Pool>();
        if (!pool->start(opts)) return;
        o.started = true;
        o.shares = pool->shares_caller_cpu();
        for (std::size_t i = 0; i < Workers; ++i) o.cpu[i] = pool->stats(i).cpu;
        int hits[64] = {};
        o.map_ok = static_cast<bool>(pool->parallel_for(0, 64, [&](std::size_t i) { hits[i] += 1; }, 4));
        for (int h : hits) o.map_ok = o.map_ok && h == 1;
        (void)pool->shutdown(staticrt::ShutdownMode::drain);
    });
    t.join();
    return o;
}

}  // namespace

TEST_CASE("ThreadPoolPlacement_CallerPinnedToOneCpu_OneWorkerGoesToAnotherCore") {
    auto aff = platform::process_affinity();
    REQUIRE(aff);
    if (aff->count() < 2) STATICRT_SKIP("single-cpu", "one CPU in the process affinity: nowhere else to place a worker");
    const std::size_t caller = aff->first();
    auto o = start_from<1>(CpuSet::single(caller), {});
    if (!o.pinned) STATICRT_SKIP("no-affinity", "pin_current_thread refused on this target");
    if (!o.seen) STATICRT_SKIP("no-thread-affinity", "current_thread_affinity() does not read the pin back here");
    REQUIRE(o.started);
    CHECK(o.map_ok);
    REQUIRE(o.cpu[0] != kNone);  // the default pins
    if (other_cores(caller) > 0) {
        // Another physical core exists: the worker must be on it, not on the caller's CPU or core.
        CHECK(o.cpu[0] != caller);
        CHECK(core_of(o.cpu[0]) != core_of(caller));
        CHECK_FALSE(o.shares);
    } else {
        // Two hardware threads of one core only: sharing the core is unavoidable and reported.
        CHECK(o.shares);
    }
}

TEST_CASE("ThreadPoolPlacement_MoreWorkersThanOtherCores_WrapsOntoCallerCoreAndSaysSo") {
    auto aff = platform::process_affinity();
    REQUIRE(aff);
    if (aff->count() < 2) STATICRT_SKIP("single-cpu", "one CPU in the process affinity: nowhere else to place a worker");
    const std::size_t caller = aff->first();
    constexpr std::size_t kWorkers = 4;
    auto o = start_from<kWorkers>(CpuSet::single(caller), {});
    if (!o.pinned) STATICRT_SKIP("no-affinity", "pin_current_thread refused on this target");
    if (!o.seen) STATICRT_SKIP("no-thread-affinity", "current_thread_affinity() does not read the pin back here");
    REQUIRE(o.started);
    CHECK(o.map_ok);
    const std::size_t others = other_cores(caller);
    // The first min(others, workers) workers sit on cores other than the caller's.
    for (std::size_t i = 0; i < kWorkers && i < others; ++i) CHECK(core_of(o.cpu[i]) != core_of(caller));
    bool any_on_caller_core = false;
    for (std::size_t i = 0; i < kWorkers; ++i) any_on_caller_core = any_on_caller_core || core_of(o.cpu[i]) == core_of(caller);
    CHECK(o.shares == any_on_caller_core);
    CHECK(o.shares == (kWorkers > others));
}

TEST_CASE("ThreadPoolPlacement_CallerNotPinned_DoesNotReportSharing") {
    auto o = start_from<2>(CpuSet{}, {});
    REQUIRE(o.started);
    CHECK(o.map_ok);
    CHECK_FALSE(o.shares);  // a floating caller may move: sharing is not reported
    // Every worker on a physical-core CPU, and two workers on two distinct ones when there are two.
    auto p = platform::physical_core_cpus();
    REQUIRE(p);
    for (std::size_t i = 0; i < 2; ++i) CHECK(p->contains(o.cpu[i]));
    if (p->count() >= 2) CHECK(o.cpu[0] != o.cpu[1]);
}

TEST_CASE("ThreadPoolPlacement_ExplicitCpusIncludingCallers_KeptInOrderAndReported") {
    auto aff = platform::process_affinity();
    REQUIRE(aff);
    const std::size_t caller = aff->first();
    staticrt::ThreadPoolOptions opts;
    opts.cpus = CpuSet::single(caller);  // the user asked for the caller's CPU: honoured, but visible
    auto o = start_from<1>(CpuSet::single(caller), opts);
    if (!o.pinned) STATICRT_SKIP("no-affinity", "pin_current_thread refused on this target");
    if (!o.seen) STATICRT_SKIP("no-thread-affinity", "current_thread_affinity() does not read the pin back here");
    REQUIRE(o.started);
    CHECK(o.map_ok);
    CHECK(o.cpu[0] == caller);
    if (aff->count() >= 2) {
        CHECK(o.shares);
    }
}

TEST_CASE("CurrentThreadAffinity_PinnedThread_ReadsThePinBack") {
    auto aff = platform::process_affinity();
    REQUIRE(aff);
    bool pinned = false;
    bool fresh_ok = false;
    bool after_ok = false;
    const std::size_t last = aff->nth(aff->count() - 1);
    std::thread t([&] {
        // a new thread of an unpinned runner may use every CPU of the process
        auto fresh = platform::current_thread_affinity();
        fresh_ok = fresh && *fresh == *aff;
        if (!platform::pin_current_thread(CpuSet::single(last))) return;
        pinned = true;
        auto after = platform::current_thread_affinity();
        after_ok = after && *after == CpuSet::single(last);
    });
    t.join();
    if (!pinned) STATICRT_SKIP("no-affinity", "pin_current_thread refused on this target");
    CHECK(fresh_ok);
    CHECK(after_ok);
}
