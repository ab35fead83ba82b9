// SPDX-License-Identifier: MIT
// proc_info: who am I, who is my parent, how many CPUs — from a parent and a spawned child.
// Python: os.getpid(), os.getppid(), multiprocessing.cpu_count().
#include <cstdio>

#include "staticrt/ipc/process.hpp"
#include "staticrt/platform/cpu.hpp"

namespace ipc = staticrt::ipc;

static int report(int, const char* const*) noexcept {
    std::printf("child : pid %lld, parent pid %lld\n", static_cast<long long>(ipc::Process::current_pid()),
                static_cast<long long>(ipc::Process::parent_pid()));
    return 0;
}

int main(int argc, char** argv) {
    (void)ipc::register_entry("report", &report);
    ipc::child_main_hook(argc, argv);  // a spawned child runs its entry here and exits

    std::printf("parent: pid %lld, parent pid %lld, %zu logical / %zu physical CPUs\n",
                static_cast<long long>(ipc::Process::current_pid()), static_cast<long long>(ipc::Process::parent_pid()),
                staticrt::platform::logical_cpu_count(), staticrt::platform::physical_cpu_count());
    std::fflush(stdout);
    ipc::Process child;
    if (!child.start("report")) return 1;
    if (!child.join(staticrt::Deadline::after(std::chrono::seconds(30)))) return 1;
    std::printf("child %lld exited with %d\n", static_cast<long long>(child.pid()), child.exit_code().value_or(-1));
    if (child.exit_code() == 127) std::printf("(this emulator cannot re-run the program: see docs/processes.md)\n");
    return 0;
}
