// SPDX-License-Identifier: MIT
// No-heap checks of the platform layer: after one warm-up, CPU queries, pinning, wait/wake,
// time, names and thread start/join allocate nothing — except what glibc itself does in
// pthread_create() with a caller stack: it calloc()s the new thread's DTV (dynamic thread
// vector) in _dl_allocate_tls and frees it at join. That is measured here, exactly, and
// documented in docs/platform.md; staticrt's own code allocates nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "counting_alloc.hpp"
#include "staticrt/platform/cpu.hpp"
#include "staticrt/platform/memory.hpp"
#include "staticrt/platform/thread.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::CpuSet;
using staticrt::Deadline;
using staticrt::Errc;
namespace platform = staticrt::platform;

namespace {

alignas(16) std::byte g_stack_a[256 * 1024];
alignas(16) std::byte g_stack_b[256 * 1024];

struct PingPong {
    std::atomic<std::uint32_t> word{0};
    std::uint32_t rounds = 0;
    std::size_t allocations_inside = 0;
};

// The started thread answers every odd value of `word` with the next even one.
void pong_entry(void* arg) noexcept {
    auto* p = static_cast<PingPong*>(arg);
    staticrt::test::AllocationCounter inside;
    for (std::uint32_t i = 0; i < p->rounds; ++i) {
        const std::uint32_t want = 2 * i + 1;
        // [test.ping] acquire: pairs with the release store of the main thread.
        while (p->word.load(std::memory_order_acquire) != want) (void)platform::wait(p->word, 2 * i, Deadline::never());
        p->word.store(want + 1, std::memory_order_release);  // [test.pong] release
        platform::wake_one(p->word);
    }
    (void)platform::pin_current_thread(*platform::process_affinity());
    (void)platform::set_current_name("pong");
    p->allocations_inside = inside.count();
}

void empty_entry(void*) noexcept {}

void cpu_queries() {
    (void)platform::logical_cpu_count();
    (void)platform::physical_cpu_count();
    auto aff = platform::process_affinity();
    (void)platform::physical_core_cpus();
    for (std::size_t c = aff->first(); c < platform::kMaxCpus; c = aff->next(c + 1)) {
        (void)platform::topology(c);
        (void)platform::to_group(c);
    }
    (void)platform::topology(platform::kMaxCpus);
    (void)platform::current_cpu();
}

void warm_up() {
    cpu_queries();
    platform::ThreadHandle h;
    (void)platform::start_thread(h, {g_stack_a, sizeof g_stack_a}, &empty_entry, nullptr);
    (void)platform::join(h, Deadline::never());
}

}  // namespace

TEST(NoHeapPlatform, CpuQueriesAndPinning_AfterWarmUp_ZeroAllocations) {
    warm_up();
    auto aff = platform::process_affinity();
    ASSERT_TRUE(aff);
    staticrt::test::AllocationCounter c;
    cpu_queries();
    for (std::size_t cpu = aff->first(); cpu < platform::kMaxCpus; cpu = aff->next(cpu + 1))
        (void)platform::pin_current_thread(CpuSet::single(cpu));
    (void)platform::pin_current_thread(*aff);
    (void)platform::pin_current_thread(CpuSet{});
    (void)platform::pin_current_thread(CpuSet::single(platform::kMaxCpus - 1));
    EXPECT_EQ(c.count(), 0u);
}

TEST(NoHeapPlatform, TimeWaitWakeNameYieldMemory_ZeroAllocations) {
    warm_up();
    std::atomic<std::uint32_t> word{0};
    alignas(64) static unsigned char region[64 * 1024];
    staticrt::test::AllocationCounter c;
    (void)platform::Instant::now();
    (void)Deadline::after(1ms).remaining_ns();
    (void)platform::wait(word, 0, Deadline::poll());
    (void)platform::wait(word, 0, Deadline::after(1ms));
    (void)platform::wait(word, 1, Deadline::never());
    (void)platform::wait(word, 0, Deadline::after(1ms), platform::WaitScope::process_shared);
    platform::wake_one(word);
    platform::wake_all(word, platform::WaitScope::process_shared);
    (void)platform::sleep_until(Deadline::after(1ms));
    (void)platform::set_current_name("noheap-main");
    (void)platform::current_thread_id();
    platform::yield_now();
    platform::prefault(region, sizeof region);
    platform::prefault_current_stack(64 * 1024);
    (void)platform::page_size();
    EXPECT_EQ(c.count(), 0u);
}

TEST(NoHeapPlatform, StartJoin_AfterWarmUp_OnlyGlibcDtvPerStartAndNothingElse) {
    staticrt::test::Watchdog wd{60s};
    warm_up();
    constexpr int kCycles = 16;
    std::size_t in_start = 0, in_join = 0;
    platform::ThreadHandle h;
    auto aff = platform::process_affinity();
    const CpuSet pin = CpuSet::single(aff->first());
    platform::ThreadOptions o;
    o.name = "noheap-worker";
    o.affinity = &pin;
    for (int i = 0; i < kCycles; ++i) {
        staticrt::test::AllocationCounter s;
        ASSERT_TRUE(platform::start_thread(h, {g_stack_a, sizeof g_stack_a}, &empty_entry, nullptr, o));
        in_start += s.count();
        staticrt::test::AllocationCounter j;
        ASSERT_TRUE(platform::join(h, Deadline::never()));
        in_join += j.count();
    }
    RecordProperty("allocations_per_start_x16", static_cast<int>(in_start));
    std::printf("start_thread: %zu allocations in %d starts (glibc DTV); join: %zu\n", in_start, kCycles, in_join);
#if defined(__GLIBC__)
    // glibc: allocate_stack() -> _dl_allocate_tls() -> allocate_dtv() -> calloc, once per start
    // (seen with gdb on glibc 2.36); freed again when the thread is joined.
    EXPECT_EQ(in_start, static_cast<std::size_t>(kCycles));
#else
    EXPECT_EQ(in_start, 0u);  // musl places everything on the caller's stack
#endif
    EXPECT_EQ(in_join, 0u);
}

TEST(NoHeapPlatform, WaitWakeBetweenStartedThreads_ZeroAllocations) {
    staticrt::test::Watchdog wd{60s};
    warm_up();
    PingPong p;
    p.rounds = 200;
    platform::ThreadHandle h;
    ASSERT_TRUE(platform::start_thread(h, {g_stack_b, sizeof g_stack_b}, &pong_entry, &p));
    staticrt::test::AllocationCounter c;
    for (std::uint32_t i = 0; i < p.rounds; ++i) {
        p.word.store(2 * i + 1, std::memory_order_release);  // [test.ping] release
        platform::wake_one(p.word);
        // [test.pong] acquire: pairs with the pong thread's release store.
        while (p.word.load(std::memory_order_acquire) != 2 * i + 2)
            (void)platform::wait(p.word, 2 * i + 1, Deadline::never());
    }
    (void)platform::pin_thread(h, *platform::process_affinity());
    (void)platform::set_priority(h, {});
    const bool joined = static_cast<bool>(platform::join(h, Deadline::after(1ms)));  // may time out
    const std::size_t during = c.count();
    if (!joined) {
        ASSERT_TRUE(platform::join(h, Deadline::never()));
    }
    EXPECT_EQ(during, 0u);
    EXPECT_EQ(p.allocations_inside, 0u);
}
