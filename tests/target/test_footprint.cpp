// SPDX-License-Identifier: MIT
// Footprint on every target: constinit objects compile and start from all-zero images, the
// manifest adds up what sizeof says, and where the OS provides thread stacks (Windows) the
// objects keep none. Section placement is checked on the built binaries by the ctest
// footprint.sections (examples/footprint_objects.cpp).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <span>
#include <thread>

#include "staticrt/exec/future.hpp"
#include "staticrt/exec/thread_pool.hpp"
#include "staticrt/footprint.hpp"
#include "staticrt/ipc/process_pool.hpp"
#include "staticrt/ipc/shared_value.hpp"
#include "staticrt/queue/mpmc_queue.hpp"
#include "staticrt/thread.hpp"

namespace {
using Pool = staticrt::ThreadPool<2, 64, staticrt::kDefaultPoolStackBytes, 64, 64>;
// The case, `constinit staticrt::Thread<65536>` (aarch64's minimum stack is 128 KiB).
constexpr std::size_t kStack = staticrt::kDefaultPoolStackBytes;
using T64 = staticrt::Thread<kStack>;
constinit T64 g_thread;
constinit Pool g_pool;
constinit staticrt::ResultSlots<8> g_slots;
constinit staticrt::ipc::ProcessPool<2> g_process_pool;
constinit staticrt::ResultSlots<64> g_race_slots;
constinit staticrt::ThreadPool<2, 64, staticrt::kDefaultPoolStackBytes, 64, 64> g_race_pool;
// Never used: their bytes are what the compiler emitted.
constinit T64 g_untouched_thread;
constinit Pool g_untouched_pool;
constinit staticrt::ResultSlots<8> g_untouched_slots;
constinit staticrt::ipc::ProcessPool<2> g_untouched_process_pool;

/// True when every byte of the object is zero (what a constinit global in .bss starts as).
template <class T>
bool all_zero(const T& object) {
    unsigned char bytes[sizeof(T)];
    std::memcpy(bytes, static_cast<const void*>(&object), sizeof(T));
    for (unsigned char b : bytes)
        if (b != 0) return false;
    return true;
}
}  // namespace

TEST_CASE("Footprint: a constant-initialised Thread, ThreadPool, ResultSlots, ProcessPool is all zero bytes") {
    CHECK(all_zero(g_untouched_thread));
    CHECK(all_zero(g_untouched_slots));
    CHECK(all_zero(g_untouched_process_pool));
    CHECK(all_zero(g_untouched_pool));
    CHECK(g_process_pool.live_workers() == 0);
}

TEST_CASE("Footprint: zero-initialised objects work on first use (late-bound self-pointers)") {
    std::atomic<int> ran{0};
    REQUIRE(g_thread.start([&] { ran.fetch_add(1, std::memory_order_relaxed); }));
    REQUIRE(g_thread.join());
    CHECK(ran.load() == 1);

    CHECK(g_pool.worker_count() == 2);
    CHECK(g_pool.queue_capacity() == 64);
    CHECK(g_pool.current_worker() == 2);  // not a worker, and nothing bound yet
    // A submit before start() binds the storage; the task runs once the workers start.
    auto f = g_pool.submit([](int x) { return x * 3; }, 14);
    REQUIRE(f);
    REQUIRE(g_pool.start({.pin = false}));
    CHECK(f->get().value_or(0) == 42);
    int in[16], out[16] = {};
    for (int i = 0; i < 16; ++i) in[i] = i;
    REQUIRE(g_pool.map([](int x) { return x + 1; }, std::span<const int>(in), std::span<int>(out), 1));
    for (int i = 0; i < 16; ++i) CHECK(out[i] == i + 1);
    CHECK(g_pool.shutdown());

    auto p = g_slots.make<int>();
    REQUIRE(p);
    CHECK(g_slots.capacity() == 8);
    (void)p->promise.set_value(5);
    CHECK(p->future.get().value_or(0) == 5);
}

TEST_CASE("Footprint: first uses racing from several threads bind once and lose nothing") {
    constexpr int kThreads = 4, kEach = 8;
    std::atomic<int> go{0}, good{0};
    std::thread threads[kThreads];
    for (auto& t : threads) {
        t = std::thread([&] {
            while (go.load(std::memory_order_acquire) == 0) std::this_thread::yield();
            for (int i = 0; i < kEach; ++i) {
                auto p = g_race_slots.make<int>();  // the first calls race to bind the slots
                if (!p) continue;
                (void)p->promise.set_value(i);
                if (p->future.get().value_or(-1) == i) good.fetch_add(1, std::memory_order_relaxed);
                // Queued before start(): the first submits race to bind the pool's storage.
                if (g_race_pool.submit_detached([] {})) good.fetch_add(1, std::memory_order_relaxed);
            }
        });
    }
    go.store(1, std::memory_order_release);
    for (auto& t : threads) t.join();
    CHECK(good.load() == 2 * kThreads * kEach);
    CHECK(g_race_pool.pending() == static_cast<std::size_t>(kThreads * kEach));
    REQUIRE(g_race_pool.start({.pin = false}));
    CHECK(g_race_pool.wait_idle(staticrt::Deadline::after(std::chrono::seconds(30))));
    CHECK(g_race_pool.pending() == 0);
    CHECK(g_race_pool.shutdown());
}

TEST_CASE("Footprint: the manifest adds up sizeof, shared segments and OS stacks") {
    using Queue = staticrt::MpmcQueue<int, 256>;
    using T = T64;
    using PP = staticrt::ipc::ProcessPool<2>;
    static_assert(staticrt::footprint_of<Queue>.static_bytes == sizeof(Queue));
    static_assert(staticrt::footprint_of<Pool>.static_bytes == sizeof(Pool));
    static_assert(Pool::static_bytes == sizeof(Pool));
    static_assert(T::static_bytes == sizeof(T));
    static_assert(PP::shared_bytes > sizeof(staticrt::detail::PoolControl));
    static_assert(staticrt::footprint_of<PP>.shared_bytes == PP::shared_bytes);
    static_assert(staticrt::footprint_of<Queue[3]>.static_bytes == 3 * sizeof(Queue));
    using System = staticrt::footprint<Pool, Queue, T, PP>;
    static_assert(System::static_bytes == sizeof(Pool) + sizeof(Queue) + sizeof(T) + sizeof(PP));
    static_assert(System::total_bytes == System::static_bytes + System::shared_bytes + System::os_stack_bytes);
    static_assert(staticrt::within_budget<System, System::total_bytes>);
    CHECK(System::shared_bytes == PP::shared_bytes);
    CHECK(staticrt::footprint_of<staticrt::ipc::SharedValue<long>>.shared_bytes > 0);
}

TEST_CASE("Footprint: stacks live in the object only where threads run on caller memory") {
    using T = T64;
    if (staticrt::platform::kThreadUsesCallerStack) {
        CHECK(sizeof(T) >= kStack);
        CHECK(sizeof(Pool) >= 2 * staticrt::kDefaultPoolStackBytes);
        CHECK(staticrt::footprint<T, Pool>::os_stack_bytes == 0);
    } else {
        CHECK(sizeof(T) < 4096);  // Windows: the OS reserves the stack, the object keeps none
        CHECK(sizeof(Pool) < 2 * staticrt::kDefaultPoolStackBytes);
        CHECK(staticrt::footprint<T, Pool>::os_stack_bytes == kStack + 2 * staticrt::kDefaultPoolStackBytes);
    }
}
