// SPDX-License-Identifier: MIT
// Issue 11, cases 2 and 3 across processes. A process-shared MpmcQueue survives producers that
// die inside push (deterministically: the element's source faults mid-copy, after the claim; and
// randomly: SIGKILL storms): every element whose push returned ok is popped exactly once, later
// elements keep flowing, the loss is counted, and pop() after close() ends. ScqQueue (issue 15)
// the same, and a consumer that dies inside pop: nobody waits for the dead process, and the cell
// it held is given back once a producer finds the queue full. Then the scribble
// fuzz: a second process writes random bytes over each shared structure (queues, LogRing, Event)
// without the API; the parent then uses it and must end in a value or an error, by its deadlines,
// with no crash or out-of-bounds access (ASan).
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <new>
#include <random>
#include <thread>
#include <vector>

#include "ipc_test_support.hpp"
#include "staticrt/ipc/log_ring.hpp"
#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/shared_segment.hpp"
#include "staticrt/queue/mpmc_queue.hpp"
#include "staticrt/queue/scq_queue.hpp"
#include "staticrt/queue/spsc_queue.hpp"
#include "staticrt/sync/event.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::ipc::Process;
using staticrt::ipc::SharedSegment;
namespace test = staticrt::test;

namespace {

struct Item {
    std::uint32_t producer;
    std::uint32_t seq;
    unsigned char payload[2040];  // a long copy widens the claim-to-publish window
};
using SharedQ = staticrt::MpmcQueue<Item, 16, staticrt::WaitScope::process_shared>;
using SharedScq = staticrt::ScqQueue<Item, 16, staticrt::WaitScope::process_shared>;

template <class Q>
struct QBlockOf {
    Q q;
    std::atomic<std::uint32_t> pushed[64];  // per producer: pushes that returned ok
};
using QBlock = QBlockOf<SharedQ>;
using ScqBlock = QBlockOf<SharedScq>;

Item make(std::uint32_t producer, std::uint32_t seq) {
    Item it{};
    it.producer = producer;
    it.seq = seq;
    return it;
}

void die_now(int) { ::kill(::getpid(), SIGKILL); }

// In the child: a fault kills the process (no core dump, no handler of the test framework), and
// an Item whose last 64 bytes lie in an unmapped page, so that copying from or into it faults
// part-way. nullptr: no memory.
Item* faulting_item(void (*on_fault)(int) = &die_now) noexcept {
    struct sigaction sa {};
    sa.sa_handler = on_fault;
    ::sigaction(SIGSEGV, &sa, nullptr);
    ::sigaction(SIGBUS, &sa, nullptr);
    const long page = ::sysconf(_SC_PAGESIZE);
    void* m = ::mmap(nullptr, static_cast<std::size_t>(2 * page), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return nullptr;
    ::mprotect(static_cast<char*>(m) + page, static_cast<std::size_t>(page), PROT_NONE);
    return reinterpret_cast<Item*>(static_cast<char*>(m) + page - 64);
}

// Pushes an element whose bytes run into an unmapped page: the copy faults after the claim.
template <class Block>
int die_inside_push(void* arg) noexcept {
    auto* b = static_cast<Block*>(arg);
    const Item* bad = faulting_item();
    if (bad == nullptr) return 3;
    (void)b->q.push(*bad, Deadline::after(10s));
    return 4;  // not reached
}

// Pops into an Item that runs into an unmapped page: the copy out of the cell faults after the
// element was taken from the queue.
template <class Block>
int die_inside_pop(void* arg) noexcept {
    auto* b = static_cast<Block*>(arg);
    Item* bad = faulting_item();
    if (bad == nullptr) return 3;
    (void)b->q.pop(*bad, Deadline::after(10s));
    return 4;  // not reached
}

// Pushes (producer, 0..) until killed; records each ok push.
template <class Block>
struct ProducerArg {
    Block* block;
    std::uint32_t id;
};
template <class Block>
int push_forever(void* arg) noexcept {
    auto* a = static_cast<ProducerArg<Block>*>(arg);
    for (std::uint32_t i = 0;; ++i) {
        if (!a->block->q.push(make(a->id, i), Deadline::after(30s))) return 5;
        a->block->pushed[a->id].store(i + 1);
    }
}

}  // namespace

TEST(ShmQueueFaults, ProducerDiesAfterClaim_CellSkippedLaterItemsDeliveredPopAfterCloseEnds) {
    test::Watchdog wd{60s};
    const auto name = test::shm_name("mq-dead");
    SharedSegment<QBlock> seg;
    ASSERT_TRUE(seg.create(name.c_str()));
    ASSERT_TRUE(seg->q.push(make(0, 0)));
    Process p;
    ASSERT_TRUE(p.start_fork(&die_inside_push<QBlock>, seg.get()));
    ASSERT_TRUE(p.join(Deadline::after(20s)));
    EXPECT_NE(p.exit_code(), 4);
    EXPECT_EQ(seg->q.size_approx(), 2u);  // its claim is there, unpublished
    for (std::uint32_t i = 1; i <= 3; ++i) ASSERT_TRUE(seg->q.push(make(0, i)));
    for (std::uint32_t i = 0; i <= 3; ++i) {
        auto v = seg->q.pop(Deadline::after(10s));  // before: timeout from i == 1 on
        ASSERT_TRUE(v) << "element " << i;
        EXPECT_EQ(v->seq, i);
    }
    EXPECT_EQ(seg->q.lost_to_dead_producers(), 1u);
    ASSERT_TRUE(seg->q.push(make(0, 4)));
    seg->q.close();
    auto v = seg->q.pop();
    ASSERT_TRUE(v);
    EXPECT_EQ(v->seq, 4u);
    EXPECT_EQ(seg->q.pop().code(), Errc::closed);  // Deadline::never(): must end
    seg.destroy();
}

namespace {
/// SIGKILL storms on producers of a process-shared queue: every element whose push returned ok
/// is popped exactly once and in order, a healthy producer's element after each kill arrives,
/// and pop() after close() ends. Returns the elements popped.
template <class Q>
std::uint64_t kill_storm(const char* tag) {
    using Block = QBlockOf<Q>;
    const auto name = test::shm_name(tag);
    SharedSegment<Block> seg;
    if (!seg.create(name.c_str())) {
        ADD_FAILURE() << "segment " << name;
        return 0;
    }
    const long rounds = test::scaled(40, 8);
    std::mt19937 rng(12345);
    std::vector<std::uint32_t> next(64, 0);  // next expected seq per producer
    std::uint64_t popped = 0;
    auto take = [&](Deadline d) -> bool {
        auto v = seg->q.pop(d);
        if (!v) return false;
        const Item& it = *v;
        EXPECT_LT(it.producer, 64u);
        if (it.producer >= 64) return true;
        EXPECT_EQ(it.seq, next[it.producer]) << "producer " << it.producer;  // in order, none missing/duplicated
        next[it.producer] = it.seq + 1;
        ++popped;
        return true;
    };
    ProducerArg<Block> args[64];
    for (long r = 0; r < rounds; ++r) {
        const auto id = static_cast<std::uint32_t>(1 + r % 60);
        args[r % 64] = ProducerArg<Block>{seg.get(), id};
        next[id] = 0;
        seg->pushed[id].store(0);
        Process p;
        EXPECT_TRUE(p.start_fork(&push_forever<Block>, &args[r % 64]));
        const int pops = static_cast<int>(rng() % 40);
        for (int i = 0; i < pops; ++i) EXPECT_TRUE(take(Deadline::after(20s)));
        EXPECT_TRUE(p.kill());
        EXPECT_TRUE(p.join(Deadline::after(20s)));
        // A healthy producer's element after the death must arrive (not vanish behind a dead claim).
        // (We are the only consumer: make room by popping while the queue is full. A blocking push
        // with a short deadline: ScqQueue gives back cells of dead holders only there.)
        const std::uint32_t want = next[0] + 1;
        while (!seg->q.push(make(0, next[0]), Deadline::after(50ms)))
            if (!take(Deadline::after(20s))) {
                ADD_FAILURE() << "round " << r;
                return popped;
            }
        while (next[0] != want)
            if (!take(Deadline::after(20s))) {
                ADD_FAILURE() << "round " << r;
                return popped;
            }
        // Everything the dead producer pushed ok was popped; at most its in-flight one is lost.
        const std::uint32_t ok_pushes = seg->pushed[id].load();
        EXPECT_TRUE(next[id] == ok_pushes || next[id] == ok_pushes + 1) << next[id] << " vs " << ok_pushes;
    }
    // Capacity left after the storm: empty the queue, then push until a push that waited 50 ms
    // (long enough to give back dead holders' cells) finds it full. A process killed in the few
    // instructions between taking a cell and naming itself leaves a cell nobody can give back.
    while (take(Deadline::poll())) {
    }
    // Elements through the empty queue, four times around both rings (ScqQueue: a later lap's
    // dequeuer takes over an index whose dequeuer died after its claim).
    for (std::size_t k = 0; k < 8 * Q::capacity(); ++k) {
        EXPECT_TRUE(seg->q.push(make(0, next[0]), Deadline::after(20s)));
        EXPECT_TRUE(take(Deadline::after(20s)));
    }
    std::uint32_t usable = 0;
    while (usable < Q::capacity() && seg->q.push(make(0, next[0] + usable), Deadline::after(50ms))) ++usable;
    std::printf("[kill storm] %ld kills; %u of %zu cells in service after them\n", rounds, usable, Q::capacity());
    // Every cell a dead producer held comes back (MpmcQueue: skipped; ScqQueue: given back, and
    // an index whose dequeuer died after its claim is taken over). One cell of slack: a kill inside
    // the few instructions between taking a cell and naming the holder loses that cell
    // (docs/queues.md); before the holder's id was asked ahead of the claim, 1-8 of 16 were lost.
    EXPECT_GE(usable + 1, Q::capacity());
    if constexpr (requires { seg->q.debug_dump(); }) { if (usable < Q::capacity()) seg->q.debug_dump(); }
    seg->q.close();
    while (take(Deadline::never())) {
    }
    EXPECT_EQ(seg->q.pop().code(), Errc::closed);
    seg.destroy();
    return popped;
}
}  // namespace

TEST(ShmQueueFaults, KillStormOnProducers_EveryOkPushPoppedOnceLaterItemsFlowPopAfterCloseEnds) {
    test::Watchdog wd{120s};
    const std::uint64_t popped = kill_storm<SharedQ>("mq-storm");
    std::printf("[kill storm] MpmcQueue: %llu popped\n", static_cast<unsigned long long>(popped));
}

TEST(ShmScqFaults, KillStormOnProducers_EveryOkPushPoppedOnceLaterItemsFlowPopAfterCloseEnds) {
    test::Watchdog wd{120s};
    const std::uint64_t popped = kill_storm<SharedScq>("scq-storm");
    std::printf("[kill storm] ScqQueue: %llu popped\n", static_cast<unsigned long long>(popped));
}

namespace {
struct ConsumerBlock {
    SharedScq q;
    std::atomic<std::uint8_t> seen[1 << 16];  // seq -> popped by some consumer
};
// Pops until killed; marks each element it got.
int pop_forever(void* arg) noexcept {
    auto* b = static_cast<ConsumerBlock*>(arg);
    for (;;) {
        auto v = b->q.pop(Deadline::after(30s));
        if (!v) return 5;
        if (v->seq < (1u << 16)) b->seen[v->seq].fetch_add(1);
    }
}
}  // namespace

// Consumers killed at random points of pop(): an element is lost only with the consumer that held
// it (at most one per kill), none is popped twice, and every cell comes back into service (a
// dead consumer's cell is given back when a producer finds the queue full; an element whose
// consumer died after claiming its position is taken over by a consumer of a later lap).
TEST(ShmScqFaults, KillStormOnConsumers_AtMostOneLostPerKillNoneTwiceEveryCellBack) {
    test::Watchdog wd{120s};
    const auto name = test::shm_name("scq-cstorm");
    SharedSegment<ConsumerBlock> seg;
    ASSERT_TRUE(seg.create(name.c_str()));
    const long rounds = test::scaled(40, 8);
    std::mt19937 rng(777);
    std::uint32_t pushed = 0;
    for (long r = 0; r < rounds && pushed + 64 < (1u << 16); ++r) {
        Process p;
        ASSERT_TRUE(p.start_fork(&pop_forever, seg.get()));
        const int pushes = 1 + static_cast<int>(rng() % 40);
        for (int i = 0; i < pushes; ++i) ASSERT_TRUE(seg->q.push(make(0, pushed++), Deadline::after(20s))) << "round " << r;
        ASSERT_TRUE(p.kill());
        ASSERT_TRUE(p.join(Deadline::after(20s)));
    }
    // Around both rings four times with the parent as the only consumer, then count the cells.
    std::uint32_t drained = 0;
    auto drain = [&] {
        Item it{};
        while (seg->q.try_pop(it)) {
            if (it.seq < (1u << 16)) seg->seen[it.seq].fetch_add(1);
            ++drained;
        }
    };
    drain();
    for (std::size_t k = 0; k < 8 * SharedScq::capacity(); ++k) {
        ASSERT_TRUE(seg->q.push(make(0, pushed++), Deadline::after(20s)));
        drain();
    }
    std::uint32_t usable = 0;
    while (usable < SharedScq::capacity() && seg->q.push(make(0, pushed++), Deadline::after(50ms))) ++usable;
    if (usable < SharedScq::capacity()) --pushed;  // the push that found the queue full
    drain();
    std::uint32_t lost = 0;
    for (std::uint32_t i = 0; i < pushed; ++i) {
        EXPECT_LE(seg->seen[i].load(), 1) << "element " << i << " popped twice";
        lost += seg->seen[i].load() == 0 ? 1u : 0u;
    }
    std::printf("[consumer kill storm] %ld kills, %u pushed, %u lost with their consumers, %llu cells given back, "
                "%u of %zu cells in service\n",
                rounds, pushed, lost, static_cast<unsigned long long>(seg->q.cells_reclaimed_from_dead()), usable,
                SharedScq::capacity());
    EXPECT_LE(lost, static_cast<std::uint32_t>(rounds));
    EXPECT_GE(usable + 1, SharedScq::capacity());
    seg->q.close();
    EXPECT_EQ(seg->q.pop().code(), Errc::closed);
    seg.destroy();
}

namespace {
/// Fills `q` with (1, 0..) by try_push (which never gives back dead holders' cells), then with one
/// blocking push (which does, after the queue stayed full for kDeadHolderCheckNs); returns how many
/// went in by try_push. The caller pops them.
template <class Q>
std::uint32_t fill_then_push_blocking(Q& q) {
    std::uint32_t in = 0;
    while (q.try_push(make(1, in))) ++in;
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(q.push(make(1, in), Deadline::after(10s)));
    // Not a speed check: a push that slept until its deadline (no re-check while the queue stayed
    // full, waiting for a notify from a consumer that will never come) would pass at 10 s.
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << "the full queue was not re-checked before the deadline";
    return in;
}

// A process stopped (SIGSTOP, as a debugger or a stuck process would be) in the middle of a
// copy into or out of a cell: the fault handler raises the flag, then stops the process.
struct StuckBlock {
    SharedScq q;
    std::atomic<int> stopped;
};
StuckBlock* g_stuck = nullptr;
void stop_now(int) {
    g_stuck->stopped.store(1);
    ::raise(SIGSTOP);
}
int stuck_inside_push(void* arg) noexcept {
    g_stuck = static_cast<StuckBlock*>(arg);
    const Item* bad = faulting_item(&stop_now);
    if (bad == nullptr) return 3;
    (void)g_stuck->q.push(*bad, Deadline::after(10s));
    return 4;
}
int stuck_inside_pop(void* arg) noexcept {
    g_stuck = static_cast<StuckBlock*>(arg);
    Item* bad = faulting_item(&stop_now);
    if (bad == nullptr) return 3;
    (void)g_stuck->q.pop(*bad, Deadline::after(10s));
    return 4;
}

/// The cell a stopped process holds is not given back while the process exists, however long
/// producers wait on the full queue; once it is killed, the next blocking push gets it back.
void stuck_then_killed(bool in_push) {
    const auto name = test::shm_name(in_push ? "scq-stuck-push" : "scq-stuck-pop");
    SharedSegment<StuckBlock> seg;
    ASSERT_TRUE(seg.create(name.c_str()));
    SharedScq& q = seg->q;
    if (!in_push) {
        for (std::uint32_t i = 0; i <= 2; ++i) ASSERT_TRUE(q.push(make(0, i)));
    }
    Process p;
    ASSERT_TRUE(p.start_fork(in_push ? &stuck_inside_push : &stuck_inside_pop, seg.get()));
    while (seg->stopped.load() == 0) std::this_thread::sleep_for(1ms);  // the watchdog bounds it
    if (!in_push) {
        for (std::uint32_t i = 1; i <= 2; ++i) {  // element 0 is in the stopped consumer's hands
            auto v = q.pop(Deadline::poll());
            ASSERT_TRUE(v) << "element " << i;
            EXPECT_EQ(v->seq, i);
        }
    }
    std::uint32_t in = 0;
    while (q.try_push(make(1, in))) ++in;
    EXPECT_EQ(in, 15u);
    // 50 ms of a full queue: the holder is looked up several times and found alive.
    EXPECT_EQ(q.push(make(1, in), Deadline::after(50ms)).code(), Errc::timeout);
    EXPECT_EQ(q.cells_reclaimed_from_dead(), 0u);
    ASSERT_TRUE(p.kill());
    ASSERT_TRUE(p.join(Deadline::after(20s)));
    EXPECT_TRUE(q.push(make(1, in), Deadline::after(10s)));
    EXPECT_EQ(q.cells_reclaimed_from_dead(), 1u);
    for (std::uint32_t i = 0; i <= 15; ++i) {
        auto v = q.pop(Deadline::poll());
        ASSERT_TRUE(v) << "element " << i;
        EXPECT_EQ(v->producer, 1u);
        EXPECT_EQ(v->seq, i);
    }
    q.close();
    EXPECT_EQ(q.pop().code(), Errc::closed);
    seg.destroy();
}
}  // namespace

TEST(ShmScqFaults, StuckProducer_ItsCellStaysItsOwnUntilItIsKilled) {
    test::Watchdog wd{60s};
    stuck_then_killed(true);
}

TEST(ShmScqFaults, StuckConsumer_ItsCellStaysItsOwnUntilItIsKilled) {
    test::Watchdog wd{60s};
    stuck_then_killed(false);
}

TEST(ShmScqFaults, ProducerDiesInsidePush_NobodyWaitsItsCellComesBackWhenFull) {
    test::Watchdog wd{60s};
    const auto name = test::shm_name("scq-dead-push");
    SharedSegment<ScqBlock> seg;
    ASSERT_TRUE(seg.create(name.c_str()));
    ASSERT_TRUE(seg->q.push(make(0, 0)));
    Process p;
    ASSERT_TRUE(p.start_fork(&die_inside_push<ScqBlock>, seg.get()));
    ASSERT_TRUE(p.join(Deadline::after(20s)));
    EXPECT_NE(p.exit_code(), 4);
    EXPECT_EQ(seg->q.size_approx(), 1u);  // the dead push never reached the element ring
    for (std::uint32_t i = 1; i <= 3; ++i) ASSERT_TRUE(seg->q.push(make(0, i)));
    for (std::uint32_t i = 0; i <= 3; ++i) {
        auto v = seg->q.pop(Deadline::poll());  // no waiting for the dead producer, not even a blocking pop's
        ASSERT_TRUE(v) << "element " << i;
        EXPECT_EQ(v->seq, i);
    }
    // 15 cells in service; the 16th is held by the dead process until a push finds the queue full.
    EXPECT_EQ(seg->q.cells_reclaimed_from_dead(), 0u);
    EXPECT_EQ(fill_then_push_blocking(seg->q), 15u);
    EXPECT_EQ(seg->q.cells_reclaimed_from_dead(), 1u);
    for (std::uint32_t i = 0; i <= 15; ++i) {
        auto v = seg->q.pop(Deadline::poll());
        ASSERT_TRUE(v) << "element " << i;
        EXPECT_EQ(v->producer, 1u);
        EXPECT_EQ(v->seq, i);
    }
    seg->q.close();
    EXPECT_EQ(seg->q.pop().code(), Errc::closed);  // Deadline::never(): must end
    seg.destroy();
}

TEST(ShmScqFaults, ConsumerDiesInsidePop_ItsElementDiesWithItOthersFlowCellComesBackWhenFull) {
    test::Watchdog wd{60s};
    const auto name = test::shm_name("scq-dead-pop");
    SharedSegment<ScqBlock> seg;
    ASSERT_TRUE(seg.create(name.c_str()));
    for (std::uint32_t i = 0; i <= 2; ++i) ASSERT_TRUE(seg->q.push(make(0, i)));
    Process p;
    ASSERT_TRUE(p.start_fork(&die_inside_pop<ScqBlock>, seg.get()));
    ASSERT_TRUE(p.join(Deadline::after(20s)));
    EXPECT_NE(p.exit_code(), 4);
    for (std::uint32_t i = 1; i <= 2; ++i) {  // element 0 was taken by the dead consumer
        auto v = seg->q.pop(Deadline::poll());
        ASSERT_TRUE(v) << "element " << i;
        EXPECT_EQ(v->seq, i);
    }
    EXPECT_EQ(seg->q.pop(Deadline::poll()).code(), Errc::timeout);
    EXPECT_EQ(fill_then_push_blocking(seg->q), 15u);
    EXPECT_EQ(seg->q.cells_reclaimed_from_dead(), 1u);
    for (std::uint32_t i = 0; i <= 15; ++i) {
        auto v = seg->q.pop(Deadline::poll());
        ASSERT_TRUE(v) << "element " << i;
        EXPECT_EQ(v->seq, i);
    }
    seg->q.close();
    EXPECT_EQ(seg->q.pop().code(), Errc::closed);
    seg.destroy();
}

// ---------------------------------------------------------------- scribble fuzz

namespace {
struct ScribbleArg {
    void* at;
    std::size_t bytes;
    std::uint64_t seed;
};
int scribble_child(void* arg) noexcept {
    auto* a = static_cast<ScribbleArg*>(arg);
    std::uint64_t s = a->seed | 1;
    auto* p = static_cast<unsigned char*>(a->at);
    for (std::size_t i = 0; i < a->bytes; ++i) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        // Mostly random, sometimes small values, which look like valid positions and lengths.
        p[i] = (s >> 40) % 4 == 0 ? static_cast<unsigned char>(s % 3) : static_cast<unsigned char>(s);
    }
    return 0;
}
template <class T>
void scribble_from_child(T& obj, std::uint64_t seed) {
    ScribbleArg a{&obj, sizeof(T), seed};
    Process p;
    ASSERT_TRUE(p.start_fork(&scribble_child, &a));
    ASSERT_TRUE(p.join(Deadline::after(20s)));
    ASSERT_EQ(p.exit_code(), 0);
}
bool acceptable(Errc c) { return c == Errc::timeout || c == Errc::closed || c == Errc::corrupted; }

using FuzzMpmc = staticrt::MpmcQueue<std::uint64_t, 32, staticrt::WaitScope::process_shared>;
using FuzzSpsc = staticrt::SpscQueue<std::uint64_t, 32, staticrt::WaitScope::process_shared>;
using FuzzScq = staticrt::ScqQueue<std::uint64_t, 32, staticrt::WaitScope::process_shared>;
using FuzzScqCompact = staticrt::CompactScqQueue<std::uint64_t, 32, staticrt::WaitScope::process_shared>;
using FuzzRing = staticrt::ipc::LogRing<16, 32>;
struct FuzzBlock {
    FuzzMpmc mq;
    FuzzSpsc sq;
    FuzzScq scq;
    FuzzScqCompact scq_compact;
    FuzzRing ring;
    staticrt::ProcessEvent ev;
};
void count_sink(void* ctx, const char* line, std::size_t bytes) noexcept {
    *static_cast<std::size_t*>(ctx) += bytes;
    if (bytes > 0) (void)line[bytes - 1];  // touch the whole line: ASan checks the formatter's output
}
template <class Q>
void use_queue(Q& q) {
    std::uint64_t v = 0;
    for (int i = 0; i < 50; ++i) {
        (void)q.try_push(static_cast<std::uint64_t>(i));
        (void)q.try_pop(v);
    }
    auto p = q.pop(Deadline::after(2ms));
    EXPECT_TRUE(p || acceptable(p.code())) << static_cast<int>(p.code());
    auto r = q.push(7u, Deadline::after(2ms));
    EXPECT_TRUE(r || acceptable(r.code())) << static_cast<int>(r.code());
    q.close();
    for (int i = 0; i < 3 * 32; ++i) {
        auto e = q.pop(Deadline::after(2ms));
        if (!e) {
            EXPECT_TRUE(acceptable(e.code())) << static_cast<int>(e.code());
            break;
        }
    }
}
}  // namespace

