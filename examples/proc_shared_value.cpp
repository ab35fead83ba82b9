// SPDX-License-Identifier: MIT
// proc_shared_value: four processes add to one counter in shared memory.
// Python: v = Value('i', 0); with v.get_lock(): v.value += 1
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/shared_value.hpp"

namespace ipc = staticrt::ipc;
using staticrt::Deadline;

static int add(int argc, const char* const* argv) noexcept {
    if (argc < 1) return 2;
    ipc::SharedValue<long> counter;
    if (!counter.open(argv[0], Deadline::after(std::chrono::seconds(10)))) return 3;
    for (int i = 0; i < 1000; ++i) {
        std::lock_guard lock(counter.get_lock());  // a compound update: hold the lock
        counter.value() = counter.value() + 1;
    }
    (void)counter.fetch_add(1);  // a single atomic step needs no lock
    return 0;
}

int main(int argc, char** argv) {
    (void)ipc::register_entry("add", &add);
    ipc::child_main_hook(argc, argv);

    char name[64];
    std::snprintf(name, sizeof name, "staticrt-example-value-%lld", static_cast<long long>(ipc::Process::current_pid()));
    ipc::SharedValue<long> counter;
    if (!counter.create(name, 0)) return 1;
    const char* args[] = {name, nullptr};
    ipc::Process workers[4];
    for (auto& w : workers)
        if (!w.start("add", args)) return 1;
    int emulated = 0;
    for (auto& w : workers) {
        if (!w.join(Deadline::after(std::chrono::seconds(30)))) return 1;
        emulated += w.exit_code() == 127 ? 1 : 0;
    }
    std::printf("counter = %ld (expected %d)\n", counter.load(), (4 - emulated) * 1001);
    return counter.load() == (4 - emulated) * 1001 ? 0 : 1;
}
