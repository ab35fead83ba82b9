// SPDX-License-Identifier: MIT
// A full /dev/shm is Errc::no_space at create, with nothing left behind (issue 10 case 2):
// pages are reserved up front (posix_fallocate on the shm fd; tmpfs allocates them there), so
// the first touch can no longer SIGBUS. Runs in a forked child that mounts a 256 KiB tmpfs on
// /dev/shm in a private mount namespace (needs CAP_SYS_ADMIN: skipped with the reason when
// unshare/mount is refused).
#include <gtest/gtest.h>

#include <dirent.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "staticrt/ipc/process_pool.hpp"
#include "staticrt/platform/shared_memory.hpp"

using staticrt::Errc;
using staticrt::platform::SharedMemory;

namespace {

constexpr int kSkip = 77;

int entries_in_dev_shm() {
    DIR* d = ::opendir("/dev/shm");
    if (d == nullptr) return -1;
    int n = 0;
    while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.' ? 1 : 0;
    ::closedir(d);
    return n;
}

// In the child: a private 256 KiB /dev/shm, then the checks. Exit code: 0 ok, kSkip, or the
// number of the failed check.
int child_checks() {
    if (::unshare(CLONE_NEWNS) != 0) return kSkip;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return kSkip;
    if (::mount("tmpfs", "/dev/shm", "tmpfs", 0, "size=256k") != 0) return kSkip;
    if (entries_in_dev_shm() != 0) return 1;
    {
        SharedMemory small;
        if (!small.create("staticrt-nospace-small", 64 * 1024)) return 2;  // fits
        SharedMemory big;
        auto r = big.create("staticrt-nospace-big", 1024 * 1024);  // does not fit
        if (r || r.code() != Errc::no_space) return 3;
        if (entries_in_dev_shm() != 1) return 4;  // the failed one left nothing
        SharedMemory uniq;
        auto u = uniq.create_unique("staticrt-nospace-", 1024 * 1024);
        if (u || u.code() != Errc::no_space) return 5;
        if (entries_in_dev_shm() != 1) return 6;
        // Fill what is left page by page: the last create fails cleanly, no SIGBUS on touch.
        SharedMemory fill[64];
        int made = 0;
        for (auto& f : fill) {
            char name[64];
            std::snprintf(name, sizeof name, "staticrt-nospace-f%d", made);
            auto fr = f.create(name, 16 * 1024);
            if (!fr) {
                if (fr.code() != Errc::no_space) return 7;
                break;
            }
            std::memset(f.data(), 0xAB, f.size());  // every page is really there
            ++made;
        }
        if (made == 64) return 8;  // 1 MiB in a 256 KiB tmpfs: must have run out
        for (int i = 0; i < made; ++i) {
            fill[i].close();
            char name[64];
            std::snprintf(name, sizeof name, "staticrt-nospace-f%d", i);
            (void)SharedMemory::unlink(name);
        }
        small.close();
        (void)SharedMemory::unlink("staticrt-nospace-small");
    }
    if (entries_in_dev_shm() != 0) return 9;
    // A pool in the full namespace: Linux gives it an anonymous segment (not in /dev/shm), so it
    // starts; nothing of it appears in /dev/shm.
    {
        staticrt::ipc::ProcessPool<1> pool;
        staticrt::ipc::ProcessPoolOptions o;
        o.start_method = staticrt::ipc::StartMethod::fork;
        if (!pool.start(o)) return 10;
        if (entries_in_dev_shm() != 0) return 11;
        pool.shutdown();
    }
    return 0;
}

}  // namespace

TEST(SharedMemoryNoSpace, FullDevShm_CreateIsNoSpace_NothingLeftBehind) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) ::_exit(child_checks());
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "child died: signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    if (WEXITSTATUS(status) == kSkip) GTEST_SKIP() << "cannot mount a private tmpfs on /dev/shm (unshare/mount refused)";
    EXPECT_EQ(WEXITSTATUS(status), 0) << "failed check number " << WEXITSTATUS(status);
}
