// SPDX-License-Identifier: MIT
// Linux-specific checks of the POSIX platform layer: caller stacks, names in /proc, scheduling
// policies, affinity snapshot and taskset, topology against sysfs, memory locking with and
// without the capability, negative deadlines, and the contract-violation traps.
#include <gtest/gtest.h>

#include <linux/capability.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>

#include "staticrt/platform/cpu.hpp"
#include "staticrt/platform/memory.hpp"
#include "staticrt/platform/thread.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"
#include "eventually.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::CpuSet;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::Instant;
namespace platform = staticrt::platform;

namespace {

constexpr std::size_t kStackBytes = 256 * 1024;
alignas(16) std::byte g_stack[kStackBytes];
platform::StackSpan stack() { return {g_stack, sizeof g_stack}; }

std::string read_text(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    std::string s = ss.str();
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

struct Gate {
    std::atomic<std::uint32_t> open{0};
    void wait_open() {
        // [test.gate] acquire: pairs with release() below.
        while (open.load(std::memory_order_acquire) == 0) (void)platform::wait(open, 0, Deadline::never());
    }
    void release() {
        open.store(1, std::memory_order_release);
        platform::wake_all(open);
    }
};

struct Seen {
    Gate gate;
    bool block = false;
    std::uintptr_t local = 0;
    long tid = 0;
    int policy = -1;
    int level = -1;
    CpuSet affinity;
};

void seen_entry(void* arg) noexcept {
    auto* s = static_cast<Seen*>(arg);
    int local = 0;
    s->local = reinterpret_cast<std::uintptr_t>(&local);
    s->tid = static_cast<long>(::syscall(SYS_gettid));
    sched_param sp{};
    s->policy = ::sched_getscheduler(0);
    if (::sched_getparam(0, &sp) == 0) s->level = sp.sched_priority;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) == 0)
        for (std::size_t c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &set)) s->affinity.add(c);
    if (s->block) s->gate.wait_open();
}

/// Removes one capability from this process's effective set (used in forked death-test children).
bool drop_capability(int cap) {
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &hdr, data) != 0) return false;
    data[cap / 32].effective &= ~(1u << (cap % 32));
    data[cap / 32].permitted &= ~(1u << (cap % 32));
    return ::syscall(SYS_capset, &hdr, data) == 0;
}

[[maybe_unused]] bool has_capability(int cap) {
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &hdr, data) != 0) return false;
    return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

}  // namespace

TEST(PlatformPosixThread, StartThread_CallerStack_LocalsLieInTheBuffer) {
    staticrt::test::Watchdog wd{30s};
    platform::ThreadHandle h;
    Seen s;
    ASSERT_TRUE(platform::start_thread(h, stack(), &seen_entry, &s));
    ASSERT_TRUE(platform::join(h, Deadline::never()));
    const auto base = reinterpret_cast<std::uintptr_t>(g_stack);
    EXPECT_GE(s.local, base);
    EXPECT_LT(s.local, base + kStackBytes);
}

TEST(PlatformPosixThread, StartThread_MinimumStack_Works) {
    staticrt::test::Watchdog wd{30s};
    platform::ThreadHandle h;
    Seen s;
    ASSERT_TRUE(platform::start_thread(h, {g_stack, platform::kMinStackBytes}, &seen_entry, &s));
    ASSERT_TRUE(platform::join(h, Deadline::never()));
    EXPECT_NE(s.tid, 0);
}

TEST(PlatformPosixThread, StartThread_Name_VisibleInProcCommTruncatedTo15) {
    staticrt::test::Watchdog wd{30s};
    platform::ThreadHandle h;
    Seen s;
    s.block = true;
    platform::ThreadOptions o;
    o.name = "staticrt-worker-with-a-long-name";
    ASSERT_TRUE(platform::start_thread(h, stack(), &seen_entry, &s, o));
    const long id = static_cast<long>(h.id());
    const std::string comm = read_text("/proc/self/task/" + std::to_string(id) + "/comm");
    s.gate.release();
    ASSERT_TRUE(platform::join(h, Deadline::never()));
    EXPECT_EQ(comm, "staticrt-worker");
    EXPECT_EQ(s.tid, id);  // the comm read above is the started thread's own (its gettid())
}

