// SPDX-License-Identifier: MIT
// PiMutex under SCHED_FIFO, every thread of a scenario pinned to ONE CPU (the orchestrating test
// thread runs on another). Outcomes are measured by progress counters, never by wall-clock:
//  - inversion: a medium-priority spinner starves the low-priority holder of a plain Mutex, so the
//    high-priority waiter gets the lock only after the spinner used its WHOLE budget; with a PiMutex
//    the holder is boosted and the spinner makes NO progress after the holder woke;
//  - out-of-order release of two PI mutexes (the Zephyr #47942 / FreeRTOS #1168 class of bugs):
//    after releasing the first, the owner keeps the boost of the second's waiter (a lower spinner
//    makes no progress), but loses the first's (a spinner between the two priorities runs first);
//  - a chain (Zephyr #103539 class): H waits on B held by M, M waits on A held by L: L runs at H's
//    priority, so a spinner between L/M and H makes no progress until H holds B.
// Skipped with a reason where SCHED_FIFO is refused (EPERM, e.g. the binfmt user namespace), where
// fewer than 2 CPUs are available, and on Windows (no PI: see test_pi_mutex.cpp for what it does there).
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "sanitizer.hpp"
#include "skip.hpp"
#include "staticrt/platform/arch.hpp"
#include "staticrt/platform/cpu.hpp"
#include "staticrt/platform/thread.hpp"
#include "staticrt/platform/wait.hpp"
#include "staticrt/sync/mutex.hpp"
#include "staticrt/sync/pi_mutex.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
namespace platform = staticrt::platform;

namespace {

// 32-bit on purpose: a 64-bit atomic store is an LDREXD/STREXD loop on armhf, which qemu-user
// emulates with an "exclusive" section that briefly runs the other guest threads whatever their
// priority; a 32-bit relaxed store is a plain STR everywhere.
using Counter = std::atomic<std::uint32_t>;

struct Gate {
    std::atomic<std::uint32_t> open{0};
    void wait() {
        // [test.gate] acquire: pairs with the release in set().
        while (open.load(std::memory_order_acquire) == 0) (void)platform::wait(open, 0, Deadline::never());
    }
    void set() {
        open.store(1, std::memory_order_release);
        platform::wake_all(open);
    }
};

void wait_until(const std::atomic<std::uint32_t>& flag) {
    while (flag.load(std::memory_order_acquire) == 0) std::this_thread::yield();
}
void set_flag(std::atomic<std::uint32_t>& flag) { flag.store(1, std::memory_order_release); }

/// Where the scenario runs: the RT CPU, the orchestrator's CPU, and why not when it cannot.
struct RtSetup {
    bool ok = false;
    const char* id = "no-rt-priority";
    const char* why = "";
    std::size_t rt_cpu = 0;
    platform::CpuSet saved{};
};

RtSetup prepare() {
    RtSetup s;
    if (staticrt::test::kThreadSanitizer) {
        // SCHED_FIFO threads spinning on one CPU starve TSan's runtime threads: the scenario hangs.
        s.id = "tsan-fifo";
        s.why = "SCHED_FIFO spinners pinned to one CPU starve ThreadSanitizer's runtime (the case hangs)";
        return s;
    }
    if (!platform::pi_supported()) {
        s.id = "no-pi-win32";
        s.why = "no priority inheritance on this platform (Windows): PiMutex is a plain mutex";
        return s;
    }
    auto cpus = platform::process_affinity();
    if (!cpus || cpus->count() < 2) {
        s.id = "needs-2-cpus";
        s.why = "needs 2 CPUs (one for the SCHED_FIFO threads, one for the test thread)";
        return s;
    }
    staticrt::Result<void> prio = staticrt::ok();
    std::thread([&] { prio = platform::set_current_priority({platform::SchedPolicy::fifo, 1}); }).join();
    if (!prio) {
        s.why = "SCHED_FIFO refused (EPERM: no CAP_SYS_NICE / RLIMIT_RTPRIO, or a user namespace)";
        return s;
    }
    staticrt::PiMutex probe;
    std::atomic<std::uint32_t> held{0};
    std::thread holder([&] {
        probe.lock();
        set_flag(held);
        while (held.load(std::memory_order_acquire) != 2) std::this_thread::yield();
        probe.unlock();
    });
    wait_until(held);
    const auto r = probe.lock(Deadline::after(1ms));
    held.store(2, std::memory_order_release);
    holder.join();
    if (r.code() == staticrt::Errc::not_supported) {
        s.id = "no-pi-futex";
        s.why = "PI futexes not supported by this kernel/emulator (ENOSYS)";
        return s;
    }
    s.saved = *cpus;
    s.rt_cpu = cpus->nth(cpus->count() - 1);
    platform::CpuSet rest = *cpus;
    rest.remove(s.rt_cpu);
    if (!platform::pin_current_thread(rest)) {
        s.why = "cannot pin the test thread";
        return s;
    }
    s.ok = true;
    return s;
}

void become_rt(std::size_t cpu, int level) {
    REQUIRE(platform::set_current_priority({platform::SchedPolicy::fifo, level}));
    REQUIRE(platform::pin_current_thread(platform::CpuSet::single(cpu)));
}

/// Spins uncounted until `start` is set (so that slow thread creation, e.g. under qemu or ASan,
/// does not eat the budget), then counts up to `budget` steps or until `stop`.
void spin(Counter& progress, std::uint32_t budget, const std::atomic<std::uint32_t>& stop,
          const std::atomic<std::uint32_t>& start) {
    while (start.load(std::memory_order_acquire) == 0) platform::cpu_relax();
    for (std::uint32_t i = 0; i < budget && stop.load(std::memory_order_relaxed) == 0; ++i)
        progress.store(i + 1, std::memory_order_relaxed);  // [test.progress] relaxed: a counter read by the waiters
}

// Each scenario runs twice and only the second run is checked. Under qemu-user the first run
// translates the code paths, and qemu's translator takes plain (non-PI) locks: a low-priority
// guest thread holding one stalls a high-priority one. Natively both runs give the same result.
[[maybe_unused]] constexpr int kWarmUp = 1;

constexpr std::uint32_t kBudget = 20'000'000;  // the medium spinner's work: tens of ms natively
constexpr std::uint32_t kHolderWork = 100'000;

struct InversionResult {
    std::uint64_t medium_at_acquire = 0;
    std::uint64_t medium_at_holder_awake = 0;
};

template <class M>
InversionResult inversion(std::size_t cpu) {
    M m;
    Counter medium{0}, holder_work{0};
    std::atomic<std::uint32_t> locked{0}, medium_ready{0}, high_trying{0}, high_done{0}, counting{0};
    Gate go_low;
    InversionResult out;
    std::thread low([&] {
        become_rt(cpu, 10);
        m.lock();
        set_flag(locked);
        go_low.wait();
        out.medium_at_holder_awake = medium.load(std::memory_order_relaxed);
        for (std::uint32_t i = 0; i < kHolderWork; ++i) holder_work.store(i + 1, std::memory_order_relaxed);
        m.unlock();
    });
    wait_until(locked);
    std::thread mid([&] {
        become_rt(cpu, 20);
        set_flag(medium_ready);
        spin(medium, kBudget, high_done, counting);  // occupies the CPU from now on (below high, above low)
    });
    wait_until(medium_ready);
    std::thread high([&] {
        become_rt(cpu, 30);
        set_flag(high_trying);
        m.lock();  // parks: low holds it
        out.medium_at_acquire = medium.load(std::memory_order_relaxed);
        set_flag(high_done);
        m.unlock();
    });
    wait_until(high_trying);
    set_flag(counting);  // the spinner's budget starts now ...
    go_low.set();        // ... and the holder wakes while it spins
    high.join();
    mid.join();
    low.join();
    CHECK(holder_work.load() == kHolderWork);
    return out;
}

}  // namespace

