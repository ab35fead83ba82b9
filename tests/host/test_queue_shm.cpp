// SPDX-License-Identifier: MIT
// Queues in shared memory: one memfd mapped twice in this process, at two different
// addresses. A producer uses one mapping, a consumer the other: this only works when the
// queue holds no pointers and its futex words are process-shared. The zero-filled memory is
// used as is (no constructor runs): a zeroed segment must be an empty, open queue.
#include <gtest/gtest.h>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <new>
#include <thread>

#include "staticrt/queue/joinable_queue.hpp"
#include "staticrt/queue/mpmc_queue.hpp"
#include "staticrt/queue/scq_queue.hpp"
#include "staticrt/queue/spsc_queue.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Errc;
using staticrt::WaitScope;

namespace {

/// Two mappings of one zero-filled memfd.
class TwoMappings {
public:
    explicit TwoMappings(std::size_t bytes) : m_bytes(bytes) {
        m_fd = memfd_create("staticrt-queue-test", 0);
        if (m_fd < 0 || ftruncate(m_fd, static_cast<off_t>(bytes)) != 0) return;
        m_a = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, m_fd, 0);
        m_b = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, m_fd, 0);
    }
    ~TwoMappings() {
        if (m_a != MAP_FAILED) munmap(m_a, m_bytes);
        if (m_b != MAP_FAILED) munmap(m_b, m_bytes);
        if (m_fd >= 0) close(m_fd);
    }
    [[nodiscard]] bool ok() const { return m_fd >= 0 && m_a != MAP_FAILED && m_b != MAP_FAILED && m_a != m_b; }
    template <class Q>
    Q& as_a() { return *std::launder(static_cast<Q*>(m_a)); }
    template <class Q>
    Q& as_b() { return *std::launder(static_cast<Q*>(m_b)); }

private:
    std::size_t m_bytes;
    int m_fd = -1;
    void* m_a = MAP_FAILED;
    void* m_b = MAP_FAILED;
};

template <class Q>
void hand_over(std::size_t items) {
    TwoMappings m(sizeof(Q) + 4096);
    ASSERT_TRUE(m.ok());
    Q& producer_view = m.as_a<Q>();
    Q& consumer_view = m.as_b<Q>();
    ASSERT_NE(static_cast<void*>(&producer_view), static_cast<void*>(&consumer_view));
    std::thread producer([&] {
        for (std::uint64_t i = 1; i <= items; ++i) ASSERT_TRUE(producer_view.push(i));
        producer_view.close();
    });
    std::uint64_t expect = 1;
    for (;;) {
        auto r = consumer_view.pop();  // blocks (process-shared futex) through the other mapping
        if (!r) {
            EXPECT_EQ(r.code(), Errc::closed);
            break;
        }
        ASSERT_EQ(*r, expect++);
    }
    EXPECT_EQ(expect, items + 1);
    producer.join();
}

}  // namespace

TEST(QueueSharedMemory, SpscTwoMappings_HandsOverInOrder) {
    staticrt::test::Watchdog wd{60s};
    hand_over<staticrt::SpscQueue<std::uint64_t, 16, WaitScope::process_shared>>(50000);
}

TEST(QueueSharedMemory, MpmcTwoMappings_HandsOverInOrder) {
    staticrt::test::Watchdog wd{60s};
    hand_over<staticrt::MpmcQueue<std::uint64_t, 16, WaitScope::process_shared>>(50000);
}

TEST(QueueSharedMemory, ScqTwoMappings_HandsOverInOrder) {
    staticrt::test::Watchdog wd{60s};
    hand_over<staticrt::ScqQueue<std::uint64_t, 16, WaitScope::process_shared>>(50000);
}

TEST(QueueSharedMemory, CompactScqTwoMappings_HandsOverInOrder) {
    staticrt::test::Watchdog wd{60s};
    hand_over<staticrt::CompactScqQueue<std::uint64_t, 16, WaitScope::process_shared>>(50000);
}

TEST(QueueSharedMemory, JoinableTwoMappings_JoinSeesTaskDoneFromOtherMapping) {
    staticrt::test::Watchdog wd{30s};
    using Q = staticrt::JoinableQueue<std::uint32_t, 8, WaitScope::process_shared>;
    TwoMappings m(sizeof(Q) + 4096);
    ASSERT_TRUE(m.ok());
    Q& a = m.as_a<Q>();
    Q& b = m.as_b<Q>();
    for (std::uint32_t i = 0; i < 5; ++i) ASSERT_TRUE(a.push(i));
    std::thread worker([&] {
        for (int i = 0; i < 5; ++i) {
            ASSERT_TRUE(b.pop());
            std::this_thread::sleep_for(1ms);
            ASSERT_TRUE(b.task_done());
        }
    });
    EXPECT_TRUE(a.join());
    EXPECT_EQ(a.unfinished(), 0u);
    worker.join();
}
#endif
