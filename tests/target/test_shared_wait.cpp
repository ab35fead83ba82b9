// SPDX-License-Identifier: MIT
// Conformance: process-shared wait-on-address on words inside shared-memory segments (the same
// word at different addresses: two mappings in one process, and across processes), deadlines,
// words outside any segment; unlink semantics (the name goes, mappings stay, a new create makes
// a new segment); a daemon child killed when its parent dies abnormally.
//
// Children are this executable started again with platform::spawn_self and the flag below,
// recognised by this file's own static initialiser — independent of the entry registry (and of
// the order in which translation units register entries).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "staticrt/platform/process.hpp"
#include "staticrt/platform/shared_memory.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"
#include "staticrt/sync/mutex.hpp"

#include "eventually.hpp"
#include "skip.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
namespace platform = staticrt::platform;
using platform::WaitScope;
using staticrt::test::await_parked;

namespace {

constexpr char kChildFlag[] = "--staticrt-shared-wait-child=";

// The layout every process of these tests maps.
struct Board {
    std::atomic<std::uint32_t> ready;      ///< child -> parent: set up (1)
    std::atomic<std::uint32_t> go;         ///< parent -> child: proceed (1)
    std::atomic<std::uint32_t> done;       ///< child -> parent: finished (1)
    std::atomic<std::uint32_t> heartbeat;  ///< sleeper: counts while it lives
    std::atomic<std::int64_t> pid;         ///< middle -> parent: the daemon grandchild's pid
    std::atomic<std::uint32_t> ping;       ///< ping-pong: parent's round
    std::atomic<std::uint32_t> pong;       ///< ping-pong: child's answer
};

constexpr std::uint32_t kPingPongRounds = 300;

// Waits (process-shared) until w == want; false at the deadline.
bool wait_equal(const std::atomic<std::uint32_t>& w, std::uint32_t want, Deadline d) {
    for (;;) {
        const std::uint32_t v = w.load(std::memory_order_acquire);
        if (v == want) return !d.expired();
        if (!platform::wait(w, v, d, WaitScope::process_shared)) return false;
    }
}

void set_and_wake(std::atomic<std::uint32_t>& w, std::uint32_t v) {
    w.store(v, std::memory_order_release);
    platform::wake_all(w, WaitScope::process_shared);
}

// Waits (process-shared) until w != 0; false on an error or when the deadline passed first. A
// wait that times out reports success when the word changed meanwhile (like the futex), so a
// lost wake-up is caught by the deadline having expired: the deadlines here are many seconds
// longer than any delivered wake-up takes.
bool wait_nonzero(const std::atomic<std::uint32_t>& w, Deadline d) {
    while (w.load(std::memory_order_acquire) == 0) {
        if (!platform::wait(w, 0, d, WaitScope::process_shared)) return false;
    }
    return !d.expired();
}

// ---- child side

int child_waiter(const char* seg) {
    platform::SharedMemory shm;
    if (!shm.open(seg)) return 2;
    auto* b = static_cast<Board*>(shm.data());
    set_and_wake(b->ready, 1);
    if (!wait_nonzero(b->go, Deadline::after(60s))) return 3;
    set_and_wake(b->done, 1);
    return 0;
}

// Answers every ping with a pong of the same number; each side parks between rounds.
int child_ponger(const char* seg) {
    platform::SharedMemory shm;
    if (!shm.open(seg)) return 2;
    auto* b = static_cast<Board*>(shm.data());
    for (std::uint32_t i = 1; i <= kPingPongRounds; ++i) {
        if (!wait_equal(b->ping, i, Deadline::after(30s))) return 3;
        b->pong.store(i, std::memory_order_release);
        platform::wake_one(b->pong, WaitScope::process_shared);
    }
    return 0;
}

int child_sleeper(const char* seg, const char* parent) {
    // POSIX: a spawned daemon asks for its death signal itself (what ipc::child_main_hook does);
    // Windows: the job object of the parent does it (not_supported here is expected).
    auto r = platform::set_parent_death_signal(std::atoll(parent));
    if (r.code() == Errc::process_died) return 4;
    platform::SharedMemory shm;
    if (!shm.open(seg)) return 2;
    auto* b = static_cast<Board*>(shm.data());
    const Deadline end = Deadline::after(60s);  // never outlive a failed test for long
    while (!end.expired()) {
        b->heartbeat.fetch_add(1, std::memory_order_release);
        platform::sleep_for(5ms);
    }
    return 0;
}

int child_middle(const char* seg) {
    platform::SharedMemory shm;
    if (!shm.open(seg)) return 2;
    auto* b = static_cast<Board*>(shm.data());
    char role[96];
    std::snprintf(role, sizeof role, "%ssleeper", kChildFlag);
    char me[32];
    std::snprintf(me, sizeof me, "%lld", static_cast<long long>(platform::current_process_id()));
    const char* args[] = {role, seg, me, nullptr};
    static platform::ProcessHandle h;  // static: stays open until the process is killed
    platform::SpawnOptions o;
    o.die_with_parent = true;
    if (!platform::spawn_self(h, args, o)) return 5;
    b->pid.store(h.pid(), std::memory_order_relaxed);
    set_and_wake(b->ready, 1);  // [test] release: publishes pid
    for (;;) platform::sleep_for(1s);  // until the parent kills us
}

int child_main(const char* role, int argc, const char* const* argv) {
    if (std::strcmp(role, "ping") == 0) return 42;
    if (std::strcmp(role, "waiter") == 0 && argc >= 1) return child_waiter(argv[0]);
    if (std::strcmp(role, "sleeper") == 0 && argc >= 2) return child_sleeper(argv[0], argv[1]);
    if (std::strcmp(role, "middle") == 0 && argc >= 1) return child_middle(argv[0]);
    if (std::strcmp(role, "ponger") == 0 && argc >= 1) return child_ponger(argv[0]);
    return 99;
}

const bool g_child_hook = [] {
    auto cl = platform::process_arguments();
    if (cl && cl->argc >= 2 && std::strncmp(cl->argv[1], kChildFlag, sizeof kChildFlag - 1) == 0)
        platform::exit_process(child_main(cl->argv[1] + sizeof kChildFlag - 1, cl->argc - 2, cl->argv + 2));
    return false;
}();

// ---- parent side

struct Name {
    char text[64];
    explicit Name(const char* tag) {
        std::snprintf(text, sizeof text, "staticrt-w%lld-%s", static_cast<long long>(platform::current_process_id()), tag);
    }
};

bool spawn_child(platform::ProcessHandle& h, const char* role, const char* arg = nullptr) {
    char flag[96];
    std::snprintf(flag, sizeof flag, "%s%s", kChildFlag, role);
    const char* args[] = {flag, arg, nullptr};
    return static_cast<bool>(platform::spawn_self(h, args));
}

int join(platform::ProcessHandle& h) {
    auto st = platform::wait_process(h, Deadline::after(60s));
    if (!st) {
        (void)platform::kill_process(h);
        (void)platform::wait_process(h, Deadline::after(10s));
        return -1000;
    }
    return st->python_code();
}

// True when a spawned "ping" child answers 42; false only when it exits 127 (plain qemu-user
// without binfmt_misc cannot exec this binary again): the caller then skips visibly. Anything
// else (spawn refused, timeout, another code) fails the case: spawning must work here.
bool spawn_works() {
    static int state = 0;  // 0 unknown, 1 works, 2 exit 127, 3 broken
    if (state == 0) {
        platform::ProcessHandle h;
        const bool started = spawn_child(h, "ping");
        CHECK_MESSAGE(started, "spawn_self of this executable failed");
        const int code = started ? join(h) : -1;
        state = code == 42 ? 1 : code == 127 ? 2 : 3;
        if (state == 3) FAIL_CHECK("spawned child answered " << code << ", expected 42");
    }
    REQUIRE(state != 3);
    return state == 1;
}
#define REQUIRE_SPAWN()                                                                                          \
    do {                                                                                                         \
        if (!spawn_works())                                                                                      \
            STATICRT_SKIP("self-spawn-needs-binfmt",                                                             \
                          "this executable exits 127 when spawned again (qemu-user without binfmt_misc)");       \
    } while (0)

}  // namespace

