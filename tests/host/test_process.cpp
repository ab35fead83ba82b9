// SPDX-License-Identifier: MIT
// Process: spawn / fork / program start methods, join with deadline, exit codes, signals,
// terminate/kill, pid/parent pid, daemon children, ProcessMutex and SharedValue across processes.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <string>

#include "ipc_test_support.hpp"
#include "proc_stat.hpp"
#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/process_mutex.hpp"
#include "staticrt/ipc/shared_value.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::ipc::Process;
using staticrt::ipc::ProcessOptions;
using staticrt::ipc::SharedValue;
namespace test = staticrt::test;

namespace {

int entry_return_seven(int, const char* const*) noexcept { return 7; }

int entry_sum_args(int argc, const char* const* argv) noexcept {
    int sum = 0;
    for (int i = 0; i < argc; ++i) sum += std::atoi(argv[i]);
    return sum;
}

int entry_sleep_forever(int, const char* const*) noexcept {
    for (;;) ::pause();
}

// argv[0]: name of a SharedValue<long long>; stores this child's pid * 1e6 + parent pid... split:
int entry_report_pids(int argc, const char* const* argv) noexcept {
    if (argc < 2) return 2;
    SharedValue<long long> self, parent;
    if (!self.open(argv[0], Deadline::after(5s)) || !parent.open(argv[1], Deadline::after(5s))) return 3;
    self.store(Process::current_pid());
    parent.store(Process::parent_pid());
    return 0;
}

// argv[0]: name of a SharedValue<long long>; adds argv[1] times under the lock, non-atomically.
int entry_add_locked(int argc, const char* const* argv) noexcept {
    if (argc < 2) return 2;
    SharedValue<long long> v;
    if (!v.open(argv[0], Deadline::after(5s))) return 3;
    const int n = std::atoi(argv[1]);
    for (int i = 0; i < n; ++i) {
        std::lock_guard g(v.get_lock());
        v.value() = v.value() + 1;
    }
    return 0;
}

// Starts a daemon grandchild (sleeps forever), publishes its pid in argv[0], then exits normally.
int entry_parent_of_daemon(int argc, const char* const* argv) noexcept {
    if (argc < 1) return 2;
    SharedValue<long long> v;
    if (!v.open(argv[0], Deadline::after(5s))) return 3;
    static Process grandchild;
    if (!grandchild.start("sleep_forever", nullptr, ProcessOptions{true})) return 4;
    v.store(grandchild.pid());
    std::exit(0);  // normal exit: the atexit handler terminates the daemon
}

}  // namespace

STATICRT_TEST_ENTRY("return_seven", &entry_return_seven);
STATICRT_TEST_ENTRY("sum_args", &entry_sum_args);
STATICRT_TEST_ENTRY("sleep_forever", &entry_sleep_forever);
STATICRT_TEST_ENTRY("report_pids", &entry_report_pids);
STATICRT_TEST_ENTRY("add_locked", &entry_add_locked);
STATICRT_TEST_ENTRY("parent_of_daemon", &entry_parent_of_daemon);

__attribute__((init_priority(65000))) static const test::ChildHook g_child_hook;

namespace {

[[maybe_unused]] ::testing::Environment* const g_env = ::testing::AddGlobalTestEnvironment(new test::NoLeakedSegments);

int fork_return_arg(void* arg) noexcept { return *static_cast<int*>(arg); }
int fork_abort(void*) noexcept { ::abort(); }

}  // namespace

TEST(Process, StartSpawn_EntryReturns_ExitCodeReported) {
    test::Watchdog wd{30s};
    Process p;
    ASSERT_TRUE(p.start("return_seven"));
    EXPECT_GT(p.pid(), 0);
    EXPECT_NE(p.pid(), Process::current_pid());
    ASSERT_TRUE(p.join(Deadline::after(20s)));
    EXPECT_EQ(p.exit_code(), 7);
    EXPECT_FALSE(p.is_alive());
    EXPECT_EQ(p.status().kind, staticrt::ipc::ExitKind::exited);
}

TEST(Process, StartSpawn_WithArgs_EntrySeesThem) {
    test::Watchdog wd{30s};
    Process p;
    const char* args[] = {"10", "20", "3", nullptr};
    ASSERT_TRUE(p.start("sum_args", args));
    ASSERT_TRUE(p.join(Deadline::after(20s)));
    EXPECT_EQ(p.exit_code(), 33);
}

