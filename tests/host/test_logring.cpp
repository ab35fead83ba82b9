// SPDX-License-Identifier: MIT
// LogRing: whole lines, counted drops and truncation, and 4 processes x many lines with every
// line exactly once (or counted as dropped) and none torn.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ipc_test_support.hpp"
#include "staticrt/ipc/log_ring.hpp"
#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/shared_segment.hpp"
#include "eventually.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::ipc::LogRing;
using staticrt::ipc::Process;
using staticrt::ipc::SharedSegment;
namespace test = staticrt::test;

namespace {

using Ring = LogRing<4096, 64>;

void collect(void* ctx, const char* line, std::size_t n) noexcept {
    static_cast<std::vector<std::string>*>(ctx)->emplace_back(line, n);
}

// Text after "] " without the '\n'.
std::string text_of(const std::string& line) {
    const char* p = std::strstr(line.c_str(), "] ");
    if (p == nullptr) return {};
    p += 2;
    const char* end = line.c_str() + line.size();
    if (end > p && end[-1] == '\n') --end;
    return std::string(p, end);
}

// argv: ring name, producer id, lines
int entry_log_producer(int argc, const char* const* argv) noexcept {
    if (argc < 3) return 2;
    SharedSegment<Ring> ring;
    if (!ring.open(argv[0], Deadline::after(5s))) return 3;
    const int id = std::atoi(argv[1]);
    const long n = std::atol(argv[2]);
    char buf[64];
    for (long i = 0; i < n; ++i) {
        const int len = std::snprintf(buf, sizeof buf, "p%d line %ld end", id, i);
        (void)ring->write(std::string_view(buf, static_cast<std::size_t>(len)));
    }
    return 0;
}

}  // namespace

STATICRT_TEST_ENTRY("log_producer", &entry_log_producer);

TEST(LogRing, WriteThenDrain_WholeLinesWithPrefix) {
    static LogRing<8, 32> ring;
    EXPECT_FALSE(ring.has_lines());
    EXPECT_TRUE(ring.write("hello"));
    EXPECT_TRUE(ring.write("world\n"));
    EXPECT_TRUE(ring.has_lines());
    std::vector<std::string> out;
    EXPECT_EQ(ring.drain(&collect, &out), 2u);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(text_of(out[0]), "hello");
    EXPECT_EQ(text_of(out[1]), "world");
    char prefix[32];  // (not "[" + std::to_string(): g++ 12 -O3 raises a false -Wrestrict on it)
    std::snprintf(prefix, sizeof prefix, "[%ld:", static_cast<long>(::getpid()));
    EXPECT_EQ(out[0].rfind(prefix, 0), 0u) << out[0];
    EXPECT_EQ(out[0].back(), '\n');
    EXPECT_EQ(ring.drain(&collect, &out), 0u);
}

TEST(LogRing, Full_DropsCountedAndReported) {
    static LogRing<4, 32> ring;
    for (int i = 0; i < 4; ++i) EXPECT_TRUE(ring.write("x"));
    EXPECT_FALSE(ring.write("lost 1"));
    EXPECT_FALSE(ring.write("lost 2"));
    EXPECT_EQ(ring.dropped(), 2u);
    std::vector<std::string> out;
    EXPECT_EQ(ring.drain(&collect, &out), 5u);
    EXPECT_EQ(text_of(out[0]), "staticrt.logring: 2 lines dropped");
    EXPECT_TRUE(ring.write("again"));  // room after the drain
    out.clear();
    EXPECT_EQ(ring.drain(&collect, &out), 1u);
    EXPECT_EQ(text_of(out[0]), "again");
}

TEST(LogRing, LongLine_TruncatedAndCounted) {
    static LogRing<4, 16> ring;
    EXPECT_TRUE(ring.write("0123456789abcdefOVERFLOW"));
    EXPECT_EQ(ring.truncated(), 1u);
    std::vector<std::string> out;
    (void)ring.drain(&collect, &out);
    EXPECT_EQ(text_of(out[0]), "0123456789abcdef");
}

TEST(LogRing, WaitForLines_EmptyTimesOut) {
    static LogRing<4, 16> ring;
    EXPECT_EQ(ring.wait_for_lines(Deadline::after(10ms)).code(), Errc::timeout);
    EXPECT_TRUE(ring.write("a"));
    EXPECT_TRUE(ring.wait_for_lines(Deadline::never()));
}