TEST(PlatformPosixThread, SetCurrentName_FromThread_VisibleInProcComm) {
    std::string comm;
    std::thread t([&] {
        ASSERT_TRUE(platform::set_current_name("sr-named"));
        comm = read_text("/proc/self/task/" + std::to_string(::syscall(SYS_gettid)) + "/comm");
    });
    t.join();
    EXPECT_EQ(comm, "sr-named");
}

TEST(PlatformPosixThread, CurrentThreadId_Always_IsGettid) {
    EXPECT_EQ(platform::current_thread_id(), static_cast<platform::ThreadId>(::syscall(SYS_gettid)));
    platform::ThreadHandle h;
    Seen s;
    ASSERT_TRUE(platform::start_thread(h, stack(), &seen_entry, &s));
    const platform::ThreadId id = h.id();
    ASSERT_TRUE(platform::join(h, Deadline::never()));
    EXPECT_EQ(static_cast<long>(id), s.tid);
}

TEST(PlatformPosixThread, ThreadCpuNs_MatchesTheThreadsOwnClock_AndFailsOnceItExited) {
    // The tid-built clock id is the one the thread reads as CLOCK_THREAD_CPUTIME_ID: read both
    // from the thread itself, in order; the other-thread reading lies between its own two.
    std::uint64_t own_before = 0, other = 0, own_after = 0;
    bool other_ok = false;
    std::thread t([&] {
        timespec ts{};
        ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        own_before = static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
        auto r = platform::thread_cpu_ns(platform::current_thread_id());
        other_ok = static_cast<bool>(r);
        if (r) other = *r;
        ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        own_after = static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
    });
    t.join();
    ASSERT_TRUE(other_ok);
    EXPECT_LE(own_before, other);
    EXPECT_LE(other, own_after);
    // A started-and-joined thread: its tid no longer names a thread of this process (tids are
    // not reused before the pid space wraps).
    platform::ThreadHandle h;
    Seen s;
    ASSERT_TRUE(platform::start_thread(h, stack(), &seen_entry, &s));
    const platform::ThreadId id = h.id();
    ASSERT_TRUE(platform::join(h, Deadline::never()));
    // join() returns when the kernel clears the tid word, a moment before it releases the task:
    // until then the clock still answers.
    ASSERT_TRUE(staticrt::test::eventually([&] { return !platform::thread_cpu_ns(id); }));
    EXPECT_EQ(platform::thread_cpu_ns(id).code(), staticrt::Errc::os_error);
    EXPECT_EQ(platform::thread_cpu_ns(0).code(), staticrt::Errc::invalid_argument);
}

// Running as root in CI, a "no privilege" EPERM cannot be produced by just asking: the tests
// below either drop CAP_SYS_NICE in a forked child (a real EPERM) or use levels out of range.
TEST(PlatformPosixThread, StartThread_FifoLevelOutOfRange_InvalidArgument) {
    platform::ThreadHandle h;
    Seen s;
    for (int level : {0, -1, 100, 1000}) {
        platform::ThreadOptions o;
        o.priority = {platform::SchedPolicy::fifo, level};
        EXPECT_EQ(platform::start_thread(h, stack(), &seen_entry, &s, o).code(), Errc::invalid_argument) << level;
        o.priority.policy = platform::SchedPolicy::rr;
        EXPECT_EQ(platform::start_thread(h, stack(), &seen_entry, &s, o).code(), Errc::invalid_argument) << level;
    }
    EXPECT_EQ(s.tid, 0);
}

TEST(PlatformPosixThread, StartThread_Fifo_AppliedBeforeUserCodeOrPermissionDenied) {
    staticrt::test::Watchdog wd{30s};
    platform::ThreadHandle h;
    Seen s;
    platform::ThreadOptions o;
    o.priority = {platform::SchedPolicy::fifo, 7};
    auto r = platform::start_thread(h, stack(), &seen_entry, &s, o);
    if (!r) {
        EXPECT_EQ(r.code(), Errc::permission_denied);
        GTEST_SKIP() << "no CAP_SYS_NICE / RLIMIT_RTPRIO here";
    }
    ASSERT_TRUE(platform::join(h, Deadline::never()));
    EXPECT_EQ(s.policy, SCHED_FIFO);
    EXPECT_EQ(s.level, 7);
}