TEST_CASE("SharedMemory: Unlink_WhileMapped_NameGoesMappingStaysCreateMakesNewSegment") {
    const Name n("unlink");
    platform::SharedMemory a;
    REQUIRE(a.create(n.text, 100));
    std::memcpy(a.data(), "first", 6);
    REQUIRE(platform::SharedMemory::unlink(n.text));

    platform::SharedMemory probe;
    auto r = probe.open(n.text);
    CHECK(r.code() == Errc::invalid_argument);
    CHECK(r.error().os_code != 0);  // ENOENT / ERROR_FILE_NOT_FOUND
    CHECK(std::strcmp(static_cast<const char*>(a.data()), "first") == 0);  // the mapping stays valid
    static_cast<char*>(a.data())[0] = 'F';

    platform::SharedMemory b;
    REQUIRE(b.create(n.text, 100));  // a new segment under the old name
    CHECK(static_cast<const char*>(b.data())[0] == '\0');
    std::memcpy(b.data(), "second", 7);
    CHECK(std::strcmp(static_cast<const char*>(a.data()), "First") == 0);

    platform::SharedMemory c;
    REQUIRE(c.open(n.text));  // finds the new one
    CHECK(c.size() == 100);
    CHECK(std::strcmp(static_cast<const char*>(c.data()), "second") == 0);

    platform::SharedMemory d;
    CHECK(d.create(n.text, 100).code() == Errc::exhausted);  // taken again

    REQUIRE(platform::SharedMemory::unlink(n.text));
    CHECK(platform::SharedMemory::unlink(n.text).code() == Errc::invalid_argument);
    CHECK(std::strcmp(static_cast<const char*>(c.data()), "second") == 0);
}

