// SPDX-License-Identifier: MIT
// proc_shared_value: four processes add to counters in shared memory.
// Python: v = Value('i', 0); with v.get_lock(): v.value += 1
// One value, one discipline: `counter` is only written under its lock, `hits` only by atomic
// calls. A lock-free fetch_add() does not take the lock, so mixing it with a locked
// `value() = value() + 1` on the same value in another process loses updates.
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/shared_value.hpp"

namespace ipc = staticrt::ipc;
using staticrt::Deadline;

static int add(int argc, const char* const* argv) noexcept {
    if (argc < 2) return 2;
    ipc::SharedValue<long> counter;
    ipc::SharedValue<long> hits;
    if (!counter.open(argv[0], Deadline::after(std::chrono::seconds(10)))) return 3;
    if (!hits.open(argv[1], Deadline::after(std::chrono::seconds(10)))) return 3;
    for (int i = 0; i < 1000; ++i) {
        std::lock_guard lock(counter.get_lock());  // a compound update: hold the lock
        counter.value() = counter.value() + 1;
    }
    (void)hits.fetch_add(1);  // a value written only by atomic calls needs no lock
    return 0;
}

int main(int argc, char** argv) {
    (void)ipc::register_entry("add", &add);
    ipc::child_main_hook(argc, argv);

    char name[64];
    char hits_name[64];
    const auto pid = static_cast<long long>(ipc::Process::current_pid());
    std::snprintf(name, sizeof name, "staticrt-example-value-%lld", pid);
    std::snprintf(hits_name, sizeof hits_name, "staticrt-example-hits-%lld", pid);
    ipc::SharedValue<long> counter;
    ipc::SharedValue<long> hits;
    if (!counter.create(name, 0) || !hits.create(hits_name, 0)) return 1;
    const char* args[] = {name, hits_name, nullptr};
    ipc::Process workers[4];
    for (auto& w : workers)
        if (!w.start("add", args)) return 1;
    int emulated = 0;
    for (auto& w : workers) {
        if (!w.join(Deadline::after(std::chrono::seconds(30)))) return 1;
        emulated += w.exit_code() == 127 ? 1 : 0;
    }
    const int ran = 4 - emulated;
    std::printf("counter = %ld (expected %d), hits = %ld (expected %d)\n", counter.load(), ran * 1000, hits.load(), ran);
    return counter.load() == ran * 1000 && hits.load() == ran ? 0 : 1;
}
