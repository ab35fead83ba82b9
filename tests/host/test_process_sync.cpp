// SPDX-License-Identifier: MIT
// The sync primitives and queues in shared memory, used by spawned processes: a child notifies
// the parent through a ProcessCondition (with the robust ProcessMutex), semaphores ping-pong,
// three processes meet at a ProcessBarrier, a ProcessEvent releases children, and a
// process-shared SpscQueue carries items from the parent to a child.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>

#include "ipc_test_support.hpp"
#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/process_mutex.hpp"
#include "staticrt/ipc/shared_segment.hpp"
#include "staticrt/queue/spsc_queue.hpp"
#include "staticrt/sync/barrier.hpp"
#include "staticrt/sync/condition.hpp"
#include "staticrt/sync/event.hpp"
#include "staticrt/sync/semaphore.hpp"
#include "eventually.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::ipc::Process;
using staticrt::ipc::SharedSegment;
namespace test = staticrt::test;

namespace {

struct CondBlock {
    staticrt::ipc::ProcessMutex mutex;
    staticrt::ProcessCondition cv;
    bool ready = false;
    int payload = 0;
};
struct SemBlock {
    staticrt::ProcessSemaphore ping{0};
    staticrt::ProcessSemaphore pong{0};
};
struct BarrierBlock {
    staticrt::ProcessBarrier barrier{3};
    std::atomic<int> before{0};
    std::atomic<int> saw_all{0};
};
struct EventBlock {
    staticrt::ProcessEvent go;
    std::atomic<int> released{0};
};
struct QueueBlock {
    staticrt::SpscQueue<long, 64, staticrt::WaitScope::process_shared> q;
    std::atomic<long> sum{0};
    std::atomic<long> count{0};
};

template <class T>
bool open_block(SharedSegment<T>& seg, const char* name) {
    return static_cast<bool>(seg.open(name, Deadline::after(10s)));
}

int entry_cond_notify(int argc, const char* const* argv) noexcept {
    static SharedSegment<CondBlock> seg;
    if (argc < 1 || !open_block(seg, argv[0])) return 2;
    // The parent waits on the condition first (registered), so notify_one must wake it.
    if (!test::eventually([] { return seg->cv.waiting() == 1; })) return 4;
    std::unique_lock lk(seg->mutex);
    seg->payload = 42;
    seg->ready = true;
    return seg->cv.notify_one(lk) ? 0 : 3;
}

int entry_sem_pong(int argc, const char* const* argv) noexcept {
    static SharedSegment<SemBlock> seg;
    if (argc < 2 || !open_block(seg, argv[0])) return 2;
    const int rounds = std::atoi(argv[1]);
    for (int i = 0; i < rounds; ++i) {
        if (!seg->ping.acquire(Deadline::after(20s))) return 3;
        if (!seg->pong.release()) return 4;
    }
    return 0;
}

int entry_barrier(int argc, const char* const* argv) noexcept {
    static SharedSegment<BarrierBlock> seg;
    if (argc < 1 || !open_block(seg, argv[0])) return 2;
    seg->before.fetch_add(1);
    if (!seg->barrier.wait(Deadline::after(20s))) return 3;
    if (seg->before.load() == 3) seg->saw_all.fetch_add(1);
    return 0;
}

int entry_event(int argc, const char* const* argv) noexcept {
    static SharedSegment<EventBlock> seg;
    if (argc < 1 || !open_block(seg, argv[0])) return 2;
    if (!seg->go.wait(Deadline::after(20s))) return 3;
    seg->released.fetch_add(1);
    return 0;
}

int entry_queue_consumer(int argc, const char* const* argv) noexcept {
    static SharedSegment<QueueBlock> seg;
    if (argc < 1 || !open_block(seg, argv[0])) return 2;
    for (;;) {
        auto v = seg->q.pop(Deadline::after(20s));
        if (!v) return v.code() == Errc::closed ? 0 : 3;
        seg->sum.fetch_add(*v);
        seg->count.fetch_add(1);
    }
}

}  // namespace

STATICRT_TEST_ENTRY("cond_notify", &entry_cond_notify);
STATICRT_TEST_ENTRY("sem_pong", &entry_sem_pong);
STATICRT_TEST_ENTRY("barrier_party", &entry_barrier);
STATICRT_TEST_ENTRY("event_waiter", &entry_event);
STATICRT_TEST_ENTRY("queue_consumer", &entry_queue_consumer);