TEST_CASE("SharedMemory: Unlink_ManyGenerationsStillMapped_CreateSucceedsOrExhaustedUntilClosed") {
    // POSIX: every create succeeds. Windows keeps an unlinked segment's section while it is
    // mapped and allows a bounded number of them per name: then Errc::exhausted with os_code 0,
    // and closing the old mappings makes room again.
    const Name n("gens");
    platform::SharedMemory held[12];
    bool exhausted = false;
    for (auto& h : held) {
        auto r = h.create(n.text, 64);
        if (!r) {
            CHECK(r.code() == Errc::exhausted);
            CHECK(r.error().os_code == 0);
            exhausted = true;
            break;
        }
        REQUIRE(platform::SharedMemory::unlink(n.text));
    }
    if (exhausted) MESSAGE("unlinked generations still mapped are bounded here (Windows)");
    for (auto& h : held) h.close();
    platform::SharedMemory again;
    REQUIRE(again.create(n.text, 64));
    REQUIRE(platform::SharedMemory::unlink(n.text));
}

TEST_CASE("SharedMemory: Create_ManyMappingsInOneProcess_SucceedsOrExhaustedAtTheTableSize") {
    // POSIX: no limit of its own. Windows: 256 mappings per process (the table that names
    // process-shared words), then Errc::exhausted with os_code 0; closing one makes room.
    constexpr int kCount = 300;
    static platform::SharedMemory maps[kCount];
    char names[kCount][64];
    int created = 0;
    bool exhausted = false;
    for (int i = 0; i < kCount; ++i) {
        std::snprintf(names[i], sizeof names[i], "staticrt-w%lld-many%d",
                      static_cast<long long>(platform::current_process_id()), i);
        auto r = maps[i].create(names[i], 64);
        if (!r) {
            CHECK(r.code() == Errc::exhausted);
            CHECK(r.error().os_code == 0);
            exhausted = true;
            break;
        }
        ++created;
    }
    if (exhausted) {
        MESSAGE("mappings per process are bounded here (Windows): " << created);
        CHECK(created >= 250);
        maps[0].close();
        CHECK(maps[0].create(names[created], 64));  // room again
        CHECK(platform::SharedMemory::unlink(names[created]));
        maps[0].close();
    } else {
        CHECK(created == kCount);
    }
    for (int i = 0; i < created; ++i) {
        (void)platform::SharedMemory::unlink(names[i]);
        maps[i].close();
    }
}

