// SPDX-License-Identifier: MIT
// bounded_semaphore — Python's BoundedSemaphore producer/consumer, with static memory only.
//
// Python:
//   slots = threading.BoundedSemaphore(3); items = threading.Semaphore(0)
//   def producer(): for i in range(N): slots.acquire(); put(i); items.release()
//   def consumer(): for _ in range(N): items.acquire(); get(); slots.release()
//   slots.release()   # ValueError: Semaphore released too many times
//
// Here the buffer is a fixed ring protected by a Mutex; the bounded semaphore counts free slots,
// so the producer can never overrun it, and an extra release() is Errc::over_release.
// Usage: bounded_semaphore [items]   (default 1000)
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "staticrt/sync.hpp"
#include "staticrt/thread.hpp"

namespace {

constexpr int kSlots = 3;
constinit staticrt::BoundedSemaphore g_free{kSlots};  // free slots: may never exceed 3
constinit staticrt::Semaphore g_filled{0};             // filled slots
constinit staticrt::Mutex g_ring_lock;
long g_ring[kSlots] = {};
int g_head = 0, g_tail = 0;

staticrt::Thread<256 * 1024> g_producer;
staticrt::Thread<256 * 1024> g_consumer;

long g_items = 1000;
long g_sum = 0;

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) g_items = std::strtol(argv[1], nullptr, 10);
    if (g_items < 0) g_items = 0;

    auto producer = g_producer.start([]() -> staticrt::Result<void> {
        for (long i = 1; i <= g_items; ++i) {
            if (auto r = g_free.acquire(); !r) return r;
            {
                std::lock_guard lock(g_ring_lock);
                g_ring[g_tail] = i;
                g_tail = (g_tail + 1) % kSlots;
            }
            if (auto r = g_filled.release(); !r) return r;
        }
        return staticrt::ok();
    }, {.name = "producer"});
    auto consumer = g_consumer.start([]() -> staticrt::Result<void> {
        for (long i = 1; i <= g_items; ++i) {
            if (auto r = g_filled.acquire(); !r) return r;
            {
                std::lock_guard lock(g_ring_lock);
                g_sum += g_ring[g_head];
                g_head = (g_head + 1) % kSlots;
            }
            if (auto r = g_free.release(); !r) return r;  // would be over_release on a bug
        }
        return staticrt::ok();
    }, {.name = "consumer"});
    if (!producer || !consumer) {
        std::printf("could not start threads: %s\n", staticrt::to_string(producer ? consumer.code() : producer.code()));
        return 1;
    }
    (void)g_producer.join();
    (void)g_consumer.join();

    const long expected = g_items * (g_items + 1) / 2;
    std::printf("consumed %ld items through %d slots: sum %ld (expected %ld)\n", g_items, kSlots, g_sum, expected);
    const auto extra = g_free.release();
    std::printf("one release too many: %s\n", extra ? "accepted (BUG)" : staticrt::to_string(extra.code()));
    return g_sum == expected && extra.code() == staticrt::Errc::over_release ? 0 : 1;
}
