// SPDX-License-Identifier: MIT
// Stress across processes (fork): SharedDict updates from several processes lose and duplicate
// nothing; under a kill storm every acknowledged update survives (an unacknowledged one may or
// may not have landed) and the table stays consistent; a Pipe carries many variable-size
// messages between two processes intact and in order.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>
#include <thread>

#include "ipc_test_support.hpp"
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

constexpr int kKeys = 16;
constexpr int kChildren = 4;

struct Board {
    ipc::SharedDict<std::uint32_t, std::uint64_t, 32> dict;
    std::atomic<std::uint64_t> acked[kChildren][kKeys] = {};  // updates each child saw succeed
    std::atomic<std::uint32_t> next_child{0};
    std::atomic<std::uint32_t> started{0};
    long per_child = 0;  // 0: forever
};

int updater(void* arg) noexcept {
    auto* b = static_cast<Board*>(arg);
    const std::uint32_t me = b->next_child.fetch_add(1) % kChildren;
    b->started.fetch_add(1);
    for (long i = 0; b->per_child == 0 || i < b->per_child; ++i) {
        const std::uint32_t k = static_cast<std::uint32_t>(i * 7 + me) % kKeys;
        auto r = b->dict.update(k, 0, [](std::uint64_t& v) noexcept { ++v; });
        if (r) b->acked[me][k].fetch_add(1);
        else if (r.code() != Errc::owner_died) return 20;  // owner_died: repaired, not applied
    }
    return 0;
}

}  // namespace

TEST(IpcVocabularyStress, SharedDictUpdatesFromProcesses_NothingLostOrDuplicated) {
    test::Watchdog wd{120s};
    const auto name = test::shm_name("dict-stress");
    ipc::SharedSegment<Board> seg;
    ASSERT_TRUE(seg.create(name.c_str()));
    seg->per_child = test::scaled(20000, 500);
    ipc::Process kids[kChildren];
    for (auto& k : kids) ASSERT_TRUE(k.start_fork(&updater, seg.get()));
    for (auto& k : kids) {
        ASSERT_TRUE(k.join(Deadline::after(100s)));
        EXPECT_EQ(k.exit_code(), 0);
    }
    std::uint64_t total = 0;
    for (std::uint32_t k = 0; k < kKeys; ++k) {
        std::uint64_t acked = 0;
        for (auto& c : seg->acked) acked += c[k].load();
        const auto v = seg->dict.get(k).value().value_or(0);
        EXPECT_EQ(v, acked) << "key " << k;
        total += v;
    }
    EXPECT_EQ(total, static_cast<std::uint64_t>(seg->per_child) * kChildren);
    seg.destroy();
}

TEST(IpcVocabularyStress, SharedDictKillStorm_AckedUpdatesSurvive_TableConsistent) {
    if (test::kThreadSanitizer) GTEST_SKIP() << "TSan misreports the owner-died recovery of a robust mutex";
    test::Watchdog wd{180s};
    const auto name = test::shm_name("dict-kill");
    ipc::SharedSegment<Board> seg;
    ASSERT_TRUE(seg.create(name.c_str()));
    seg->per_child = 0;
    const long kills = test::scaled(60, 5);
    std::mt19937 rng(4242);
    std::printf("dict kill storm: seed 4242, %ld kills\n", kills);
    ipc::Process kid;
    long owner_died_seen = 0;
    for (long i = 0; i < kills; ++i) {
        const std::uint32_t before = seg->started.load();
        ASSERT_TRUE(kid.start_fork(&updater, seg.get()));
        while (seg->started.load() == before) std::this_thread::yield();
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 3000));  // a random moment, not a sync
        ASSERT_TRUE(kid.kill());
        ASSERT_TRUE(kid.join(Deadline::after(30s)));
        // The parent also uses the dict between kills: it must see owner_died at most once per kill.
        auto r = seg->dict.contains(0);
        if (!r) {
            ASSERT_EQ(r.code(), Errc::owner_died);
            ++owner_died_seen;
        }
    }
    std::printf("dict kill storm: %ld owner_died seen by the parent, %u repairs\n", owner_died_seen,
                seg->dict.repairs());
    decltype(seg->dict)::Entry all[32];
    const std::size_t n = seg->dict.snapshot(all).value();
    EXPECT_EQ(n, seg->dict.size().value());
    std::set<std::uint32_t> keys;
    for (std::size_t i = 0; i < n; ++i) EXPECT_TRUE(keys.insert(all[i].key).second) << "duplicate key";
    for (std::uint32_t k = 0; k < kKeys; ++k) {
        std::uint64_t acked = 0;
        for (auto& c : seg->acked) acked += c[k].load();
        const auto v = seg->dict.get(k).value().value_or(0);
        // Nothing acknowledged is lost; at most one unacknowledged update per kill landed.
        EXPECT_GE(v, acked) << "key " << k;
        EXPECT_LE(v, acked + static_cast<std::uint64_t>(kills)) << "key " << k;
    }
    seg.destroy();
}

namespace {
struct PipeBox {
    ipc::Pipe<4096> pipe;
    long count = 0;
};

/// Child: sends `count` messages of 0..1000 bytes: its index, then a pattern; then closes.
int pipe_producer(void* arg) noexcept {
    auto* box = static_cast<PipeBox*>(arg);
    auto c = box->pipe.connect(1);
    if (!c) return 10;
    std::byte buf[1024];
    for (long i = 0; i < box->count; ++i) {
        const std::size_t len = 8 + static_cast<std::size_t>(i * 131) % 993;
        std::memcpy(buf, &i, 8);
        for (std::size_t j = 8; j < len; ++j) buf[j] = static_cast<std::byte>((i + static_cast<long>(j)) & 0xff);
        if (!c->send_bytes(std::span(buf, len), Deadline::after(60s))) return 11;
    }
    c->close();
    return 0;
}
}  // namespace

TEST(IpcVocabularyStress, PipeBetweenProcesses_EveryMessageOnceInOrderIntact_ThenEof) {
    test::Watchdog wd{120s};
    const auto name = test::shm_name("pipe-stress");
    ipc::SharedSegment<PipeBox> seg;
    ASSERT_TRUE(seg.create(name.c_str()));
    seg->count = test::scaled(100000, 1000);
    auto parent = seg->pipe.connect(0);
    ASSERT_TRUE(parent);
    ipc::Process kid;
    ASSERT_TRUE(kid.start_fork(&pipe_producer, seg.get()));
    std::byte buf[1024];
    long bad = 0;
    for (long i = 0; i < seg->count; ++i) {
        auto n = parent->recv_bytes(buf, Deadline::after(60s));
        ASSERT_TRUE(n) << "message " << i;
        long seq = -1;
        std::memcpy(&seq, buf, 8);
        bad += seq != i;
        bad += *n != 8 + static_cast<std::size_t>(i * 131) % 993;
        for (std::size_t j = 8; j < *n; ++j) bad += buf[j] != static_cast<std::byte>((i + static_cast<long>(j)) & 0xff);
    }
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(parent->recv_bytes(buf, Deadline::after(60s)).code(), Errc::closed);
    ASSERT_TRUE(kid.join(Deadline::after(30s)));
    EXPECT_EQ(kid.exit_code(), 0);
    parent->close();  // before the mapping goes away
    seg.destroy();
}