TEST_CASE("SharedMemory: WaitShared_DeadlinePassed_TimeoutNeverEarly") {
    staticrt::test::Watchdog wd{60s, "WaitShared_DeadlinePassed_TimeoutNeverEarly"};
    const Name n("wdl");
    platform::SharedMemory a;
    REQUIRE(a.create(n.text, sizeof(Board)));
    auto* b = static_cast<Board*>(a.data());
    CHECK(platform::wait(b->go, 0, Deadline::poll(), WaitScope::process_shared).code() == Errc::timeout);
    CHECK(platform::wait(b->go, 7, Deadline::poll(), WaitScope::process_shared));  // differs: success
    for (auto ms : {1, 5, 30}) {
        const auto start = std::chrono::steady_clock::now();
        const Deadline d = Deadline::after(std::chrono::milliseconds(ms));
        Errc code = Errc::timeout;
        for (;;) {  // spurious returns are allowed: loop until the wait fails
            auto r = platform::wait(b->go, 0, d, WaitScope::process_shared);
            if (!r) {
                code = r.code();
                break;
            }
        }
        CHECK(code == Errc::timeout);
        CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(ms));
    }
    REQUIRE(platform::SharedMemory::unlink(n.text));
}

TEST_CASE("SharedMemory: WaitShared_TwoMappingsOfOneSegment_WakeThroughOtherAddress") {
    staticrt::test::Watchdog wd{60s, "WaitShared_TwoMappingsOfOneSegment_WakeThroughOtherAddress"};
    const Name n("twomap");
    platform::SharedMemory a, b;
    REQUIRE(a.create(n.text, sizeof(Board)));
    REQUIRE(b.open(n.text));
    REQUIRE(a.data() != b.data());
    auto* ba = static_cast<Board*>(a.data());
    auto* bb = static_cast<Board*>(b.data());
    for (int round = 0; round < 20; ++round) {
        ba->go.store(0, std::memory_order_relaxed);
        std::atomic<int> woke{0};
        std::thread waiters[3];
        for (auto& t : waiters)
            t = std::thread([&] {
                if (wait_nonzero(ba->go, Deadline::after(30s))) woke.fetch_add(1);
            });
        if (round % 2 == 0) {  // every waiter parked first (counted through the other mapping), or racing
            auto parked = await_parked(bb->go, 2, WaitScope::process_shared);
            REQUIRE(parked);
            CHECK(*parked == 3);
        }
        bb->go.store(1, std::memory_order_release);
        if (round % 4 < 2) {
            platform::wake_all(bb->go, WaitScope::process_shared);
        } else {
            for (int i = 0; i < 3; ++i) platform::wake_one(bb->go, WaitScope::process_shared);
        }
        for (auto& t : waiters) t.join();
        CHECK(woke.load() == 3);
    }
    REQUIRE(platform::SharedMemory::unlink(n.text));
}