namespace {
int fifo_without_cap_child() {
    rlimit none{0, 0};
    (void)::setrlimit(RLIMIT_RTPRIO, &none);
    if (!drop_capability(CAP_SYS_NICE)) return 3;
    platform::ThreadHandle h;
    Seen s;
    platform::ThreadOptions o;
    o.priority = {platform::SchedPolicy::rr, 20};
    auto r = platform::start_thread(h, stack(), &seen_entry, &s, o);
    const bool fine = !r && r.code() == Errc::permission_denied && r.error().os_code == EPERM && !h.joinable() &&
                      s.tid == 0 &&
                      platform::set_current_priority({platform::SchedPolicy::fifo, 3}).code() ==
                          Errc::permission_denied;
    return fine ? 0 : 1;
}
}  // namespace

TEST(PlatformPosixThreadDeathTest, StartThread_FifoWithoutCapSysNice_PermissionDenied) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(std::_Exit(fifo_without_cap_child()), ::testing::ExitedWithCode(0), "");
}

TEST(PlatformPosixThread, StartThread_Normal_FromFifoThread_DropsToOther) {
    staticrt::test::Watchdog wd{30s};
    int inner_policy = -2;
    bool skipped = false;
    std::thread t([&] {
        if (!platform::set_current_priority({platform::SchedPolicy::fifo, 3})) {
            skipped = true;
            return;
        }
        platform::ThreadHandle h;
        Seen s;
        if (platform::start_thread(h, stack(), &seen_entry, &s) && platform::join(h, Deadline::never()))
            inner_policy = s.policy;
        (void)platform::set_current_priority({});
    });
    t.join();
    if (skipped) GTEST_SKIP() << "no real-time priority here";
    EXPECT_EQ(inner_policy, SCHED_OTHER);
}

TEST(PlatformPosixThread, StartThread_Affinity_SetBeforeUserCode) {
    staticrt::test::Watchdog wd{30s};
    auto aff = platform::process_affinity();
    ASSERT_TRUE(aff);
    const CpuSet one = CpuSet::single(aff->first());
    platform::ThreadOptions o;
    o.affinity = &one;
    platform::ThreadHandle h;
    Seen s;
    ASSERT_TRUE(platform::start_thread(h, stack(), &seen_entry, &s, o));
    ASSERT_TRUE(platform::join(h, Deadline::never()));
    EXPECT_EQ(s.affinity, one);
}

TEST(PlatformPosixCpu, ProcessAffinity_AfterThreadPinsItself_StillTheStartMask) {
    auto before = platform::process_affinity();
    ASSERT_TRUE(before);
    CpuSet inside;
    std::thread t([&] {
        ASSERT_TRUE(platform::pin_current_thread(CpuSet::single(before->first())));
        inside = *platform::process_affinity();
    });
    t.join();
    EXPECT_EQ(inside, *before);
}

TEST(PlatformPosixCpu, Topology_MatchesSysfs) {
    std::set<std::pair<std::string, std::string>> cores;
    for (std::size_t c = 0; c < platform::kMaxCpus; ++c) {
        auto t = platform::topology(c);
        const std::string dir = "/sys/devices/system/cpu/cpu" + std::to_string(c) + "/topology/";
        const std::string pkg = read_text(dir + "physical_package_id");
        const std::string core = read_text(dir + "core_id");
        if (!t) continue;
        if (pkg.empty() || core.empty()) continue;
        cores.insert({pkg, core});
        EXPECT_EQ(std::to_string(t->core), core) << c;
        if (pkg != "-1") {
            EXPECT_EQ(std::to_string(t->package), pkg) << c;
        }
    }
    if (!cores.empty()) {
        EXPECT_EQ(platform::physical_cpu_count(), cores.size());
    }
    EXPECT_EQ(platform::logical_cpu_count(), static_cast<std::size_t>(::sysconf(_SC_NPROCESSORS_ONLN)));
}

TEST(PlatformPosixCpu, ProcessAffinity_MatchesSchedGetaffinityAtStart) {
    cpu_set_t set;
    CPU_ZERO(&set);
    ASSERT_EQ(::sched_getaffinity(0, sizeof set, &set), 0);  // this thread was never pinned
    CpuSet expect;
    for (std::size_t c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &set)) expect.add(c);
    EXPECT_EQ(*platform::process_affinity(), expect);
}

