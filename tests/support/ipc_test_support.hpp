// SPDX-License-Identifier: MIT
// tests/support/ipc_test_support.hpp — helpers for the process / shared-memory GoogleTest
// suites (host, stress, noheap; test code only).
//
// gtest_main owns main(), so a spawned child cannot run child_main_hook() from main: the hook
// runs during static initialisation instead (ChildHook at init_priority 65000, after every entry
// registered with STATICRT_TEST_ENTRY at priority 2000), reading argv from /proc/self/cmdline.
// One file per test binary defines it:
//   __attribute__((init_priority(65000))) static const staticrt::test::ChildHook g_child_hook;
// Segment names are "staticrt-t<pid>-<tag>", so a leak check (NoLeakedSegments) can list
// /dev/shm for this process.
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/process_pool.hpp"
#include "sanitizer.hpp"

#define STATICRT_TEST_CAT2(a, b) a##b
#define STATICRT_TEST_CAT(a, b) STATICRT_TEST_CAT2(a, b)
/// Registers an entry before the child hook runs.
#define STATICRT_TEST_POOL_FN(name, fn)                                                                 \
    __attribute__((init_priority(2000))) static const staticrt::ipc::PoolFunction<fn> STATICRT_TEST_CAT(      \
        g_pool_fn_, __LINE__) {                                                                         \
        name                                                                                            \
    }
#define STATICRT_TEST_ENTRY(name, fn)                                                                  \
    __attribute__((init_priority(2000))) static const staticrt::ipc::EntryRegistration STATICRT_TEST_CAT( \
        g_entry_reg_, __LINE__) {                                                                      \
        name, fn                                                                                       \
    }

namespace staticrt::test {

/// Sends SIGKILL to worker `index` of `pool`; true when a worker process was there to get it.
template <class Pool>
bool sigkill_worker(Pool& pool, std::size_t index) {
    const auto pid = pool.worker_pid(index);
    return pid > 0 && ::kill(static_cast<pid_t>(pid), SIGKILL) == 0;
}

/// A thread that waits until worker `index` of `pool` has started, lets it run for `delay`, then
/// SIGKILLs it; `killed` says whether the kill landed.
template <class Pool>
std::thread kill_later(Pool& pool, std::size_t index, std::chrono::milliseconds delay, std::atomic<bool>& killed) {
    return std::thread([&pool, index, delay, &killed] {
        while (pool.worker_pid(index) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        std::this_thread::sleep_for(delay);
        if (sigkill_worker(pool, index)) killed = true;
    });
}

/// Runs child_main_hook with this process's real argv (platform::process_arguments()).
inline int run_child_hook_from_cmdline() {
    (void)staticrt::ipc::child_main_hook();
    return 1;
}

/// Runs run_child_hook_from_cmdline() when constructed: a static object of it (see above) turns
/// a spawned copy of the test binary into the child it was started as.
struct ChildHook {
    ChildHook() { (void)run_child_hook_from_cmdline(); }
};

/// Busy-waits `ns` nanoseconds of the monotonic clock: a pool function that lasts long enough
/// for a kill to land inside its chunk, while its worker stays on the CPU.
inline void busy_for_ns(std::int64_t ns) noexcept {
    const std::int64_t until = staticrt::Instant::now().ns() + ns;
    while (staticrt::Instant::now().ns() < until) {
    }
}

/// "staticrt-t<pid>-<tag>": unique per test process.
inline std::string shm_name(const char* tag) {
    return "staticrt-t" + std::to_string(::getpid()) + "-" + tag;
}

/// Segments under /dev/shm named by shm_name() or by a ProcessPool of process `pid`.
inline std::vector<std::string> leaked_segments(long pid) {
    std::vector<std::string> out;
    const std::string prefix = "staticrt-t" + std::to_string(pid) + "-";
    const std::string pool_prefix = "staticrt-pool-" + std::to_string(pid) + "-";
    DIR* d = ::opendir("/dev/shm");
    if (d == nullptr) return out;
    while (dirent* e = ::readdir(d)) {
        if (std::strncmp(e->d_name, prefix.c_str(), prefix.size()) == 0 ||
            std::strncmp(e->d_name, pool_prefix.c_str(), pool_prefix.size()) == 0)
            out.emplace_back(e->d_name);
    }
    ::closedir(d);
    return out;
}

/// After every test (each runs in its own process under ctest): nothing of this process left in
/// /dev/shm. Register once per binary:
///   ::testing::AddGlobalTestEnvironment(new staticrt::test::NoLeakedSegments);
class NoLeakedSegments : public ::testing::Environment {
public:
    void TearDown() override {
        const auto left = leaked_segments(::getpid());
        EXPECT_TRUE(left.empty()) << "leaked shared-memory segment: " << (left.empty() ? "" : left.front());
    }
};

}  // namespace staticrt::test
