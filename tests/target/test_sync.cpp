// SPDX-License-Identifier: MIT
// Conformance: the synchronisation primitives, Task and Thread on every target (host, qemu, wine).
// Kept fast: small iteration counts, short deadlines.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>

#include "staticrt/sync.hpp"
#include "staticrt/task.hpp"
#include "staticrt/thread.hpp"
#include "eventually.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;

namespace {
constinit staticrt::Mutex g_mutex;
constinit staticrt::BoundedSemaphore g_slots{2};
constinit staticrt::Event g_event;
staticrt::Thread<256 * 1024> g_thread;
}  // namespace

TEST_CASE("sync: Task stores and invokes inline") {
    int hits = 0;
    staticrt::Task<32> t = [&hits] { ++hits; };
    t();
    staticrt::Task<32> u = std::move(t);
    CHECK_FALSE(t);
    u();
    CHECK(hits == 2);
    staticrt::Task<16, int(int)> twice = [](int v) { return 2 * v; };
    CHECK(twice(4) == 8);
}

TEST_CASE("sync: Mutex ownership and timeouts") {
    staticrt::Mutex m;
    CHECK(m.try_lock());
    CHECK(m.held_by_current_thread());
    CHECK(m.lock(Deadline::poll()).code() == Errc::would_block);
    Errc other = Errc::ok;
    std::thread([&] {
        other = m.release().code();
        if (other == Errc::not_owner) other = m.lock(Deadline::after(5ms)).code();
    }).join();
    CHECK(other == Errc::timeout);
    CHECK(m.release());
    CHECK(m.release().code() == Errc::not_owner);
    {
        std::scoped_lock lk(m, g_mutex);
        CHECK(g_mutex.held_by_current_thread());
    }
    CHECK_FALSE(g_mutex.is_locked());
}

TEST_CASE("sync: Mutex excludes under contention") {
    staticrt::Mutex m;
    long counter = 0;
    std::thread ts[3];
    for (auto& t : ts)
        t = std::thread([&] {
            for (int i = 0; i < 2000; ++i) {
                std::lock_guard lk(m);
                ++counter;
            }
        });
    for (auto& t : ts) t.join();
    CHECK(counter == 6000);
}

TEST_CASE("sync: Condition checks its lock and wakes waiters") {
    staticrt::Mutex m;
    staticrt::Condition cv;
    CHECK(cv.notify_one(m).code() == Errc::not_owner);
    CHECK(cv.wait(m, Deadline::poll()).code() == Errc::not_owner);
    bool ready = false;
    std::thread t([&] {
        std::unique_lock lk(m);
        CHECK(cv.wait(lk, Deadline::after(10s), [&] { return ready; }));
    });
    CHECK(staticrt::test::eventually([&] {  // the waiter registered: notify_all must wake it
        std::lock_guard lk(m);
        return cv.waiting() == 1;
    }));
    {
        std::unique_lock lk(m);
        ready = true;
        CHECK(cv.notify_all(lk));
    }
    t.join();
    std::unique_lock lk(m);
    CHECK(cv.wait_for(lk, 2ms).code() == Errc::timeout);
    CHECK(lk.owns_lock());
}

TEST_CASE("sync: Semaphore and BoundedSemaphore") {
    staticrt::Semaphore s{0};
    CHECK(s.acquire(Deadline::after(2ms)).code() == Errc::timeout);
    std::thread t([&] { CHECK(s.acquire(Deadline::after(10s))); });
    CHECK(s.release());
    t.join();
    CHECK(g_slots.acquire());
    CHECK(g_slots.release());
    CHECK(g_slots.release().code() == Errc::over_release);
    CHECK(g_slots.value() == 2);
    staticrt::BoundedSemaphore b;
    CHECK(b.init(-1).code() == Errc::invalid_argument);
    CHECK(b.init(1));
    CHECK(b.limit() == 1);
}

TEST_CASE("sync: Event set/clear/wait") {
    CHECK(g_event.wait(Deadline::after(2ms)).code() == Errc::timeout);
    std::thread t([] { CHECK(g_event.wait(Deadline::after(10s))); });
    CHECK(staticrt::test::eventually([] { return g_event.sleepers() == 1; }));  // asleep: set() must wake it
    g_event.set();
    t.join();
    CHECK(g_event.is_set());
    g_event.clear();
    CHECK_FALSE(g_event.is_set());
}

TEST_CASE("sync: Latch and Barrier") {
    staticrt::Latch l{2};
    CHECK(l.count_down(3).code() == Errc::invalid_argument);
    std::thread t([&] { CHECK(l.arrive_and_wait(1, Deadline::after(10s))); });
    CHECK(l.arrive_and_wait(1, Deadline::after(10s)));
    t.join();

    staticrt::Barrier b{3};
    std::atomic<int> sum{0};
    std::thread ts[2];
    for (auto& x : ts)
        x = std::thread([&] {
            for (int r = 0; r < 20; ++r) {
                auto i = b.wait(Deadline::after(10s));
                if (i) sum += static_cast<int>(*i);
            }
        });
    for (int r = 0; r < 20; ++r) {
        auto i = b.wait(Deadline::after(10s));
        if (i) sum += static_cast<int>(*i);
    }
    for (auto& x : ts) x.join();
    CHECK(sum.load() == 20 * 3);
    CHECK(b.wait(Deadline::after(1ms)).code() == Errc::timeout);
    CHECK(b.wait(Deadline::poll()).code() == Errc::broken);
    b.reset();
    CHECK_FALSE(b.broken());
}