TEST(ShmScribbleFuzz, RandomBytesFromAnotherProcess_EveryStructureEndsInValueOrError) {
    test::Watchdog wd{120s};
    const auto name = test::shm_name("scribble");
    SharedSegment<FuzzBlock> seg;
    ASSERT_TRUE(seg.create(name.c_str()));
    const long rounds = test::scaled(60, 10);
    for (long r = 0; r < rounds; ++r) {
        const auto seed = static_cast<std::uint64_t>(0xC0FFEE + r * 7919);
        scribble_from_child(seg->mq, seed);
        use_queue(seg->mq);
        scribble_from_child(seg->sq, seed + 1);
        use_queue(seg->sq);
        scribble_from_child(seg->scq, seed + 4);
        use_queue(seg->scq);
        scribble_from_child(seg->scq_compact, seed + 5);
        use_queue(seg->scq_compact);

        scribble_from_child(seg->ring, seed + 2);
        for (int i = 0; i < 40; ++i) (void)seg->ring.write("scribbled ring line");  // ends: bounded spins
        std::size_t bytes = 0;
        (void)seg->ring.drain(&count_sink, &bytes);
        auto w = seg->ring.wait_for_lines(Deadline::after(1ms));
        EXPECT_TRUE(w || w.code() == Errc::timeout);
        (void)seg->ring.drain(&count_sink, &bytes);

        scribble_from_child(seg->ev, seed + 3);
        auto e = seg->ev.wait(Deadline::after(1ms));
        EXPECT_TRUE(e || e.code() == Errc::timeout);
        seg->ev.set();
        EXPECT_TRUE(seg->ev.wait(Deadline::after(1ms)));
    }
    seg.destroy();
}