TEST(LogRing, FourProcesses_EveryLineOnceOrCountedDrop_NoneTorn) {
    test::Watchdog wd{120s};
    const auto name = test::shm_name("logring");
    SharedSegment<Ring> ring;
    ASSERT_TRUE(ring.create(name.c_str()));
    const long lines = test::scaled(100000);
    const std::string n = std::to_string(lines);
    constexpr int kProcs = 4;
    std::string ids[kProcs] = {"0", "1", "2", "3"};
    Process ps[kProcs];
    for (int i = 0; i < kProcs; ++i) {
        const char* args[] = {name.c_str(), ids[i].c_str(), n.c_str(), nullptr};
        ASSERT_TRUE(ps[i].start("log_producer", args));
    }
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(lines) * kProcs + 100);
    int running = kProcs;
    while (running > 0) {
        (void)ring->wait_for_lines(Deadline::after(5ms));
        (void)ring->drain(&collect, &out);
        running = 0;
        for (auto& p : ps) running += p.is_alive() ? 1 : 0;
    }
    (void)ring->drain(&collect, &out);
    for (auto& p : ps) {
        ASSERT_TRUE(p.join(Deadline::after(10s)));
        EXPECT_EQ(p.exit_code(), 0);
    }
    std::vector<long> next(kProcs, 0);
    std::vector<long> got(kProcs, 0);
    std::uint64_t reported_drops = 0;
    for (const auto& line : out) {
        const std::string t = text_of(line);
        unsigned long long d = 0;
        if (std::sscanf(t.c_str(), "staticrt.logring: %llu lines dropped", &d) == 1) {
            reported_drops += d;
            continue;
        }
        int id = -1;
        long i = -1;
        char end[8] = {};
        ASSERT_EQ(std::sscanf(t.c_str(), "p%d line %ld %7s", &id, &i, end), 3) << "torn: " << line;
        ASSERT_STREQ(end, "end") << "torn: " << line;
        ASSERT_TRUE(id >= 0 && id < kProcs) << line;
        ASSERT_GE(i, next[static_cast<std::size_t>(id)]) << "duplicate or reordered: " << line;  // FIFO per producer
        next[static_cast<std::size_t>(id)] = i + 1;
        ++got[static_cast<std::size_t>(id)];
    }
    long total = 0;
    for (long g : got) total += g;
    EXPECT_EQ(static_cast<std::uint64_t>(total) + ring->dropped(), static_cast<std::uint64_t>(lines) * kProcs);
    EXPECT_EQ(reported_drops, ring->dropped());
    std::printf("logring: %ld lines received, %llu dropped (counted)\n", total,
                static_cast<unsigned long long>(ring->dropped()));
}

namespace {
thread_local bool t_stall_in_write = false;
// Hook: a forked writer dies between claiming its slot and publishing its line.
void die_mid_line() noexcept {
    if (t_stall_in_write) ::raise(SIGKILL);
}
// Hook: a live writer is slow between claiming and publishing (longer than the drain's check).
std::atomic<bool> g_claimed{false};  // the slow writer has claimed its slot (set by the hook)
void pause_mid_line() noexcept {
    if (!t_stall_in_write) return;
    g_claimed.store(true);
    std::this_thread::sleep_for(150ms);  // the scenario: a slow writer (not a synchronisation)
}
struct HookReset {
    ~HookReset() { staticrt::detail::log_ring_claim_hook = nullptr; }
};

/// Drains until `want` lines with text were seen or the deadline passes.
std::vector<std::string> drain_until(Ring& ring, std::size_t want, Deadline d) {
    std::vector<std::string> got;
    while (got.size() < want && !d.expired()) {
        (void)ring.wait_for_lines(Deadline::after(50ms));
        (void)ring.drain(&collect, &got);
    }
    return got;
}
}  // namespace

TEST(LogRing, WriterDiesMidLine_DrainSkipsTornLineReportsItAndGoesOn) {
    test::Watchdog wd{60s};
    HookReset reset;
    const auto name = test::shm_name("log-dead");
    SharedSegment<Ring> ring;
    ASSERT_TRUE(ring.create(name.c_str()));
    ASSERT_TRUE(ring->write("before"));
    staticrt::detail::log_ring_claim_hook = &die_mid_line;
    Process child;
    ASSERT_TRUE(child.start_fork(
        [](void* r) noexcept {
            t_stall_in_write = true;
            (void)static_cast<Ring*>(r)->write("torn line that must never be printed");
            return 0;
        },
        ring.get()));
    ASSERT_TRUE(child.join(Deadline::after(20s)));
    EXPECT_EQ(child.exit_code().value_or(0), -SIGKILL);
    const auto dead_pid = child.pid();
    ASSERT_TRUE(ring->write("after 1"));
    ASSERT_TRUE(ring->write("after 2"));
    auto got = drain_until(*ring, 4, Deadline::after(20s));
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(text_of(got[0]), "before");
    EXPECT_EQ(text_of(got[1]),
              "staticrt.logring: 1 line lost: writer " + std::to_string(dead_pid) + " died while writing it");
    EXPECT_EQ(text_of(got[2]), "after 1");
    EXPECT_EQ(text_of(got[3]), "after 2");
    for (const auto& l : got) EXPECT_EQ(l.find("torn"), std::string::npos) << l;
    EXPECT_EQ(ring->dropped(), 1u);
    EXPECT_EQ(ring->lost_to_dead_writers(), 1u);
    // The slot is reusable: the ring keeps working for a full lap.
    std::vector<std::string> more;
    for (std::size_t i = 0; i < Ring::kSlots + 10; ++i) {
        ASSERT_TRUE(ring->write("lap"));
        (void)ring->drain(&collect, &more);
    }
    EXPECT_EQ(more.size(), Ring::kSlots + 10);
    EXPECT_EQ(ring->dropped(), 1u);
}

TEST(LogRing, LiveWriterSlowMidLine_NotSkippedLineArrivesWhole) {
    test::Watchdog wd{60s};
    HookReset reset;
    const auto name = test::shm_name("log-slow");
    SharedSegment<Ring> ring;
    ASSERT_TRUE(ring.create(name.c_str()));
    g_claimed.store(false);
    staticrt::detail::log_ring_claim_hook = &pause_mid_line;
    std::thread slow([&] {
        t_stall_in_write = true;
        (void)ring->write("slow but alive");
    });
    ASSERT_TRUE(test::eventually([] { return g_claimed.load(); }));  // the slow writer holds its slot
    ASSERT_TRUE(ring->write("behind it"));
    auto got = drain_until(*ring, 2, Deadline::after(20s));
    slow.join();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(text_of(got[0]), "slow but alive");
    EXPECT_EQ(text_of(got[1]), "behind it");
    EXPECT_EQ(ring->dropped(), 0u);
}