TEST_CASE("SharedMemory: WaitShared_ContendedMutexInSegment_NoLostWakeUp") {
    // SharedMemoryMutex parks through wait(process_shared) / wake_one: four threads hammer it;
    // a lost wake-up would hang (watchdog), a broken lock would lose increments.
    staticrt::test::Watchdog wd{120s, "WaitShared_ContendedMutexInSegment_NoLostWakeUp"};
    struct Shared {
        staticrt::SharedMemoryMutex mutex;
        long counter;
    };
    const Name n("mtx");
    platform::SharedMemory a, b;
    REQUIRE(a.create(n.text, sizeof(Shared)));
    REQUIRE(b.open(n.text));
    auto* sa = ::new (a.data()) Shared{};
    auto* sb = static_cast<Shared*>(b.data());
    constexpr int kThreads = 4;
    constexpr long kEach = 2000;
    std::thread t[kThreads];
    for (int i = 0; i < kThreads; ++i)
        t[i] = std::thread([&, i] {
            Shared* s = i % 2 == 0 ? sa : sb;  // two addresses of one mutex
            for (long k = 0; k < kEach; ++k) {
                s->mutex.lock();
                s->counter = s->counter + 1;
                s->mutex.unlock();
            }
        });
    for (auto& th : t) th.join();
    CHECK(sa->counter == kThreads * kEach);
    REQUIRE(platform::SharedMemory::unlink(n.text));
}

TEST_CASE("SharedMemory: WaitShared_WordOutsideAnySegment_WokenInProcess") {
    staticrt::test::Watchdog wd{60s, "WaitShared_WordOutsideAnySegment_WokenInProcess"};
    for (int round = 0; round < 10; ++round) {
        std::atomic<std::uint32_t> word{0};
        std::atomic<bool> woke{false};
        std::thread t([&] { woke = wait_nonzero(word, Deadline::after(30s)); });
        // Parked first. Windows waits on such a word with WaitOnAddress, which no one can observe:
        // there the wake may race the park (both orders must deliver).
        auto parked = await_parked(word, 0, WaitScope::process_shared);
        if (!parked) CHECK_MESSAGE(parked.code() == Errc::not_supported, "parked_on failed");
        word.store(1, std::memory_order_release);
        platform::wake_one(word, WaitScope::process_shared);
        t.join();
        CHECK(woke.load());
    }
    std::atomic<std::uint32_t> idle{0};
    CHECK(platform::wait(idle, 0, Deadline::after(3ms), WaitScope::process_shared).code() == Errc::timeout);
}

TEST_CASE("Process: WaitShared_ChildParksParentWakes_BothDirections") {
    REQUIRE_SPAWN();
    staticrt::test::Watchdog wd{120s, "WaitShared_ChildParksParentWakes_BothDirections"};
    const Name n("xproc");
    platform::SharedMemory a;
    REQUIRE(a.create(n.text, sizeof(Board)));
    auto* b = static_cast<Board*>(a.data());
    platform::ProcessHandle h;
    REQUIRE(spawn_child(h, "waiter", n.text));
    REQUIRE(wait_nonzero(b->ready, Deadline::after(60s)));  // parent parks, child wakes
    REQUIRE(await_parked(b->go, 0, WaitScope::process_shared));  // the child parked on `go`
    set_and_wake(b->go, 1);                                      // child parks, parent wakes
    CHECK(wait_nonzero(b->done, Deadline::after(60s)));
    CHECK(join(h) == 0);
    REQUIRE(platform::SharedMemory::unlink(n.text));
}

TEST_CASE("Process: WaitShared_PingPongAcrossProcesses_EveryRoundArrives") {
    REQUIRE_SPAWN();
    staticrt::test::Watchdog wd{120s, "WaitShared_PingPongAcrossProcesses_EveryRoundArrives"};
    const Name n("pingpong");
    platform::SharedMemory a;
    REQUIRE(a.create(n.text, sizeof(Board)));
    auto* b = static_cast<Board*>(a.data());
    platform::ProcessHandle h;
    REQUIRE(spawn_child(h, "ponger", n.text));
    std::uint32_t answered = 0;
    for (std::uint32_t i = 1; i <= kPingPongRounds; ++i) {
        b->ping.store(i, std::memory_order_release);
        platform::wake_one(b->ping, WaitScope::process_shared);
        if (!wait_equal(b->pong, i, Deadline::after(30s))) break;
        answered = i;
    }
    CHECK(answered == kPingPongRounds);
    CHECK(join(h) == 0);
    REQUIRE(platform::SharedMemory::unlink(n.text));
}

