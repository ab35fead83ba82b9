// SPDX-License-Identifier: MIT
// Conformance: threads on caller-provided stacks — start, join with deadline, setup failures,
// names, priorities, affinity. Portable (native, qemu-user, wine). On Windows the stack buffer
// is not used by the OS (see docs/platform.md); everything else means the same.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "staticrt/platform/cpu.hpp"
#include "staticrt/platform/thread.hpp"
#include "staticrt/platform/wait.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::CpuSet;
using staticrt::Deadline;
using staticrt::Errc;
namespace platform = staticrt::platform;

namespace {

constexpr std::size_t kStackBytes = 256 * 1024;  // >= kMinStackBytes on every target
alignas(16) std::byte g_stack_a[kStackBytes];
alignas(16) std::byte g_stack_b[kStackBytes];

platform::StackSpan stack_a() { return {g_stack_a, sizeof g_stack_a}; }
platform::StackSpan stack_b() { return {g_stack_b, sizeof g_stack_b}; }

struct Probe {
    std::atomic<std::uint32_t> ran{0};
    std::atomic<std::uint32_t> gate{0};  // the entry waits until this is non-zero (when asked)
    bool wait_for_gate = false;
    void* seen_arg = nullptr;
    platform::ThreadId seen_tid = 0;
    std::uintptr_t local_address = 0;
    long long cpu = -1;
};

void probe_entry(void* arg) noexcept {
    auto* p = static_cast<Probe*>(arg);
    int local = 0;
    p->local_address = reinterpret_cast<std::uintptr_t>(&local);
    p->seen_arg = arg;
    p->seen_tid = platform::current_thread_id();
    if (auto c = platform::current_cpu()) p->cpu = static_cast<long long>(*c);
    if (p->wait_for_gate) {
        // [test.gate] acquire: pairs with the release store of gate in the test.
        while (p->gate.load(std::memory_order_acquire) == 0) (void)platform::wait(p->gate, 0, Deadline::never());
    }
    // relaxed: join() orders it ([thread.finish] -> [thread.join]).
    p->ran.fetch_add(1, std::memory_order_relaxed);
}

void open_gate(Probe& p) {
    p.gate.store(1, std::memory_order_release);  // [test.gate] release
    platform::wake_all(p.gate);
}

}  // namespace

TEST_CASE("StartThread_ValidStack_EntryRunsWithArgAndJoinReturns") {
    staticrt::test::Watchdog wd{std::chrono::seconds(30), "StartThread_ValidStack"};
    platform::ThreadHandle h;
    CHECK_FALSE(h.joinable());
    Probe p;
    REQUIRE(platform::start_thread(h, stack_a(), &probe_entry, &p));
    CHECK(h.joinable());
    CHECK(h.id() != 0);
    REQUIRE(platform::join(h, Deadline::never()));
    CHECK_FALSE(h.joinable());
    CHECK(p.ran.load() == 1);
    CHECK(p.seen_arg == &p);
    CHECK(p.seen_tid != 0);
    CHECK(p.seen_tid != platform::current_thread_id());
#if !defined(_WIN32)
    // POSIX: the thread ran on the caller's buffer.
    const auto base = reinterpret_cast<std::uintptr_t>(g_stack_a);
    CHECK(p.local_address >= base);
    CHECK(p.local_address < base + kStackBytes);
#endif
}

TEST_CASE("StartThread_ExactlyMinimumStack_Runs") {
    staticrt::test::Watchdog wd{std::chrono::seconds(30), "StartThread_ExactlyMinimumStack"};
    static_assert(platform::kMinStackBytes <= kStackBytes, "the test stack must hold the minimum");
    platform::ThreadHandle h;
    Probe p;
    REQUIRE(platform::start_thread(h, {g_stack_b, platform::kMinStackBytes}, &probe_entry, &p));
    REQUIRE(platform::join(h, Deadline::never()));
    CHECK(p.ran.load() == 1);
}

TEST_CASE("StartThread_SameHandleAfterJoin_CanBeReused") {
    staticrt::test::Watchdog wd{std::chrono::seconds(60), "StartThread_SameHandleAfterJoin"};
    platform::ThreadHandle h;
    Probe p;
    for (int i = 0; i < 20; ++i) {
        REQUIRE(platform::start_thread(h, stack_a(), &probe_entry, &p));
        REQUIRE(platform::join(h, Deadline::never()));
    }
    CHECK(p.ran.load() == 20);
}

