// SPDX-License-Identifier: MIT
// Stress tests for the synchronisation primitives: nothing lost, nothing duplicated, bounds held.
// Iteration counts scale with STATICRT_STRESS_SCALE (staticrt::test::scaled).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <thread>

#include "staticrt/sync.hpp"
#include "staticrt/thread.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::test::scaled;

TEST(SyncStress, Mutex_FourThreadsLockedIncrements_CountExactly) {
    staticrt::test::Watchdog wd{300s, "Mutex stress"};
    staticrt::Mutex m;
    std::uint64_t counter = 0;
    const long long per_thread = scaled(1'000'000, 1000);
    std::thread ts[4];
    for (auto& t : ts)
        t = std::thread([&] {
            for (long long i = 0; i < per_thread; ++i) {
                if ((i & 7) == 0) {  // mix in the deadline and try paths
                    while (!m.lock(Deadline::after(1s))) {}
                } else if ((i & 7) == 1) {
                    while (!m.try_lock()) std::this_thread::yield();
                } else {
                    m.lock();
                }
                ++counter;
                m.unlock();
            }
        });
    for (auto& t : ts) t.join();
    EXPECT_EQ(counter, static_cast<std::uint64_t>(4 * per_thread));
}

template <class Sem>
void check_bound(Sem& sem, int bound, int threads, long long iters) {
    std::atomic<int> in_use{0};
    std::atomic<int> max_seen{0};
    std::atomic<long long> timeouts{0};
    std::thread ts[8];
    for (int k = 0; k < threads; ++k)
        ts[k] = std::thread([&, k] {
            for (long long i = 0; i < iters; ++i) {
                const bool timed = ((i + k) & 3) == 0;
                if (timed) {
                    if (!sem.acquire(Deadline::after(1ms))) {
                        ++timeouts;
                        continue;
                    }
                } else if (!sem.acquire()) {
                    ADD_FAILURE() << "acquire failed";
                    return;
                }
                // [test.inuse] acq_rel: the count itself is what is checked, ordering is the semaphore's.
                const int now = in_use.fetch_add(1, std::memory_order_acq_rel) + 1;
                int seen = max_seen.load(std::memory_order_relaxed);
                while (now > seen && !max_seen.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {}
                in_use.fetch_sub(1, std::memory_order_acq_rel);
                ASSERT_TRUE(sem.release());
            }
        });
    for (int k = 0; k < threads; ++k) ts[k].join();
    EXPECT_LE(max_seen.load(), bound);
    EXPECT_GE(max_seen.load(), 1);
    EXPECT_EQ(in_use.load(), 0);
    std::printf("bound %d: max in use %d, timeouts %lld\n", bound, max_seen.load(), timeouts.load());
}

TEST(SyncStress, BoundedSemaphore_NeverExceedsBound) {
    staticrt::test::Watchdog wd{300s, "BoundedSemaphore stress"};
    staticrt::BoundedSemaphore sem{3};
    check_bound(sem, 3, 8, scaled(100'000, 100));
    EXPECT_EQ(sem.value(), 3u);
    EXPECT_EQ(sem.release().code(), staticrt::Errc::over_release);
}

TEST(SyncStress, Semaphore_OfOne_IsAMutex) {
    staticrt::test::Watchdog wd{300s, "Semaphore stress"};
    staticrt::Semaphore sem{1};
    check_bound(sem, 1, 4, scaled(100'000, 100));
    EXPECT_EQ(sem.value(), 1u);
}

// A bounded buffer built from Mutex + two Conditions: every item produced is consumed exactly
// once (sum and xor of the values match), with producers and consumers blocking on both ends.
TEST(SyncStress, Condition_ProducerConsumer_LosesAndDuplicatesNothing) {
    staticrt::test::Watchdog wd{300s, "Condition producer/consumer"};
    constexpr int kCap = 8, kProducers = 2, kConsumers = 2;
    const long long per_producer = scaled(200'000, 100);
    staticrt::Mutex m;
    staticrt::Condition not_full, not_empty;
    std::uint64_t ring[kCap] = {};
    int head = 0, size = 0, producers_left = kProducers;
    std::atomic<std::uint64_t> sum{0}, xr{0}, count{0};
    std::thread prod[kProducers], cons[kConsumers];
    for (int p = 0; p < kProducers; ++p)
        prod[p] = std::thread([&, p] {
            for (long long i = 0; i < per_producer; ++i) {
                const std::uint64_t v = static_cast<std::uint64_t>(p) * 1'000'000'007ULL + static_cast<std::uint64_t>(i) + 1;
                std::unique_lock lk(m);
                ASSERT_TRUE(not_full.wait(lk, [&] { return size < kCap; }));
                ring[(head + size) % kCap] = v;
                ++size;
                ASSERT_TRUE(not_empty.notify_one(lk));
            }
            std::unique_lock lk(m);
            if (--producers_left == 0) {
                ASSERT_TRUE(not_empty.notify_all(lk));
            }
        });
    for (auto& c : cons)
        c = std::thread([&] {
            for (;;) {
                std::unique_lock lk(m);
                ASSERT_TRUE(not_empty.wait(lk, [&] { return size > 0 || producers_left == 0; }));
                if (size == 0) return;
                const std::uint64_t v = ring[head];
                head = (head + 1) % kCap;
                --size;
                ASSERT_TRUE(not_full.notify_one(lk));
                lk.unlock();
                sum.fetch_add(v, std::memory_order_relaxed);
                xr.fetch_xor(v, std::memory_order_relaxed);
                count.fetch_add(1, std::memory_order_relaxed);
            }
        });
    for (auto& t : prod) t.join();
    for (auto& t : cons) t.join();
    std::uint64_t want_sum = 0, want_xor = 0;
    for (int p = 0; p < kProducers; ++p)
        for (long long i = 0; i < per_producer; ++i) {
            const std::uint64_t v = static_cast<std::uint64_t>(p) * 1'000'000'007ULL + static_cast<std::uint64_t>(i) + 1;
            want_sum += v;
            want_xor ^= v;
        }
    EXPECT_EQ(count.load(), static_cast<std::uint64_t>(kProducers * per_producer));
    EXPECT_EQ(sum.load(), want_sum);
    EXPECT_EQ(xr.load(), want_xor);
}

namespace {
struct RoundCheck {
    std::atomic<std::uint64_t>* arrivals;
    std::uint64_t parties;
    std::uint64_t round = 0;
    std::uint64_t bad = 0;
};
}  // namespace

TEST(SyncStress, Barrier_Rounds_EveryPartyArrivesOncePerRound) {
    staticrt::test::Watchdog wd{300s, "Barrier rounds"};
    constexpr int kParties = 4;
    const long long rounds = scaled(5'000, 50);
    std::atomic<std::uint64_t> arrivals{0};
    RoundCheck check{&arrivals, kParties};
    staticrt::Barrier b{kParties,
                        [](void* ctx) -> staticrt::Result<void> {
                            auto* c = static_cast<RoundCheck*>(ctx);
                            ++c->round;
                            // [test.barrier] relaxed: the barrier's lock orders the parties' increments.
                            if (c->arrivals->load(std::memory_order_relaxed) != c->round * c->parties) ++c->bad;
                            return staticrt::ok();
                        },
                        &check};
    std::atomic<int> errors{0};
    std::thread ts[kParties];
    for (auto& t : ts)
        t = std::thread([&] {
            for (long long r = 0; r < rounds; ++r) {
                arrivals.fetch_add(1, std::memory_order_relaxed);
                if (!b.wait()) ++errors;
            }
        });
    for (auto& t : ts) t.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(check.bad, 0u);
    EXPECT_EQ(check.round, static_cast<std::uint64_t>(rounds));
}

TEST(SyncStress, Event_SetClearWithWaiters_EveryWaiterSeesEveryRound) {
    staticrt::test::Watchdog wd{300s, "Event rounds"};
    constexpr int kWaiters = 3;
    const long long rounds = scaled(5'000, 50);
    staticrt::Event go;
    staticrt::Latch done_all{static_cast<unsigned>(kWaiters)};
    staticrt::Semaphore done{0};
    std::atomic<long long> round{0};
    std::thread ts[kWaiters];
    for (auto& t : ts)
        t = std::thread([&] {
            for (long long r = 1; r <= rounds; ++r) {
                // [test.round] acquire: pairs with the release store of the round below.
                while (round.load(std::memory_order_acquire) < r) {
                    ASSERT_TRUE(go.wait());
                    std::this_thread::yield();  // the event may still be up from the last round
                }
                ASSERT_TRUE(done.release());
            }
            ASSERT_TRUE(done_all.count_down());
        });
    for (long long r = 1; r <= rounds; ++r) {
        round.store(r, std::memory_order_release);
        go.set();
        for (int k = 0; k < kWaiters; ++k) ASSERT_TRUE(done.acquire(Deadline::after(60s)));
        go.clear();  // every waiter saw round r; they sleep until the next set()
    }
    ASSERT_TRUE(done_all.wait(Deadline::after(60s)));
    for (auto& t : ts) t.join();
}

// Condition::notify(lock, n): each round the producer adds k tokens (1..4) and notifies k, then
// waits until they are all taken. A consumer takes at most one token per round, so k different
// consumers must wake: a notify(n) that woke fewer while they slept leaves tokens no awake thread
// may take, and the round hangs (the watchdog fails it). Every token is taken exactly once.
TEST(SyncStress, Condition_NotifyN_WakesKConsumersEveryTokenTakenOnce) {
    staticrt::test::Watchdog wd{300s, "Condition notify(n)"};
    constexpr int kConsumers = 4;
    const long long rounds = scaled(20'000, 200);
    staticrt::Mutex m;
    staticrt::Condition has_tokens;
    staticrt::Condition drained;
    long long tokens = 0;
    long long round = 0;
    bool done = false;
    long long taken[kConsumers] = {};
    std::thread ts[kConsumers];
    for (int c = 0; c < kConsumers; ++c)
        ts[c] = std::thread([&, c] {
            std::unique_lock lk(m);
            long long my_round = -1;  // the last round this consumer took a token in
            for (;;) {
                ASSERT_TRUE(has_tokens.wait(lk, [&] { return (tokens > 0 && round != my_round) || done; }));
                if (done) return;
                my_round = round;
                --tokens;
                ++taken[c];
                if (tokens == 0) {
                    ASSERT_TRUE(drained.notify_one(lk));
                }
            }
        });
    long long produced = 0;
    {
        std::unique_lock lk(m);
        for (long long r = 0; r < rounds; ++r) {
            const auto k = static_cast<std::uint32_t>(1 + r % kConsumers);
            round = r;
            tokens = k;
            produced += k;
            ASSERT_TRUE(has_tokens.notify(lk, k));
            ASSERT_TRUE(drained.wait(lk, [&] { return tokens == 0; }));
        }
        done = true;
        ASSERT_TRUE(has_tokens.notify_all(lk));
    }
    for (auto& t : ts) t.join();
    long long sum = 0;
    for (long long n : taken) sum += n;
    EXPECT_EQ(sum, produced);
    EXPECT_EQ(tokens, 0);
}

TEST(SyncStress, Thread_StartJoinRepeatedly_RunsEveryTime) {
    staticrt::test::Watchdog wd{300s, "Thread start/join"};
    static staticrt::Thread<256 * 1024> t;
    const long long n = scaled(2'000, 20);
    long long runs = 0;
    for (long long i = 0; i < n; ++i) {
        ASSERT_TRUE(t.start([&] { ++runs; }));
        ASSERT_TRUE(t.join());
    }
    EXPECT_EQ(runs, n);
}
