// SPDX-License-Identifier: MIT
// Pipe and SharedDict across processes on Linux (fork): a peer killed with SIGKILL is EOF for the
// other end (also while it is still an unreaped zombie); a process that dies holding a SharedDict's
// lock surfaces as Errc::owner_died to the next caller, with the table repaired.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "ipc_test_support.hpp"
#include "staticrt/fixed_string.hpp"
#include "staticrt/ipc/pipe.hpp"
#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/shared_dict.hpp"
#include "staticrt/ipc/shared_segment.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
namespace ipc = staticrt::ipc;
namespace test = staticrt::test;

namespace {

struct PipeBox {
    ipc::Pipe<1024> pipe;
    std::atomic<std::uint32_t> ready{0};
};

/// Child: connects end 1, sends 0, 1, 2, says so, then waits to be killed (never closes).
int send_three_then_hang(void* arg) noexcept {
    auto* box = static_cast<PipeBox*>(arg);
    auto c = box->pipe.connect(1);
    if (!c) return 10;
    for (int i = 0; i < 3; ++i)
        if (!c->send(i)) return 11;
    box->ready.store(1, std::memory_order_release);
    for (;;) ::pause();
}

/// Child: connects end 1, says so, then never reads.
int connect_then_hang(void* arg) noexcept {
    auto* box = static_cast<PipeBox*>(arg);
    auto c = box->pipe.connect(1);
    if (!c) return 10;
    box->ready.store(1, std::memory_order_release);
    for (;;) ::pause();
}

/// Child: echoes every int it receives, plus one, until EOF; then returns how many it echoed.
int echo_plus_one(void* arg) noexcept {
    auto* box = static_cast<PipeBox*>(arg);
    auto c = box->pipe.connect(1);
    if (!c) return 100;
    int n = 0;
    for (;;) {
        auto v = c->recv<int>(Deadline::after(60s));
        if (!v) return v.code() == Errc::closed ? n : 101;
        if (!c->send(*v + 1, Deadline::after(60s))) return 102;
        ++n;
    }
}

void wait_ready(const PipeBox& box) {
    while (box.ready.load(std::memory_order_acquire) == 0) std::this_thread::sleep_for(1ms);  // bounded by the watchdog
}

}  // namespace

TEST(PipeKill, PeerKilled_UnreapedZombie_RecvDrainsThenClosed) {
    test::Watchdog wd{60s};
    const auto name = test::shm_name("pipe-kill");
    ipc::SharedSegment<PipeBox> seg;
    ASSERT_TRUE(seg.create(name.c_str()));
    auto parent = seg->pipe.connect(0);
    ASSERT_TRUE(parent);
    ipc::Process child;
    ASSERT_TRUE(child.start_fork(&send_three_then_hang, seg.get()));
    wait_ready(*seg);
    ASSERT_TRUE(child.kill());
    // Not joined yet: the child is a zombie, its pid still exists; the robust lock tells.
    for (int i = 0; i < 3; ++i) EXPECT_EQ(parent->recv<int>(Deadline::after(30s)).value_or(-1), i);
    EXPECT_EQ(parent->recv<int>(Deadline::after(30s)).code(), Errc::closed);
    EXPECT_EQ(parent->send(1).code(), Errc::closed);
    ASSERT_TRUE(child.join(Deadline::after(30s)));
    parent->close();
    seg.destroy();
}

TEST(PipeKill, PeerKilledWhileSenderBlockedOnFullRing_SendReturnsClosed) {
    test::Watchdog wd{60s};
    const auto name = test::shm_name("pipe-full");
    ipc::SharedSegment<PipeBox> seg;
    ASSERT_TRUE(seg.create(name.c_str()));
    auto parent = seg->pipe.connect(0);
    ASSERT_TRUE(parent);
    ipc::Process child;
    ASSERT_TRUE(child.start_fork(&connect_then_hang, seg.get()));
    wait_ready(*seg);
    int sent = 0;
    while (parent->send(sent, Deadline::poll())) ++sent;
    EXPECT_EQ(sent, 1024 / 8);  // 4-byte length + 4-byte int each
    auto* shared = reinterpret_cast<staticrt::detail::PipeShared*>(&seg->pipe);  // test knowledge: first member
    std::thread killer([&] {
        // Kill only once the sender is parked on the full ring (observable state, not a sleep).
        while (shared->ring[0].writers_waiting.load() == 0) std::this_thread::yield();
        (void)child.kill();
    });
    EXPECT_EQ(parent->send(sent, Deadline::after(30s)).code(), Errc::closed);
    killer.join();
    ASSERT_TRUE(child.join(Deadline::after(30s)));
    parent->close();
    seg.destroy();
}

TEST(PipeKill, EchoChild_ParentCloses_ChildSeesEofAfterEveryMessage) {
    test::Watchdog wd{60s};
    const auto name = test::shm_name("pipe-echo");
    ipc::SharedSegment<PipeBox> seg;
    ASSERT_TRUE(seg.create(name.c_str()));
    auto parent = seg->pipe.connect(0);
    ASSERT_TRUE(parent);
    ipc::Process child;
    ASSERT_TRUE(child.start_fork(&echo_plus_one, seg.get()));
    constexpr int kCount = 2000;
    for (int i = 0; i < kCount; ++i) {
        ASSERT_TRUE(parent->send(i, Deadline::after(30s)));
        ASSERT_EQ(parent->recv<int>(Deadline::after(30s)).value_or(-1), i + 1);
    }
    parent->close();
    ASSERT_TRUE(child.join(Deadline::after(30s)));
    EXPECT_EQ(child.exit_code(), kCount % 256);  // echoed every message, then saw EOF
    seg.destroy();
}

namespace {
using Dict = ipc::SharedDict<staticrt::FixedString<15>, long, 16>;

int die_inside_update(void* arg) noexcept {
    auto* d = static_cast<Dict*>(arg);
    (void)d->update("apples", 0, [](long& v) noexcept {
        v = 999;
        ::_exit(0);  // dies holding the dict's lock, mid-call
    });
    return 1;
}
}  // namespace

TEST(SharedDictKill, OwnerDiesInsideUpdate_NextCallGetsOwnerDied_TableRepairedAndIntact) {
    test::Watchdog wd{60s};
    const auto name = test::shm_name("dict-died");
    ipc::SharedSegment<Dict> seg;
    ASSERT_TRUE(seg.create(name.c_str()));
    ASSERT_TRUE(seg->insert("apples", 3));
    ASSERT_TRUE(seg->insert("pears", 4));
    ipc::Process child;
    ASSERT_TRUE(child.start_fork(&die_inside_update, seg.get()));
    ASSERT_TRUE(child.join(Deadline::after(30s)));
    ipc::ProcessMutex probe;
    if (!probe.robust()) GTEST_SKIP() << "no robust mutexes here";
    EXPECT_EQ(seg->get("apples").code(), Errc::owner_died);  // surfaced once...
    EXPECT_EQ(seg->repairs(), 1u);
    EXPECT_EQ(seg->get("apples").value(), std::optional<long>{3});  // ...and the table is sound
    EXPECT_EQ(seg->get("pears").value(), std::optional<long>{4});
    EXPECT_EQ(seg->size().value(), 2u);
    EXPECT_TRUE(seg->insert("plums", 5));
    seg.destroy();
}