TEST_CASE("Join_ThreadBlocked_TimesOutThenSucceeds") {
    staticrt::test::Watchdog wd{std::chrono::seconds(30), "Join_ThreadBlocked"};
    platform::ThreadHandle h;
    Probe p;
    p.wait_for_gate = true;
    REQUIRE(platform::start_thread(h, stack_a(), &probe_entry, &p));
    CHECK(platform::join(h, Deadline::poll()).code() == Errc::timeout);
    CHECK(platform::join(h, Deadline::after(20ms)).code() == Errc::timeout);
    CHECK(h.joinable());
    CHECK(h.running());
    open_gate(p);
    REQUIRE(platform::join(h, Deadline::after(20s)));
    CHECK_FALSE(h.joinable());
    CHECK(p.ran.load() == 1);
}

TEST_CASE("Join_NotStarted_InvalidArgument") {
    platform::ThreadHandle h;
    CHECK(platform::join(h, Deadline::poll()).code() == Errc::invalid_argument);
    CHECK(platform::pin_thread(h, CpuSet::single(0)).code() == Errc::invalid_argument);
    CHECK(platform::set_priority(h, {}).code() == Errc::invalid_argument);
}

TEST_CASE("StartThread_InvalidArguments_InvalidArgumentAndNothingRuns") {
    platform::ThreadHandle h;
    Probe p;
    if (platform::kThreadUsesCallerStack)  // Windows: a null base asks for an OS-provided stack
        CHECK(platform::start_thread(h, {nullptr, kStackBytes}, &probe_entry, &p).code() == Errc::invalid_argument);
    CHECK(platform::start_thread(h, {g_stack_a, platform::kMinStackBytes - 16}, &probe_entry, &p).code() ==
          Errc::invalid_argument);
    CHECK(platform::start_thread(h, {g_stack_a + 8, kStackBytes - 16}, &probe_entry, &p).code() ==
          Errc::invalid_argument);
    CHECK(platform::start_thread(h, stack_a(), nullptr, &p).code() == Errc::invalid_argument);
    platform::ThreadOptions empty_affinity;
    const CpuSet none;
    empty_affinity.affinity = &none;
    CHECK(platform::start_thread(h, stack_a(), &probe_entry, &p, empty_affinity).code() == Errc::invalid_argument);
    platform::ThreadOptions bad_level;
    bad_level.priority = {platform::SchedPolicy::fifo, 1000};
    CHECK(platform::start_thread(h, stack_a(), &probe_entry, &p, bad_level).code() == Errc::invalid_argument);
    CHECK_FALSE(h.joinable());
    CHECK(p.ran.load() == 0);
}

TEST_CASE("StartThread_HandleInUse_InvalidArgument") {
    staticrt::test::Watchdog wd{std::chrono::seconds(30), "StartThread_HandleInUse"};
    platform::ThreadHandle h;
    Probe p;
    p.wait_for_gate = true;
    REQUIRE(platform::start_thread(h, stack_a(), &probe_entry, &p));
    Probe q;
    CHECK(platform::start_thread(h, stack_b(), &probe_entry, &q).code() == Errc::invalid_argument);
    open_gate(p);
    REQUIRE(platform::join(h, Deadline::never()));
    CHECK(q.ran.load() == 0);
    CHECK(p.ran.load() == 1);
}

TEST_CASE("StartThread_AffinityOutsideProcess_NoSuchCpuAndNothingRuns") {
    staticrt::test::Watchdog wd{std::chrono::seconds(30), "StartThread_AffinityOutsideProcess"};
    platform::ThreadHandle h;
    Probe p;
    const CpuSet far = CpuSet::single(platform::kMaxCpus - 1);
    platform::ThreadOptions o;
    o.affinity = &far;
    CHECK(platform::start_thread(h, stack_a(), &probe_entry, &p, o).code() == Errc::no_such_cpu);
    CHECK_FALSE(h.joinable());
    CHECK(p.ran.load() == 0);
}

TEST_CASE("StartThread_WithAffinity_RunsOnThatCpu") {
    staticrt::test::Watchdog wd{std::chrono::seconds(30), "StartThread_WithAffinity"};
    auto aff = platform::process_affinity();
    REQUIRE(aff);
    const std::size_t last = aff->nth(aff->count() - 1);
    const CpuSet one = CpuSet::single(last);
    platform::ThreadOptions o;
    o.affinity = &one;
    o.name = "pinned";
    platform::ThreadHandle h;
    Probe p;
    REQUIRE(platform::start_thread(h, stack_a(), &probe_entry, &p, o));
    REQUIRE(platform::join(h, Deadline::never()));
    CHECK(p.cpu == static_cast<long long>(last));
}

TEST_CASE("PinThreadAndSetPriority_RunningThread_Succeed") {
    staticrt::test::Watchdog wd{std::chrono::seconds(30), "PinThreadAndSetPriority"};
    auto aff = platform::process_affinity();
    REQUIRE(aff);
    platform::ThreadHandle h;
    Probe p;
    p.wait_for_gate = true;
    REQUIRE(platform::start_thread(h, stack_a(), &probe_entry, &p));
    CHECK(platform::pin_thread(h, CpuSet::single(aff->first())));
    CHECK(platform::pin_thread(h, CpuSet{}).code() == Errc::invalid_argument);
    CHECK(platform::pin_thread(h, CpuSet::single(platform::kMaxCpus - 1)).code() == Errc::no_such_cpu);
    CHECK(platform::set_priority(h, {}));
    CHECK(platform::set_priority(h, {platform::SchedPolicy::rr, 0}).code() == Errc::invalid_argument);
    open_gate(p);
    REQUIRE(platform::join(h, Deadline::never()));
}