TEST(ProcessSync, ProcessCondition_ChildNotifiesParent_ParentWakes) {
    test::Watchdog wd{60s};
    const auto name = test::shm_name("cond");
    SharedSegment<CondBlock> seg;
    ASSERT_TRUE(seg.create(name.c_str()));
    const char* args[] = {name.c_str(), nullptr};
    Process p;
    ASSERT_TRUE(p.start("cond_notify", args));
    {
        std::unique_lock lk(seg->mutex);
        ASSERT_TRUE(seg->cv.wait(lk, Deadline::after(30s), [&] { return seg->ready; }));
        EXPECT_EQ(seg->payload, 42);
    }
    ASSERT_TRUE(p.join(Deadline::after(30s)));
    EXPECT_EQ(p.exit_code(), 0);
}

TEST(ProcessSync, ProcessSemaphore_PingPongAcrossProcesses_AllRounds) {
    test::Watchdog wd{60s};
    const auto name = test::shm_name("sem");
    SharedSegment<SemBlock> seg;
    ASSERT_TRUE(seg.create(name.c_str()));
    const int rounds = static_cast<int>(test::scaled(2000));
    const std::string r = std::to_string(rounds);
    const char* args[] = {name.c_str(), r.c_str(), nullptr};
    Process p;
    ASSERT_TRUE(p.start("sem_pong", args));
    for (int i = 0; i < rounds; ++i) {
        ASSERT_TRUE(seg->ping.release());
        ASSERT_TRUE(seg->pong.acquire(Deadline::after(20s))) << i;
    }
    ASSERT_TRUE(p.join(Deadline::after(30s)));
    EXPECT_EQ(p.exit_code(), 0);
}

TEST(ProcessSync, ProcessBarrier_ThreeProcesses_NoneLeavesEarly) {
    test::Watchdog wd{60s};
    const auto name = test::shm_name("barrier");
    SharedSegment<BarrierBlock> seg;
    ASSERT_TRUE(seg.create(name.c_str()));
    const char* args[] = {name.c_str(), nullptr};
    Process ps[3];
    for (auto& p : ps) ASSERT_TRUE(p.start("barrier_party", args));
    for (auto& p : ps) {
        ASSERT_TRUE(p.join(Deadline::after(30s)));
        EXPECT_EQ(p.exit_code(), 0);
    }
    EXPECT_EQ(seg->saw_all.load(), 3);
}

TEST(ProcessSync, ProcessEvent_SetByParent_ReleasesEveryChild) {
    test::Watchdog wd{60s};
    const auto name = test::shm_name("event");
    SharedSegment<EventBlock> seg;
    ASSERT_TRUE(seg.create(name.c_str()));
    const char* args[] = {name.c_str(), nullptr};
    Process ps[2];
    for (auto& p : ps) ASSERT_TRUE(p.start("event_waiter", args));
    // Both children sleep in wait() before set(): the wake path is the one tested.
    EXPECT_TRUE(test::eventually([&] { return seg->go.sleepers() == 2; }));
    EXPECT_EQ(seg->released.load(), 0);
    seg->go.set();
    for (auto& p : ps) {
        ASSERT_TRUE(p.join(Deadline::after(30s)));
        EXPECT_EQ(p.exit_code(), 0);
    }
    EXPECT_EQ(seg->released.load(), 2);
}

TEST(ProcessSync, SharedSpscQueue_ParentToChild_EveryItemOnceThenClosed) {
    test::Watchdog wd{60s};
    const auto name = test::shm_name("queue");
    SharedSegment<QueueBlock> seg;
    ASSERT_TRUE(seg.create(name.c_str()));
    const char* args[] = {name.c_str(), nullptr};
    Process p;
    ASSERT_TRUE(p.start("queue_consumer", args));
    const long n = test::scaled(20000);
    for (long i = 1; i <= n; ++i) ASSERT_TRUE(seg->q.push(i, Deadline::after(20s))) << i;
    seg->q.close();
    ASSERT_TRUE(p.join(Deadline::after(30s)));
    EXPECT_EQ(p.exit_code(), 0);
    EXPECT_EQ(seg->count.load(), n);
    EXPECT_EQ(seg->sum.load(), n * (n + 1) / 2);
}
