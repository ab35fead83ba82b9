// SPDX-License-Identifier: MIT
// proc_condition: a child process tells its parent "ready" through a Condition in shared
// memory. Python: multiprocessing.Condition; cv.wait_for(lambda: ready); cv.notify().
#include <chrono>
#include <cstdio>
#include <mutex>

#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/process_mutex.hpp"
#include "staticrt/ipc/shared_segment.hpp"
#include "staticrt/sync/condition.hpp"

namespace ipc = staticrt::ipc;
using staticrt::Deadline;
using namespace std::chrono_literals;

struct Handshake {
    ipc::ProcessMutex mutex;              // robust, process-shared
    staticrt::ProcessCondition ready_cv;  // process-shared condition; no pointers inside
    bool ready = false;
    long answer = 0;
};

static int child(int argc, const char* const* argv) noexcept {
    static ipc::SharedSegment<Handshake> hs;
    if (argc < 1 || !hs.open(argv[0], Deadline::after(10s))) return 2;
    std::unique_lock lock(hs->mutex);
    hs->answer = 42;
    hs->ready = true;
    (void)hs->ready_cv.notify_one(lock);  // notify while holding the lock, as required
    return 0;
}

int main(int argc, char** argv) {
    (void)ipc::register_entry("child", &child);
    ipc::child_main_hook(argc, argv);

    char name[64];
    std::snprintf(name, sizeof name, "staticrt-example-cond-%lld", static_cast<long long>(ipc::Process::current_pid()));
    ipc::SharedSegment<Handshake> hs;
    if (!hs.create(name)) return 1;
    const char* args[] = {name, nullptr};
    ipc::Process p;
    if (!p.start("child", args)) return 1;
    bool ok = false;
    {
        std::unique_lock lock(hs->mutex);
        // Wait up to 2 s: a child that cannot start (an emulator without binfmt_misc) ends the wait.
        ok = static_cast<bool>(hs->ready_cv.wait(lock, Deadline::after(2s), [&] { return hs->ready; }));
    }
    (void)p.join(Deadline::after(30s));
    if (!ok && p.exit_code() == 127) {
        std::printf("(this emulator cannot re-run the program: see docs/processes.md)\n");
        return 0;
    }
    std::printf("parent: child %lld said ready, answer %ld\n", static_cast<long long>(p.pid()), hs->answer);
    return ok && hs->answer == 42 ? 0 : 1;
}
