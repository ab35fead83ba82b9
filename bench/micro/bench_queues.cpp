// SPDX-License-Identifier: MIT
// Google Benchmark microbenchmarks of the queues' single-thread costs (uncontended paths):
// what one push+pop pair, a batch, and the blocking API's fast path cost on one core.
// Cross-core figures come from staticrt-bench-peers.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <span>

#include "staticrt/queue/joinable_queue.hpp"
#include "staticrt/queue/mpmc_queue.hpp"
#include "staticrt/queue/spsc_queue.hpp"

namespace {

template <class Q>
void BM_TryPushTryPop(benchmark::State& state) {
    static Q q;
    std::uint64_t v = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(q.try_push(v));
        benchmark::DoNotOptimize(q.try_pop(v));
    }
    state.SetItemsProcessed(state.iterations());
}

template <class Q>
void BM_BlockingPushPop(benchmark::State& state) {
    static Q q;
    std::uint64_t v = 1;
    for (auto _ : state) {
        benchmark::DoNotOptimize(q.push(v));
        benchmark::DoNotOptimize(q.pop(v));
    }
    state.SetItemsProcessed(state.iterations());
}

template <class Q>
void BM_Batch64(benchmark::State& state) {
    static Q q;
    std::array<std::uint64_t, 64> buf{};
    for (auto _ : state) {
        benchmark::DoNotOptimize(q.try_push_n(std::span<const std::uint64_t>(buf)));
        benchmark::DoNotOptimize(q.try_pop_n(std::span<std::uint64_t>(buf)));
    }
    state.SetItemsProcessed(state.iterations() * 64);
}

void BM_JoinablePutTakeDone(benchmark::State& state) {
    static staticrt::JoinableQueue<std::uint64_t, 1024> q;
    for (auto _ : state) {
        benchmark::DoNotOptimize(q.push(1));
        benchmark::DoNotOptimize(q.pop());
        benchmark::DoNotOptimize(q.task_done());
    }
    state.SetItemsProcessed(state.iterations());
}

using Spsc = staticrt::SpscQueue<std::uint64_t, 1024>;
using Mpmc = staticrt::MpmcQueue<std::uint64_t, 1024>;
BENCHMARK_TEMPLATE(BM_TryPushTryPop, Spsc);
BENCHMARK_TEMPLATE(BM_TryPushTryPop, Mpmc);
BENCHMARK_TEMPLATE(BM_BlockingPushPop, Spsc);
BENCHMARK_TEMPLATE(BM_BlockingPushPop, Mpmc);
BENCHMARK_TEMPLATE(BM_Batch64, Spsc);
BENCHMARK_TEMPLATE(BM_Batch64, Mpmc);
BENCHMARK(BM_JoinablePutTakeDone);

}  // namespace