TEST_CASE("pi_mutex rt: plain Mutex shows inversion, PiMutex bounds it (progress counts)") {
    staticrt::test::Watchdog wd{120s, "pi inversion"};
    RtSetup s = prepare();
    if (!s.ok) STATICRT_SKIP(s.id, s.why);
    (void)inversion<staticrt::PiMutex>(s.rt_cpu);  // warm-up: see kWarmUp
    const InversionResult plain = inversion<staticrt::Mutex>(s.rt_cpu);
    const InversionResult pi = inversion<staticrt::PiMutex>(s.rt_cpu);
    (void)platform::pin_current_thread(s.saved);
    MESSAGE("plain Mutex: spinner progress when the high waiter got the lock " << plain.medium_at_acquire << " of "
                                                                              << kBudget);
    MESSAGE("PiMutex: spinner progress when the holder woke " << pi.medium_at_holder_awake << ", at the high acquire "
                                                               << pi.medium_at_acquire);
    CHECK(plain.medium_at_acquire == kBudget);                   // waited for ALL of the spinner's work
    CHECK(pi.medium_at_acquire == pi.medium_at_holder_awake);    // the spinner never ran again
    CHECK(pi.medium_at_acquire < kBudget);
}

TEST_CASE("pi_mutex rt: out-of-order release keeps the remaining boost, drops the released one") {
    staticrt::test::Watchdog wd{120s, "pi out of order"};
    RtSetup s = prepare();
    if (!s.ok) STATICRT_SKIP(s.id, s.why);
    const std::size_t cpu = s.rt_cpu;
    for (int round = 0; round < 2; ++round) {  // round 0 warms up: see kWarmUp
        staticrt::PiMutex a, b;
        Counter lower{0}, between{0};  // spinners at 15 (below B's waiter) and 25 (between the waiters)
        std::uint64_t lower_at_b = 0, between_at_b = 0, lower_at_a = 0, between_at_a = 0;
        std::uint64_t lower_at_awake = 0, between_at_awake = 0;
        std::atomic<std::uint32_t> held{0}, ready15{0}, ready25{0}, none{0}, counting{0};
        Gate go;
        std::thread low([&] {
            become_rt(cpu, 10);
            a.lock();
            b.lock();
            set_flag(held);
            go.wait();  // wakes boosted to 30 (A's waiter), preempting both spinners
            lower_at_awake = lower.load(std::memory_order_relaxed);
            between_at_awake = between.load(std::memory_order_relaxed);
            a.unlock();  // first acquired, first released: B (waiter at 20) still held
            b.unlock();
        });
        wait_until(held);
        std::thread h2([&] {  // waits on B at 20
            become_rt(cpu, 20);
            b.lock();
            lower_at_b = lower.load(std::memory_order_relaxed);
            between_at_b = between.load(std::memory_order_relaxed);
            b.unlock();
        });
        while (!b.has_waiters()) std::this_thread::yield();
        std::thread h1([&] {  // waits on A at 30
            become_rt(cpu, 30);
            a.lock();
            lower_at_a = lower.load(std::memory_order_relaxed);
            between_at_a = between.load(std::memory_order_relaxed);
            a.unlock();
        });
        while (!a.has_waiters()) std::this_thread::yield();
        std::thread s15([&] {
            become_rt(cpu, 15);
            set_flag(ready15);
            spin(lower, kBudget, none, counting);
        });
        wait_until(ready15);
        std::thread s25([&] {
            become_rt(cpu, 25);
            set_flag(ready25);
            spin(between, kBudget, none, counting);
        });
        wait_until(ready25);
        set_flag(counting);
        go.set();
        for (std::thread* t : {&low, &h1, &h2, &s15, &s25}) t->join();
        if (round == 0) continue;
        MESSAGE("at the owner's wake: spinner15 " << lower_at_awake << ", spinner25 " << between_at_awake
                << "; at A's handover: spinner15 " << lower_at_a << ", spinner25 " << between_at_a << "; at B's handover: spinner15 "
                                              << lower_at_b << ", spinner25 " << between_at_b);
        CHECK(between_at_awake < kBudget);          // the scenario really overlapped the spinner
        CHECK(lower_at_a == lower_at_awake);
        CHECK(between_at_a == between_at_awake);    // owner ran at 30 while A's waiter waited
        CHECK(between_at_b == kBudget);             // after releasing A the owner fell to 20: the 25 spinner ran first
        CHECK(lower_at_b == lower_at_awake);        // ... but not to 10: the 15 spinner never ran before B's handover
    }
    (void)platform::pin_current_thread(s.saved);
}