namespace {
/// Written against the concept only (SemaphoreLike): every semaphore, the same calls and errors.
template <staticrt::SemaphoreLike S>
void check_semaphore_like() {
    S s;  // count 0 until init()
    CHECK_FALSE(s.try_acquire());
    CHECK(s.init(-1).code() == Errc::invalid_argument);
    CHECK(s.init(std::int64_t{staticrt::SyncCount::kMax} + 1).code() == Errc::invalid_argument);
    CHECK(s.value() == 0);
    const int user_value = 2;
    REQUIRE(s.init(user_value));
    CHECK(s.value() == 2);
    CHECK(s.acquire(Deadline::poll()));
    CHECK(s.try_acquire());
    CHECK(s.acquire(Deadline::poll()).code() == Errc::timeout);
    CHECK(s.release(2));
    const std::uint32_t room = s.limit() - s.value();
    CHECK(s.release(room + 1).code() == Errc::over_release);
    CHECK(s.value() == 2);
}
}  // namespace

TEST_CASE("sync: run-time counts through init() (Semaphore, BoundedSemaphore, Latch, Barrier)") {
    check_semaphore_like<staticrt::Semaphore>();
    check_semaphore_like<staticrt::BoundedSemaphore>();
    check_semaphore_like<staticrt::ProcessSemaphore>();
    check_semaphore_like<staticrt::ProcessBoundedSemaphore>();

    staticrt::Latch l;
    CHECK(l.try_wait());
    CHECK(l.init(-1).code() == Errc::invalid_argument);
    REQUIRE(l.init(1));
    std::thread t([&] { CHECK(l.wait(Deadline::after(10s))); });
    CHECK(l.count_down());
    t.join();

    staticrt::Barrier b;
    CHECK(b.wait(Deadline::poll()).code() == Errc::invalid_argument);
    CHECK(b.init(0).code() == Errc::invalid_argument);
    CHECK(b.init(-2).code() == Errc::invalid_argument);
    CHECK(b.parties() == 0);
    REQUIRE(b.init(2));
    std::uint32_t ia = 9, ib = 9;
    std::thread u([&] { ia = b.wait(Deadline::after(10s)).value_or(9u); });
    ib = b.wait(Deadline::after(10s)).value_or(9u);
    u.join();
    CHECK(ia + ib == 1);
}

TEST_CASE("sync: Condition notify(n) wakes n waiters") {
    staticrt::Mutex m;
    staticrt::Condition cv;
    CHECK(cv.notify(m, 2).code() == Errc::not_owner);
    int tokens = 0, taken = 0;
    std::thread ts[3];
    for (auto& t : ts)
        t = std::thread([&] {
            std::unique_lock lk(m);
            CHECK(cv.wait(lk, Deadline::after(10s), [&] { return tokens > 0; }));
            if (tokens > 0) {
                --tokens;
                ++taken;
            }
        });
    const auto waiting_is = [&](std::uint32_t n) {
        return staticrt::test::eventually([&] {
            std::lock_guard lk(m);
            return cv.waiting() == n;
        });
    };
    REQUIRE(waiting_is(3));
    {
        std::lock_guard lk(m);
        tokens = 2;
        CHECK(cv.notify(m, 2));
    }
    CHECK(staticrt::test::eventually([&] {
        std::lock_guard lk(m);
        return taken == 2;
    }));
    {
        std::lock_guard lk(m);
        tokens = 1;
        CHECK(cv.notify(m, 1));
    }
    for (auto& t : ts) t.join();
    CHECK(taken == 3);
}

TEST_CASE("sync: Thread start, join with deadline, failure hook") {
    staticrt::Event go;
    CHECK(g_thread.start([&go] { (void)go.wait(Deadline::after(30s)); }, {.name = "conformance"}));
    CHECK(g_thread.join(Deadline::after(2ms)).code() == Errc::timeout);
    CHECK(g_thread.is_alive());
    CHECK(staticrt::test::eventually([&go] { return go.sleepers() == 1; }));  // asleep: set() must wake it
    go.set();
    CHECK(g_thread.join(Deadline::after(10s)));
    CHECK_FALSE(g_thread.joinable());

    static std::atomic<int> failures{0};
    auto previous = staticrt::set_thread_failure_hook([](const char*, staticrt::Error e) noexcept {
        if (e.code == Errc::closed) ++failures;
    });
    CHECK(g_thread.start([]() -> staticrt::Result<void> { return unexpected(Errc::closed); }));
    CHECK(g_thread.join());
    CHECK(failures.load() == 1);
    (void)staticrt::set_thread_failure_hook(previous);
}