TEST(Process, StartSpawn_UnknownEntry_InvalidArgument) {
    Process p;
    EXPECT_EQ(p.start("no_such_entry").code(), Errc::invalid_argument);
    EXPECT_EQ(p.start(nullptr).code(), Errc::invalid_argument);
    EXPECT_EQ(p.pid(), 0);
    EXPECT_FALSE(p.exit_code().has_value());
    EXPECT_EQ(p.join(Deadline::poll()).code(), Errc::invalid_argument);
}

TEST(Process, RegisterEntry_DuplicateOrBad_InvalidArgument) {
    EXPECT_EQ(staticrt::ipc::register_entry("return_seven", &entry_return_seven).code(), Errc::invalid_argument);
    EXPECT_EQ(staticrt::ipc::register_entry("", &entry_return_seven).code(), Errc::invalid_argument);
    EXPECT_EQ(staticrt::ipc::register_entry("x", nullptr).code(), Errc::invalid_argument);
    EXPECT_EQ(staticrt::ipc::find_entry("sum_args"), &entry_sum_args);
}

TEST(Process, StartFork_FunctionResult_IsExitCode) {
    test::Watchdog wd{30s};
    int value = 42;
    Process p;
    ASSERT_TRUE(p.start_fork(&fork_return_arg, &value));
    ASSERT_TRUE(p.join(Deadline::after(20s)));
    EXPECT_EQ(p.exit_code(), 42);
}

TEST(Process, StartFork_ChildAborts_NegativeSignal) {
    test::Watchdog wd{30s};
    Process p;
    ASSERT_TRUE(p.start_fork(&fork_abort, nullptr));
    ASSERT_TRUE(p.join(Deadline::after(20s)));
    EXPECT_EQ(p.exit_code(), -SIGABRT);
    EXPECT_EQ(p.status().kind, staticrt::ipc::ExitKind::signaled);
}

TEST(Process, StartProgram_WithArgs_ExitStatusReported) {
    test::Watchdog wd{30s};
    Process p;
    const char* args[] = {"-c", "exit 5", nullptr};
    ASSERT_TRUE(p.start_program("sh", args));
    ASSERT_TRUE(p.join(Deadline::after(20s)));
    EXPECT_EQ(p.exit_code(), 5);
}

TEST(Process, StartProgram_Missing_ErrorOrExit127) {
    test::Watchdog wd{30s};
    Process p;
    auto r = p.start_program("staticrt-no-such-program-xyz");
    if (r) {
        ASSERT_TRUE(p.join(Deadline::after(20s)));
        EXPECT_EQ(p.exit_code(), 127);
    } else {
        EXPECT_EQ(r.code(), Errc::invalid_argument);
    }
}

TEST(Process, Join_ChildNeverExits_TimeoutThenTerminate) {
    test::Watchdog wd{30s};
    Process p;
    ASSERT_TRUE(p.start("sleep_forever"));
    EXPECT_EQ(p.join(Deadline::after(50ms)).code(), Errc::timeout);
    EXPECT_EQ(p.join(Deadline::poll()).code(), Errc::timeout);
    EXPECT_TRUE(p.is_alive());
    EXPECT_FALSE(p.exit_code().has_value());
    ASSERT_TRUE(p.terminate());
    ASSERT_TRUE(p.join(Deadline::after(20s)));
    EXPECT_EQ(p.exit_code(), -SIGTERM);
    EXPECT_TRUE(p.terminate());  // reaped: no-op
}

TEST(Process, Kill_ChildDiesWithSigkill) {
    test::Watchdog wd{30s};
    Process p;
    ASSERT_TRUE(p.start("sleep_forever"));
    ASSERT_TRUE(p.kill());
    ASSERT_TRUE(p.join_for(20s));
    EXPECT_EQ(p.exit_code(), -SIGKILL);
}

TEST(Process, Start_TwiceWhileRunning_InvalidArgument_RestartAfterJoin) {
    test::Watchdog wd{30s};
    Process p;
    ASSERT_TRUE(p.start("sleep_forever"));
    EXPECT_EQ(p.start("return_seven").code(), Errc::invalid_argument);
    ASSERT_TRUE(p.kill());
    ASSERT_TRUE(p.join(Deadline::after(20s)));
    ASSERT_TRUE(p.start("return_seven"));
    ASSERT_TRUE(p.join(Deadline::after(20s)));
    EXPECT_EQ(p.exit_code(), 7);
}