TEST_CASE("pi_mutex rt: boost propagates along a chain of PI mutexes") {
    staticrt::test::Watchdog wd{120s, "pi chain"};
    RtSetup s = prepare();
    if (!s.ok) STATICRT_SKIP(s.id, s.why);
    const std::size_t cpu = s.rt_cpu;
    for (int round = 0; round < 2; ++round) {  // round 0 warms up: see kWarmUp
        staticrt::PiMutex a, b;
        Counter spinner{0};
        std::uint64_t spinner_at_h = 0, spinner_at_awake = 0;
        std::atomic<std::uint32_t> l_held{0}, m_held{0}, ready{0}, none{0}, counting{0};
        Gate go;
        std::thread low([&] {  // 10: holds A
            become_rt(cpu, 10);
            a.lock();
            set_flag(l_held);
            go.wait();  // wakes at 30 through the chain high -> B -> mid -> A -> low
            spinner_at_awake = spinner.load(std::memory_order_relaxed);
            a.unlock();
        });
        wait_until(l_held);
        std::thread mid([&] {  // 15: holds B, waits on A
            become_rt(cpu, 15);
            b.lock();
            set_flag(m_held);
            a.lock();
            a.unlock();
            b.unlock();
        });
        wait_until(m_held);
        while (!a.has_waiters()) std::this_thread::yield();
        std::thread high([&] {  // 30: waits on B
            become_rt(cpu, 30);
            b.lock();
            spinner_at_h = spinner.load(std::memory_order_relaxed);
            b.unlock();
        });
        while (!b.has_waiters()) std::this_thread::yield();
        std::thread sp([&] {  // 20: between the chain's owners and its head
            become_rt(cpu, 20);
            set_flag(ready);
            spin(spinner, kBudget, none, counting);
        });
        wait_until(ready);
        set_flag(counting);
        go.set();
        for (std::thread* t : {&low, &mid, &high, &sp}) t->join();
        if (round == 0) continue;
        MESSAGE("chain: spinner progress when the owner woke " << spinner_at_awake << ", when the head got B "
                                                               << spinner_at_h << " of " << kBudget);
        CHECK(spinner_at_awake < kBudget);
        CHECK(spinner_at_h == spinner_at_awake);
    }
    (void)platform::pin_current_thread(s.saved);
}
