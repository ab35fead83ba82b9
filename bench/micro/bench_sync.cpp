// SPDX-License-Identifier: MIT
// Google Benchmark microbenchmarks of the synchronisation primitives' uncontended paths (one
// thread: what a lock/unlock pair or an acquire/release pair costs when nobody else is there),
// next to std::mutex / std::counting_semaphore, and the owner-id read the mutex pays for.
#include <benchmark/benchmark.h>

#include <mutex>
#include <semaphore>

#include "staticrt/platform/thread.hpp"
#include "staticrt/sync.hpp"
#include "staticrt/task.hpp"

namespace {

void BM_CurrentThreadId(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(staticrt::platform::current_thread_id());
}
BENCHMARK(BM_CurrentThreadId);

void BM_MutexLockUnlock(benchmark::State& state) {
    static staticrt::Mutex m;
    for (auto _ : state) {
        m.lock();
        m.unlock();
    }
}
BENCHMARK(BM_MutexLockUnlock);

void BM_StdMutexLockUnlock(benchmark::State& state) {
    static std::mutex m;
    for (auto _ : state) {
        m.lock();
        m.unlock();
    }
}
BENCHMARK(BM_StdMutexLockUnlock);

void BM_SemaphoreAcquireRelease(benchmark::State& state) {
    static staticrt::Semaphore s{1};
    for (auto _ : state) {
        benchmark::DoNotOptimize(s.acquire());
        benchmark::DoNotOptimize(s.release());
    }
}
BENCHMARK(BM_SemaphoreAcquireRelease);

void BM_StdCountingSemaphoreAcquireRelease(benchmark::State& state) {
    static std::counting_semaphore<> s{1};
    for (auto _ : state) {
        s.acquire();
        s.release();
    }
}
BENCHMARK(BM_StdCountingSemaphoreAcquireRelease);

void BM_ConditionNotifyNoWaiters(benchmark::State& state) {
    static staticrt::Mutex m;
    static staticrt::Condition cv;
    m.lock();
    for (auto _ : state) benchmark::DoNotOptimize(cv.notify_one(m));
    m.unlock();
}
BENCHMARK(BM_ConditionNotifyNoWaiters);

void BM_EventSetWaitClear(benchmark::State& state) {
    static staticrt::Event e;
    for (auto _ : state) {
        e.set();
        benchmark::DoNotOptimize(e.wait());
        e.clear();
    }
}
BENCHMARK(BM_EventSetWaitClear);

void BM_TaskConstructInvoke(benchmark::State& state) {
    int x = 0;
    for (auto _ : state) {
        staticrt::Task<32> t = [&x] { ++x; };
        t();
        benchmark::DoNotOptimize(x);
    }
}
BENCHMARK(BM_TaskConstructInvoke);

}  // namespace