// Run by ctest as `taskset -c 0 staticrt_host_tests --gtest_filter=PlatformPosixTaskset.*` with
// STATICRT_EXPECT_ONLY_CPU0=1 (tests/CMakeLists.txt); skipped in the normal run.
TEST(PlatformPosixTaskset, UnderTasksetCpu0_AffinityIsCpu0AndOtherCpusRefused) {
    const char* env = std::getenv("STATICRT_EXPECT_ONLY_CPU0");
    if (env == nullptr || std::string(env) != "1") GTEST_SKIP() << "run by ctest under taskset -c 0";
    staticrt::test::Watchdog wd{30s};
    auto aff = platform::process_affinity();
    ASSERT_TRUE(aff);
    EXPECT_EQ(*aff, CpuSet::single(0));
    EXPECT_EQ(*platform::physical_core_cpus(), CpuSet::single(0));
    std::thread t([] {
        EXPECT_EQ(platform::pin_current_thread(CpuSet::single(1)).code(), Errc::no_such_cpu);
        EXPECT_TRUE(platform::pin_current_thread(CpuSet::single(0)));
        EXPECT_EQ(*platform::current_cpu(), 0u);
    });
    t.join();
    const CpuSet cpu1 = CpuSet::single(1);
    platform::ThreadOptions o;
    o.affinity = &cpu1;
    platform::ThreadHandle h;
    Seen s;
    EXPECT_EQ(platform::start_thread(h, stack(), &seen_entry, &s, o).code(), Errc::no_such_cpu);
    EXPECT_EQ(s.tid, 0);
    // logical/physical counts describe the machine, not the mask
    EXPECT_GE(platform::logical_cpu_count(), 1u);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define STATICRT_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define STATICRT_TEST_SANITIZED 1
#endif
#endif

// Not under sanitizers: mlockall would lock (and populate) their terabyte shadow mappings.
#if !defined(STATICRT_TEST_SANITIZED)
namespace {
int lock_as_root_child() {
    auto r = platform::lock_all_memory();
    if (!r) return 1;  // the caller checked that this process may lock its memory
    const std::string status = read_text("/proc/self/status");
    const auto at = status.find("VmLck:");
    const long locked_kb = at == std::string::npos ? 0 : std::atol(status.c_str() + at + 6);
    const bool unlocked = static_cast<bool>(platform::unlock_all_memory());
    return locked_kb > 0 && unlocked ? 0 : 2;
}
int lock_without_cap_child() {
    rlimit none{0, 0};
    if (::setrlimit(RLIMIT_MEMLOCK, &none) != 0) return 3;
    if (!drop_capability(CAP_IPC_LOCK)) return 4;
    auto r = platform::lock_all_memory();
    return !r && r.code() == Errc::permission_denied && r.error().os_code != 0 ? 0 : 1;
}
}  // namespace

TEST(PlatformPosixMemoryDeathTest, LockAllMemory_AsRoot_LocksPages) {
    rlimit lim{};
    ASSERT_EQ(::getrlimit(RLIMIT_MEMLOCK, &lim), 0);
    if (!has_capability(CAP_IPC_LOCK) && lim.rlim_cur != RLIM_INFINITY)
        GTEST_SKIP() << "no CAP_IPC_LOCK and a bounded RLIMIT_MEMLOCK: mlockall is refused here";
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(std::_Exit(lock_as_root_child()), ::testing::ExitedWithCode(0), "");
}

TEST(PlatformPosixMemoryDeathTest, LockAllMemory_WithoutCapIpcLock_PermissionDenied) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(std::_Exit(lock_without_cap_child()), ::testing::ExitedWithCode(0), "");
}
#endif

namespace {
struct StackProbe {
    std::uintptr_t local = 0;
    std::size_t bytes = 0;
};
void prefault_entry(void* arg) noexcept {
    auto* p = static_cast<StackProbe*>(arg);
    int local = 0;
    p->local = reinterpret_cast<std::uintptr_t>(&local);
    platform::prefault_current_stack(1);  // a tiny request is fine too
    platform::prefault_current_stack(p->bytes);
}
int resident_pages(std::uintptr_t lo, std::uintptr_t hi) {
    const std::size_t page = platform::page_size();
    lo = (lo + page - 1) / page * page;
    hi = hi / page * page;
    if (hi <= lo) return 0;
    static unsigned char vec[1024];
    const std::size_t n = (hi - lo) / page;
    if (n > sizeof vec || ::mincore(reinterpret_cast<void*>(lo), hi - lo, vec) != 0) return -1;
    int r = 0;
    for (std::size_t i = 0; i < n; ++i) r += vec[i] & 1;
    return r;
}
}  // namespace

