// SPDX-License-Identifier: MIT
// primitives_tour — one short walk through staticrt's synchronisation primitives.
//
// Thread + Mutex: four threads count to 40,000 under one lock.
// Condition: a worker waits for a "config loaded" flag; notifying without the lock is refused.
// BoundedSemaphore: producers and consumers share 4 slots; over-releasing is refused.
// Event: one set() releases every waiting thread.
// Barrier: three threads meet three times; the last arrival prints the round.
// Runs in well under a second with no arguments and exits 0 when every check held.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>

#include "staticrt/sync.hpp"
#include "staticrt/thread.hpp"

using staticrt::Deadline;
using staticrt::Errc;
using staticrt::Result;

namespace {

constexpr std::size_t kStack = 256 * 1024;  // >= platform::kMinStackBytes on every target
staticrt::Thread<kStack> g_workers[4];

constinit staticrt::Mutex g_mutex;
long g_counter = 0;

constinit staticrt::Condition g_cond;
bool g_config_loaded = false;

constinit staticrt::BoundedSemaphore g_slots{4};
constinit staticrt::Event g_go;
int g_failures = 0;

void check(bool ok, const char* what) {
    std::printf("  %s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) ++g_failures;
}

void join_all(int n) {
    for (int i = 0; i < n; ++i) check(static_cast<bool>(g_workers[i].join(Deadline::after(std::chrono::seconds(10)))), "joined");
}

}  // namespace

int main() {
    std::printf("1. Thread + Mutex: 4 threads x 10000 increments\n");
    for (auto& w : g_workers) {
        if (!w.start([] {
                for (int i = 0; i < 10000; ++i) {
                    std::lock_guard lock(g_mutex);
                    ++g_counter;
                }
            }, {.name = "counter"}))
            check(false, "start");
    }
    join_all(4);
    std::printf("   counter = %ld\n", g_counter);
    check(g_counter == 40000, "no increment lost");

    std::printf("2. Condition: wait for a flag; notify without the lock is refused\n");
    check(g_cond.notify_one(g_mutex).code() == Errc::not_owner, "notify without the lock -> not_owner");
    (void)g_workers[0].start([] {
        std::unique_lock lock(g_mutex);
        const Result<void> r = g_cond.wait(lock, Deadline::after(std::chrono::seconds(10)), [] { return g_config_loaded; });
        std::printf("   worker: config loaded = %s\n", r ? "yes" : "timed out");
    }, {.name = "waiter"});
    {
        std::unique_lock lock(g_mutex);
        g_config_loaded = true;
        check(static_cast<bool>(g_cond.notify_all(lock)), "notify under the lock");
    }
    join_all(1);

    std::printf("3. BoundedSemaphore: 2 producers, 2 consumers, 4 slots\n");
    static staticrt::Semaphore items{0};
    static std::atomic<int> in_use{0}, max_in_use{0}, consumed{0};
    for (int p = 0; p < 2; ++p)
        (void)g_workers[p].start([] {
            for (int i = 0; i < 500; ++i) {
                (void)g_slots.acquire();  // a free slot
                const int now = in_use.fetch_add(1) + 1;
                int seen = max_in_use.load();
                while (now > seen && !max_in_use.compare_exchange_weak(seen, now)) {}
                (void)items.release();
            }
        }, {.name = "producer"});
    for (int c = 2; c < 4; ++c)
        (void)g_workers[c].start([] {
            for (int i = 0; i < 500; ++i) {
                (void)items.acquire();
                in_use.fetch_sub(1);
                ++consumed;
                (void)g_slots.release();  // slot free again
            }
        }, {.name = "consumer"});
    join_all(4);
    std::printf("   consumed %d items, at most %d slots in use\n", consumed.load(), max_in_use.load());
    check(consumed.load() == 1000 && max_in_use.load() <= 4, "bound held, nothing lost");
    check(g_slots.release().code() == Errc::over_release, "extra release -> over_release");

    std::printf("4. Event: one set() releases three waiting threads\n");
    static std::atomic<int> released{0};
    for (int i = 0; i < 3; ++i)
        (void)g_workers[i].start([] {
            if (g_go.wait(Deadline::after(std::chrono::seconds(10)))) ++released;
        });
    g_go.set();
    join_all(3);
    check(released.load() == 3, "all three released");

    std::printf("5. Barrier: three threads meet three times\n");
    static int round = 0;
    static staticrt::Barrier meet{3, [](void*) -> Result<void> {
                                      std::printf("   round %d complete\n", ++round);
                                      return staticrt::ok();
                                  }};
    for (int i = 0; i < 3; ++i)
        (void)g_workers[i].start([]() -> Result<void> {
            for (int r = 0; r < 3; ++r)
                if (auto index = meet.wait(Deadline::after(std::chrono::seconds(10))); !index) return staticrt::unexpected(index.error());
            return staticrt::ok();
        });
    join_all(3);
    check(round == 3, "three rounds");

    std::printf("sizeof: Mutex %zu, Condition %zu, Semaphore %zu, BoundedSemaphore %zu, Event %zu, Latch %zu, "
                "Barrier %zu, Thread<256 KiB> %zu\n",
                sizeof(staticrt::Mutex), sizeof(staticrt::Condition), sizeof(staticrt::Semaphore),
                sizeof(staticrt::BoundedSemaphore), sizeof(staticrt::Event), sizeof(staticrt::Latch),
                sizeof(staticrt::Barrier), sizeof(g_workers[0]));
    std::printf("%s\n", g_failures == 0 ? "tour complete" : "tour FAILED");
    return g_failures == 0 ? 0 : 1;
}
