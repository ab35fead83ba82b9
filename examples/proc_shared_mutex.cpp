// SPDX-License-Identifier: MIT
// proc_shared_mutex: a robust mutex in shared memory guards a critical section across
// processes — and survives a process that dies inside it.
#include <cstdio>
#include <mutex>

#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/process_mutex.hpp"
#include "staticrt/ipc/shared_segment.hpp"

// True in a ThreadSanitizer build. TSan models a robust mutex's owner-died hand-over from a dead
// *process* wrongly (the lock happened in another address space, so the recovering unlock is
// reported as "unlock of an unlocked mutex"): the owner-death case is skipped under TSan.
constexpr bool kThreadSanitizer =
#if defined(__SANITIZE_THREAD__)
    true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
    true;
#else
    false;
#endif
#else
    false;
#endif

namespace ipc = staticrt::ipc;
using staticrt::Deadline;
using staticrt::Errc;

struct Account {
    ipc::ProcessMutex mutex;
    long balance = 0;
    long transfers = 0;
};

static int deposit(int argc, const char* const* argv) noexcept {
    ipc::SharedSegment<Account> account;
    if (argc < 1 || !account.open(argv[0], Deadline::after(std::chrono::seconds(10)))) return 2;
    for (int i = 0; i < 500; ++i) {
        std::lock_guard lock(account->mutex);
        account->balance += 10;
        ++account->transfers;
    }
    return 0;
}

static int crash_inside(int argc, const char* const* argv) noexcept {
    // static: the mapping must outlive the entry, or the kernel cannot mark the dead owner's
    // lock (its robust list would point into unmapped memory when the process ends).
    static ipc::SharedSegment<Account> account;
    if (argc < 1 || !account.open(argv[0], Deadline::after(std::chrono::seconds(10)))) return 2;
    account->mutex.lock();
    account->balance = -1;  // half-done update; then the process dies holding the lock
    return 0;
}

int main(int argc, char** argv) {
    (void)ipc::register_entry("deposit", &deposit);
    (void)ipc::register_entry("crash_inside", &crash_inside);
    ipc::child_main_hook(argc, argv);

    char name[64];
    std::snprintf(name, sizeof name, "staticrt-example-mutex-%lld", static_cast<long long>(ipc::Process::current_pid()));
    ipc::SharedSegment<Account> account;
    if (!account.create(name)) return 1;
    const char* args[] = {name, nullptr};
    ipc::Process a, b;
    if (!a.start("deposit", args) || !b.start("deposit", args)) return 1;
    (void)a.join(Deadline::never());
    (void)b.join(Deadline::never());
    if (a.exit_code() == 127) {
        std::printf("(this emulator cannot re-run the program: see docs/processes.md)\n");
        return 0;
    }
    std::printf("balance %ld after %ld transfers\n", account->balance, account->transfers);

    if (!account->mutex.robust() || kThreadSanitizer) {
        std::printf(kThreadSanitizer ? "ThreadSanitizer build: skipping the crash demo (it misreports the recovery)\n"
                                     : "no robust mutexes on this system: skipping the crash demo\n");
        return account->balance == 10000 ? 0 : 1;
    }
    ipc::Process c;
    if (!c.start("crash_inside", args)) return 1;
    (void)c.join(Deadline::never());
    auto r = account->mutex.lock(Deadline::after(std::chrono::seconds(5)));
    if (r.code() == Errc::owner_died) {
        std::printf("previous owner died inside the critical section: repairing\n");
        account->balance = account->transfers * 10;
        (void)account->mutex.mark_consistent();
    } else if (!r) {
        std::printf("lock failed: %s\n", staticrt::to_string(r.code()));
        return 1;
    }
    account->mutex.unlock();
    std::printf("balance %ld\n", account->balance);
    return account->balance == 10000 ? 0 : 1;
}