namespace {
// 0 when the child's current_pid() (cached in the parent before the fork) is the child's own,
// also from a second thread and in a grandchild forked by the child.
int fork_check_own_pid(void*) noexcept;
int fork_check_own_pid_leaf(void*) noexcept {
    return Process::current_pid() == ::getpid() && Process::current_pid() != Process::parent_pid() ? 0 : 1;
}
int fork_check_own_pid(void*) noexcept {
    if (Process::current_pid() != ::getpid()) return 1;
    Process grandchild;
    if (!grandchild.start_fork(&fork_check_own_pid_leaf, nullptr)) return 2;
    if (!grandchild.join(Deadline::after(20s))) return 3;
    return grandchild.exit_code() == 0 ? 0 : 4;
}
}  // namespace

TEST(Process, CurrentPid_CachedInTheParent_ForkedChildAndGrandchildSeeTheirOwn) {
    staticrt::test::Watchdog wd{60s};
    ASSERT_EQ(Process::current_pid(), ::getpid());  // cached from here on
    ASSERT_EQ(Process::current_pid(), ::getpid());
    Process child;
    ASSERT_TRUE(child.start_fork(&fork_check_own_pid, nullptr));
    ASSERT_TRUE(child.join(Deadline::after(20s)));
    EXPECT_EQ(child.exit_code(), 0);
    // And a raw fork() (not through Process) too.
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(Process::current_pid() == ::getpid() ? 0 : 1);
    ASSERT_GT(pid, 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_EQ(Process::current_pid(), ::getpid());
}

TEST(Process, Pids_ChildReportsOwnAndParent_Match) {
    test::Watchdog wd{30s};
    const auto n1 = test::shm_name("self"), n2 = test::shm_name("parent");
    SharedValue<long long> self, parent;
    ASSERT_TRUE(self.create(n1.c_str(), 0));
    ASSERT_TRUE(parent.create(n2.c_str(), 0));
    Process p;
    const char* args[] = {n1.c_str(), n2.c_str(), nullptr};
    ASSERT_TRUE(p.start("report_pids", args));
    ASSERT_TRUE(p.join(Deadline::after(20s)));
    ASSERT_EQ(p.exit_code(), 0);
    EXPECT_EQ(self.load(), p.pid());
    EXPECT_EQ(parent.load(), Process::current_pid());
    EXPECT_EQ(Process::parent_pid(), static_cast<long long>(::getppid()));
}

TEST(Process, ProcessMutex_FourSpawnedChildren_NoLostIncrement) {
    test::Watchdog wd{60s};
    const auto name = test::shm_name("locked");
    SharedValue<long long> v;
    ASSERT_TRUE(v.create(name.c_str(), 0));
    const int per_child = static_cast<int>(test::scaled(2000));
    const std::string n = std::to_string(per_child);
    const char* args[] = {name.c_str(), n.c_str(), nullptr};
    Process ps[4];
    for (auto& p : ps) ASSERT_TRUE(p.start("add_locked", args));
    for (auto& p : ps) {
        ASSERT_TRUE(p.join(Deadline::after(50s)));
        EXPECT_EQ(p.exit_code(), 0);
    }
    EXPECT_EQ(v.load(), 4LL * per_child);
}

TEST(Process, Daemon_ParentExitsNormally_DaemonTerminated) {
    test::Watchdog wd{30s};
    const auto name = test::shm_name("daemon");
    SharedValue<long long> v;
    ASSERT_TRUE(v.create(name.c_str(), 0));
    Process p;
    const char* args[] = {name.c_str(), nullptr};
    ASSERT_TRUE(p.start("parent_of_daemon", args));
    ASSERT_TRUE(p.join(Deadline::after(20s)));
    EXPECT_EQ(p.exit_code(), 0);
    const long long grandchild = v.load();
    ASSERT_GT(grandchild, 0);
    const auto d = Deadline::after(10s);
    while (test::running(grandchild) && !d.expired()) staticrt::platform::sleep_for(5ms);
    EXPECT_FALSE(test::running(grandchild)) << "daemon grandchild " << grandchild << " still runs";
}

TEST(Process, Daemon_ObjectDestroyed_ChildTerminatedAndReaped) {
    test::Watchdog wd{30s};
    long long pid = 0;
    {
        Process p;
        ASSERT_TRUE(p.start("sleep_forever", nullptr, ProcessOptions{true}));
        pid = p.pid();
        EXPECT_TRUE(p.daemon());
    }
    // reaped by the destructor: waitpid now reports "no such child"
    int st = 0;
    EXPECT_EQ(::waitpid(static_cast<pid_t>(pid), &st, WNOHANG), -1);
}