TEST_CASE("Process: WaitShared_WaiterKilledWhileParked_WakeOneReachesTheNext") {
    // A parked waiter dies; its slot (Windows parking table) must not swallow the next wake_one.
    REQUIRE_SPAWN();
    staticrt::test::Watchdog wd{120s, "WaitShared_WaiterKilledWhileParked_WakeOneReachesTheNext"};
    const Name n("corpse");
    platform::SharedMemory a;
    REQUIRE(a.create(n.text, sizeof(Board)));
    auto* b = static_cast<Board*>(a.data());
    platform::ProcessHandle h;
    REQUIRE(spawn_child(h, "waiter", n.text));
    REQUIRE(wait_nonzero(b->ready, Deadline::after(60s)));
    REQUIRE(await_parked(b->go, 0, WaitScope::process_shared));  // the child parked on `go`
    REQUIRE(platform::kill_process(h));
    CHECK(join(h) != 0);
    // Linux: the dead child's futex wait is gone (0); Windows: its slot stays until reaped (1).
    auto corpses = platform::parked_on(b->go, WaitScope::process_shared);
    REQUIRE(corpses);
    std::atomic<bool> woke{false};
    std::thread t([&] { woke = wait_nonzero(b->go, Deadline::after(20s)); });
    REQUIRE(await_parked(b->go, *corpses, WaitScope::process_shared));  // parked behind the dead child's slot
    b->go.store(1, std::memory_order_release);
    platform::wake_one(b->go, WaitScope::process_shared);  // once
    t.join();
    CHECK(woke.load());
    REQUIRE(platform::SharedMemory::unlink(n.text));
}

TEST_CASE("Process: DaemonChild_ParentKilled_ChildDies") {
    REQUIRE_SPAWN();
    staticrt::test::Watchdog wd{120s, "DaemonChild_ParentKilled_ChildDies"};
    const Name n("daemon");
    platform::SharedMemory a;
    REQUIRE(a.create(n.text, sizeof(Board)));
    auto* b = static_cast<Board*>(a.data());
    platform::ProcessHandle middle;
    REQUIRE(spawn_child(middle, "middle", n.text));  // middle spawns a die_with_parent sleeper
    REQUIRE(wait_nonzero(b->ready, Deadline::after(60s)));
    const platform::ProcessId sleeper = b->pid.load(std::memory_order_relaxed);
    REQUIRE(sleeper > 0);
    // The sleeper runs: its heartbeat moves.
    const std::uint32_t beat0 = b->heartbeat.load(std::memory_order_acquire);
    const Deadline alive_by = Deadline::after(30s);
    while (b->heartbeat.load(std::memory_order_acquire) == beat0 && !alive_by.expired()) platform::sleep_for(2ms);
    REQUIRE(b->heartbeat.load(std::memory_order_acquire) != beat0);

    REQUIRE(platform::kill_process(middle));  // abnormal death: no atexit handler runs
    CHECK(join(middle) != 0);

    // The sleeper must go: it no longer exists, or (POSIX, a zombie not yet reaped by init) its
    // heartbeat stops for good.
    bool gone = false;
    const Deadline limit = Deadline::after(30s);
    std::uint32_t last = b->heartbeat.load(std::memory_order_acquire);
    auto still_since = std::chrono::steady_clock::now();
    while (!limit.expired()) {
        if (!platform::process_exists(sleeper)) {
            gone = true;
            break;
        }
        const std::uint32_t now = b->heartbeat.load(std::memory_order_acquire);
        if (now != last) {
            last = now;
            still_since = std::chrono::steady_clock::now();
        } else if (std::chrono::steady_clock::now() - still_since > 1s) {
            gone = true;
            break;
        }
        platform::sleep_for(5ms);
    }
    CHECK(gone);
    REQUIRE(platform::SharedMemory::unlink(n.text));
}