TEST(PlatformPosixMemory, PrefaultCurrentStack_Large_PagesBelowTheFrameResident) {
    // A thread on a fresh, never-touched 1 MiB stack prefaults 512 KiB: every page from 512 KiB
    // below its frame up to the frame is resident afterwards (without the prefault they stay
    // untouched: the thread itself uses a few KiB).
    staticrt::test::Watchdog wd{30s};
    constexpr std::size_t kBytes = 1024 * 1024;
    void* m = ::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ASSERT_NE(m, MAP_FAILED);
    const auto base = reinterpret_cast<std::uintptr_t>(m);
    ASSERT_EQ(resident_pages(base, base + kBytes), 0);
    StackProbe probe;
    probe.bytes = 512 * 1024;
    platform::ThreadHandle h;
    ASSERT_TRUE(platform::start_thread(h, {static_cast<std::byte*>(m), kBytes}, &prefault_entry, &probe));
    ASSERT_TRUE(platform::join(h, Deadline::never()));
    ASSERT_GT(probe.local, base + probe.bytes);
    const std::uintptr_t lo = probe.local - probe.bytes + 4096;  // the first frame may start below `local`
    const int expect = static_cast<int>((probe.local / platform::page_size()) - ((lo + platform::page_size() - 1) / platform::page_size()));
    EXPECT_EQ(resident_pages(lo, probe.local), expect);
    EXPECT_GE(expect, 100);
    ::munmap(m, kBytes);
}

TEST(PlatformPosixMemory, Prefault_AnonymousMapping_BecomesResident) {
    const std::size_t page = platform::page_size();
    const std::size_t bytes = 16 * page;
    void* m = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(m, MAP_FAILED);
    unsigned char vec[16] = {};
    ASSERT_EQ(::mincore(m, bytes, vec), 0);
    int before = 0;
    for (unsigned char v : vec) before += v & 1;
    platform::prefault(m, bytes);
    ASSERT_EQ(::mincore(m, bytes, vec), 0);
    int after = 0;
    for (unsigned char v : vec) after += v & 1;
    EXPECT_EQ(before, 0);
    EXPECT_EQ(after, 16);
    ::munmap(m, bytes);
}

TEST(PlatformPosixTime, NegativeDeadline_WaitTimesOutAndSleepReturns) {
    std::atomic<std::uint32_t> word{0};
    const Deadline past = Deadline::at(Instant(-5));
    EXPECT_FALSE(past.is_poll());
    EXPECT_EQ(platform::wait(word, 0, past).code(), Errc::timeout);
    EXPECT_TRUE(platform::wait(word, 1, past));
    EXPECT_TRUE(platform::sleep_until(past));
    EXPECT_TRUE(platform::sleep_until(Deadline::at(Instant(1))));
}

TEST(PlatformPosixTime, WaitShared_Timeout_ReportsTimeout) {
    std::atomic<std::uint32_t> word{3};
    EXPECT_EQ(platform::wait(word, 3, Deadline::after(5ms), platform::WaitScope::process_shared).code(),
              Errc::timeout);
    platform::wake_all(word, platform::WaitScope::process_shared);
}

namespace {
platform::ThreadHandle* g_self_handle = nullptr;
void join_self_entry(void*) noexcept { (void)platform::join(*g_self_handle, Deadline::never()); }
void block_forever_entry(void* arg) noexcept { static_cast<Gate*>(arg)->wait_open(); }
}  // namespace

TEST(PlatformPosixThreadDeathTest, Join_Self_Traps) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(
        {
            static platform::ThreadHandle h;
            g_self_handle = &h;
            (void)platform::start_thread(h, stack(), &join_self_entry, nullptr);
            platform::sleep_for(10s);
        },
        "contract violation: join\\(\\): a thread cannot join itself");
}

TEST(PlatformPosixThreadDeathTest, Destroy_StartedUnjoinedHandle_Traps) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(
        {
            static Gate gate;
            platform::ThreadHandle h;
            (void)platform::start_thread(h, stack(), &block_forever_entry, &gate);
        },
        "contract violation: ThreadHandle destroyed while its thread is started and not joined");
}
