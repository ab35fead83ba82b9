// SPDX-License-Identifier: MIT
// PiMutex (Linux): owner death with a waiter parked (kernel hand-over), process-shared mutex in
// shared memory across fork(), a child process that dies holding it, and the ESRCH take-over path.
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <new>
#include <thread>

#include "staticrt/sync/pi_mutex.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;

namespace {
struct Shared {
    staticrt::SharedPiMutex m;
    std::atomic<std::uint32_t> step{0};
    long counter = 0;
};

Shared* map_shared() {
    void* p = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return nullptr;
    return ::new (p) Shared;
}
}  // namespace

TEST(PiMutex, OwnerExitsWhileWaiterParked_WaiterGetsOwnerDied) {
    staticrt::test::Watchdog wd{30s, "pi owner death"};
    staticrt::PiMutex m;
    std::atomic<int> step{0};
    std::thread owner([&] {
        m.lock();
        step.store(1);
        while (!m.has_waiters()) std::this_thread::yield();
        // exits holding m with a waiter parked in the kernel
    });
    while (step.load() != 1) std::this_thread::yield();
    Errc got = Errc::ok;
    std::thread waiter([&] { got = m.lock(Deadline::after(10s)).code(); if (m.held_by_current_thread()) m.unlock(); });
    owner.join();
    waiter.join();
    EXPECT_EQ(got, Errc::owner_died);
    EXPECT_FALSE(m.is_locked());
}

TEST(PiMutex, ProcessShared_ParentAndChildExclude_CountExact) {
    staticrt::test::Watchdog wd{60s, "pi shared"};
    Shared* s = map_shared();
    ASSERT_NE(s, nullptr);
    constexpr int kPer = 20000;
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        for (int i = 0; i < kPer; ++i) {
            s->m.lock();
            ++s->counter;
            s->m.unlock();
        }
        ::_exit(0);
    }
    for (int i = 0; i < kPer; ++i) {
        s->m.lock();
        ++s->counter;
        s->m.unlock();
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_EQ(s->counter, 2L * kPer);
    EXPECT_FALSE(s->m.is_locked());
    ::munmap(s, sizeof(Shared));
}

TEST(PiMutex, ProcessShared_ChildDiesHolding_ParentGetsOwnerDied) {
    staticrt::test::Watchdog wd{30s, "pi shared death"};
    Shared* s = map_shared();
    ASSERT_NE(s, nullptr);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        s->m.lock();
        ::_exit(0);  // dies holding it
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    const auto r = s->m.lock(Deadline::after(5s));
    EXPECT_EQ(r.code(), Errc::owner_died);
    EXPECT_TRUE(s->m.held_by_current_thread());
    EXPECT_TRUE(s->m.release());
    EXPECT_TRUE(s->m.lock(Deadline::poll()));
    s->m.unlock();
    ::munmap(s, sizeof(Shared));
}

TEST(PiMutex, CorruptedWord_NotAThread_ReportsErrorNotHang) {
    // Shared memory is input: a word holding garbage must fail or be taken over, never hang.
    staticrt::test::Watchdog wd{30s, "pi corrupted"};
    Shared* s = map_shared();
    ASSERT_NE(s, nullptr);
    reinterpret_cast<std::atomic<std::uint32_t>*>(&s->m)->store(0x3fff'fff0U);  // an id no thread has
    const auto r = s->m.lock(Deadline::after(1s));
    EXPECT_TRUE(r.code() == Errc::owner_died || r.code() == Errc::os_error) << static_cast<int>(r.code());
    if (s->m.held_by_current_thread()) s->m.unlock();
    ::munmap(s, sizeof(Shared));
}

// unlock() misuse traps in every build (it does not depend on NDEBUG): this runs in release too.
TEST(PiMutexDeathTest, Unlock_ByNonOwner_Traps) {
    EXPECT_DEATH(
        {
            static staticrt::PiMutex m;
            m.unlock();
        },
        "PiMutex::unlock\\(\\) by a thread that does not hold the mutex");
}