TEST(ShmScribbleFuzz, LogRingHugeLength_DrainStaysInsideTheSlot) {
    // The one known crash: a published slot with len = 0xFFFFFFFF (drain read past the ring).
    test::Watchdog wd{30s};
    // A fresh ring in static storage sized exactly: the last slot ends where the object ends.
    alignas(FuzzRing) static unsigned char storage[sizeof(FuzzRing)];
    FuzzRing& ring = *::new (storage) FuzzRing;
    std::size_t sink_bytes = 0;
    for (std::size_t i = 0; i + 1 < FuzzRing::kSlots; ++i) ASSERT_TRUE(ring.write("abc"));
    ASSERT_EQ(ring.drain(&count_sink, &sink_bytes), FuzzRing::kSlots - 1);
    ASSERT_TRUE(ring.write("hello"));  // lands in the LAST slot: an overrun leaves the object
    // Find the published slot's len behind the API (the only 32-bit word holding 5).
    auto* bytes = reinterpret_cast<unsigned char*>(&ring);
    std::size_t found = 0;
    for (std::size_t off = sizeof ring - 128; off + 8 <= sizeof ring; off += 4) {  // the last slot
        std::uint32_t v;
        std::memcpy(&v, bytes + off, 4);
        if (v == 5u) {  // len of "hello"
            v = 0xFFFFFFFFu;
            std::memcpy(bytes + off, &v, 4);
            ++found;
            break;
        }
    }
    ASSERT_EQ(found, 1u);
    std::size_t out = 0;
    EXPECT_EQ(ring.drain(&count_sink, &out), 1u);
    EXPECT_LE(out, FuzzRing::kFormattedBytes);
}