TEST_CASE("StartThread_FifoPriority_RunsOrPermissionDenied") {
    staticrt::test::Watchdog wd{std::chrono::seconds(30), "StartThread_FifoPriority"};
    platform::ThreadOptions o;
    o.priority = {platform::SchedPolicy::fifo, 10};
    o.name = "fifo-probe";
    platform::ThreadHandle h;
    Probe p;
    auto r = platform::start_thread(h, stack_a(), &probe_entry, &p, o);
    if (r) {
        REQUIRE(platform::join(h, Deadline::never()));
        CHECK(p.ran.load() == 1);
    } else {
        CHECK(r.code() == Errc::permission_denied);  // never os_error, never a crash
        CHECK_FALSE(h.joinable());
        CHECK(p.ran.load() == 0);
    }
}

namespace {
struct PriorityProbe {
    staticrt::Result<void> fifo = unexpected(staticrt::Errc::ok);
    staticrt::Result<void> back = unexpected(staticrt::Errc::ok);
    staticrt::Result<void> bad = unexpected(staticrt::Errc::ok);
};
void priority_entry(void* arg) noexcept {
    auto* p = static_cast<PriorityProbe*>(arg);
    p->bad = platform::set_current_priority({platform::SchedPolicy::fifo, -3});
    p->fifo = platform::set_current_priority({platform::SchedPolicy::fifo, 5});
    p->back = platform::set_current_priority({});
}
}  // namespace

TEST_CASE("SetCurrentPriority_FifoThenNormal_OkOrPermissionDenied") {
    staticrt::test::Watchdog wd{std::chrono::seconds(30), "SetCurrentPriority"};
    platform::ThreadHandle h;
    PriorityProbe p;
    REQUIRE(platform::start_thread(h, stack_a(), &priority_entry, &p));
    REQUIRE(platform::join(h, Deadline::never()));
    CHECK(p.bad.code() == Errc::invalid_argument);
    CHECK((p.fifo.code() == Errc::ok || p.fifo.code() == Errc::permission_denied));
    CHECK(p.back.code() == Errc::ok);
}

namespace {
struct NameProbe {
    staticrt::Result<void> long_name = unexpected(staticrt::Errc::ok);
    staticrt::Result<void> null_name = unexpected(staticrt::Errc::ok);
    platform::ThreadId id = 0;
};
void name_entry(void* arg) noexcept {
    auto* p = static_cast<NameProbe*>(arg);
    p->long_name = platform::set_current_name("a-name-much-longer-than-fifteen-characters");
    p->null_name = platform::set_current_name(nullptr);
    p->id = platform::current_thread_id();
    for (int i = 0; i < 3; ++i) platform::yield_now();
}
}  // namespace

TEST_CASE("SetCurrentName_LongOrNull_TruncatedOrInvalidArgument") {
    staticrt::test::Watchdog wd{std::chrono::seconds(30), "SetCurrentName"};
    platform::ThreadHandle h;
    NameProbe p;
    platform::ThreadOptions o;
    o.name = "another-name-longer-than-fifteen";
    REQUIRE(platform::start_thread(h, stack_a(), &name_entry, &p, o));
    const platform::ThreadId id = h.id();
    REQUIRE(platform::join(h, Deadline::never()));
    CHECK(p.long_name.code() == Errc::ok);
    CHECK(p.null_name.code() == Errc::invalid_argument);
    CHECK(p.id == id);
    CHECK(h.id() == 0);
}

TEST_CASE("StartThread_TwoThreadsConcurrently_BothRun") {
    staticrt::test::Watchdog wd{std::chrono::seconds(30), "StartThread_TwoThreadsConcurrently"};
    platform::ThreadHandle a, b;
    Probe pa, pb;
    pa.wait_for_gate = pb.wait_for_gate = true;
    REQUIRE(platform::start_thread(a, stack_a(), &probe_entry, &pa));
    REQUIRE(platform::start_thread(b, stack_b(), &probe_entry, &pb));
    CHECK(a.id() != b.id());
    open_gate(pb);
    REQUIRE(platform::join(b, Deadline::never()));
    CHECK(platform::join(a, Deadline::poll()).code() == Errc::timeout);
    open_gate(pa);
    REQUIRE(platform::join(a, Deadline::never()));
    CHECK(pa.ran.load() + pb.ran.load() == 2);
}
