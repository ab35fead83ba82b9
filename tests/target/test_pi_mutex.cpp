// SPDX-License-Identifier: MIT
// PiMutex on every target: exclusion, ownership errors, deadlines, several mutexes released out of
// order, owner death. On Windows (no PI) the same calls must behave as a plain mutex; this file
// checks exactly that there (inherits_priority() is false, everything else identical).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>

#include "skip.hpp"
#include "staticrt/sync/pi_mutex.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;

namespace {
constinit staticrt::PiMutex g_pi;

bool pi_works() {
    // qemu-user without PI futexes answers ENOSYS: found by a contended poll.
    staticrt::PiMutex m;
    std::atomic<int> step{0};
    std::thread t([&] {
        m.lock();
        step.store(1);
        while (step.load() != 2) std::this_thread::yield();
        m.unlock();
    });
    while (step.load() != 1) std::this_thread::yield();
    const auto r = m.lock(Deadline::poll());
    step.store(2);
    t.join();
    return r.code() != Errc::not_supported;
}
}  // namespace

TEST_CASE("pi_mutex: platform capability is what the docs say") {
#if defined(_WIN32)
    CHECK_FALSE(staticrt::PiMutex::inherits_priority());
#else
    CHECK(staticrt::PiMutex::inherits_priority());
#endif
    CHECK(sizeof(staticrt::PiMutex) == 4);
}

TEST_CASE("pi_mutex: ownership, relock, timeouts") {
    if (!pi_works()) STATICRT_SKIP("no-pi-futex", "PI futexes not supported by this kernel/emulator (ENOSYS)");
    staticrt::PiMutex m;
    CHECK(m.try_lock());
    CHECK(m.held_by_current_thread());
    CHECK(m.owner_id() != 0);
    CHECK(m.lock(Deadline::poll()).code() == Errc::would_block);
    CHECK(m.lock(Deadline::after(1ms)).code() == Errc::would_block);
    Errc rel = Errc::ok, poll = Errc::ok, timed = Errc::ok;
    bool tried = true;
    std::thread([&] {
        rel = m.release().code();
        tried = m.try_lock();
        poll = m.lock(Deadline::poll()).code();
        timed = m.lock(Deadline::after(5ms)).code();
    }).join();
    CHECK(rel == Errc::not_owner);
    CHECK_FALSE(tried);
    CHECK(poll == Errc::timeout);
    CHECK(timed == Errc::timeout);
    CHECK(m.release());
    CHECK(m.release().code() == Errc::not_owner);
    CHECK_FALSE(m.is_locked());
    {
        std::scoped_lock lk(m, g_pi);
        CHECK(g_pi.held_by_current_thread());
    }
    CHECK_FALSE(g_pi.is_locked());
    CHECK(m.try_lock_for(1ms));
    m.unlock();
}

TEST_CASE("pi_mutex: contended exclusion, waiters handed over") {
    if (!pi_works()) STATICRT_SKIP("no-pi-futex", "PI futexes not supported by this kernel/emulator (ENOSYS)");
    staticrt::PiMutex m;
    long counter = 0;
    constexpr int kPer = 3000;
    std::thread ts[3];
    for (auto& t : ts)
        t = std::thread([&] {
            for (int i = 0; i < kPer; ++i) {
                if (i % 3 == 0) {
                    while (!m.lock(Deadline::after(50ms))) {}
                } else {
                    m.lock();
                }
                ++counter;
                m.unlock();
            }
        });
    for (auto& t : ts) t.join();
    CHECK(counter == 3L * kPer);
    CHECK_FALSE(m.is_locked());
    CHECK_FALSE(m.has_waiters());
}

TEST_CASE("pi_mutex: several held, released out of order, waiters on each get them") {
    if (!pi_works()) STATICRT_SKIP("no-pi-futex", "PI futexes not supported by this kernel/emulator (ENOSYS)");
    staticrt::PiMutex a, b, c;
    a.lock();
    b.lock();
    c.lock();
    std::atomic<int> got{0};
    std::thread wa([&] { a.lock(); got.fetch_add(1); a.unlock(); });
    std::thread wc([&] { c.lock(); got.fetch_add(1); c.unlock(); });
    while (!a.has_waiters() || !c.has_waiters()) std::this_thread::yield();
    b.unlock();  // middle one first
    a.unlock();
    c.unlock();
    wa.join();
    wc.join();
    CHECK(got.load() == 2);
    CHECK_FALSE(a.is_locked());
    CHECK_FALSE(b.is_locked());
    CHECK_FALSE(c.is_locked());
}

TEST_CASE("pi_mutex: a thread that exits holding it -> owner_died with the lock held") {
#if defined(_WIN32)
    STATICRT_SKIP("pi-no-owner-death-win32", "Windows PiMutex does not detect owner death (documented)");
#else
    if (!pi_works()) STATICRT_SKIP("no-pi-futex", "PI futexes not supported by this kernel/emulator (ENOSYS)");
    staticrt::PiMutex m;
    std::thread([&] { m.lock(); }).join();  // dies holding it, nobody waiting
    const auto r = m.lock(Deadline::after(1s));
    CHECK(r.code() == Errc::owner_died);
    CHECK(m.held_by_current_thread());
    CHECK(m.release());
    CHECK(m.lock(Deadline::poll()));  // healthy again
    m.unlock();
#endif
}
