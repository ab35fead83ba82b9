// SPDX-License-Identifier: MIT
// proc_process: Python's multiprocessing.Process — start, join, exitcode, terminate, daemon.
//
// Python:
//   def f(name): print('hello', name)
//   p = Process(target=f, args=('bob',)); p.start(); p.join()     # hello bob; p.exitcode == 0
//   q = Process(target=time.sleep, args=(60,)); q.start(); q.terminate(); q.join()
//   print(q.exitcode)                                             # -15 (-SIGTERM)
//   d = Process(target=time.sleep, args=(60,), daemon=True); d.start()   # ended at exit
//
// Differences: the child runs a function registered by name in this same executable (spawn),
// with string arguments; exit_code() is negative for a signal on POSIX like Python's exitcode
// (Windows reports TerminateProcess's exit code instead).
#include <chrono>
#include <cstdio>

#include "staticrt/ipc/process.hpp"

namespace ipc = staticrt::ipc;
using staticrt::Deadline;
using namespace std::chrono_literals;

static int f(int argc, const char* const* argv) noexcept {
    std::printf("hello %s\n", argc > 0 ? argv[0] : "?");
    return 0;
}

static int sleeper(int, const char* const*) noexcept {
    staticrt::platform::sleep_for(60s);
    return 0;
}

int main(int argc, char** argv) {
    (void)ipc::register_entry("f", &f);
    (void)ipc::register_entry("sleeper", &sleeper);
    ipc::child_main_hook(argc, argv);

    const char* args[] = {"bob", nullptr};
    ipc::Process p;
    if (!p.start("f", args) || !p.join(Deadline::after(30s))) return 1;
    if (p.exit_code() == 127) {
        std::printf("the child could not start (an emulator without binfmt_misc)\n");
        return 0;
    }
    std::printf("p.exitcode = %d\n", p.exit_code().value_or(-1000));

    ipc::Process q;
    if (!q.start("sleeper")) return 1;
    if (!q.terminate() || !q.join(Deadline::after(30s))) return 1;
    std::printf("q.exitcode = %d (terminated)\n", q.exit_code().value_or(-1000));

    static ipc::Process d;  // a daemon child is terminated and reaped when this process exits
    if (!d.start("sleeper", nullptr, ipc::ProcessOptions{.daemon = true})) return 1;
    std::printf("daemon child %lld alive: %s\n", static_cast<long long>(d.pid()), d.is_alive() ? "yes" : "no");
    return p.exit_code() == 0 && q.exit_code() != 0 ? 0 : 1;
}
