// SPDX-License-Identifier: MIT
// proc_semaphore: multiprocessing.BoundedSemaphore / Lock limiting a resource across processes.
//
// Python:
//   sem = BoundedSemaphore(2)                      # at most two users at a time
//   def use(sem, lock, stats):
//       with sem:
//           with lock: stats['now'] += 1; stats['max'] = max(stats['max'], stats['now'])
//           ... use the resource ...
//           with lock: stats['now'] -= 1
//   ps = [Process(target=use, args=(sem, lock, stats)) for _ in range(4)]
//
// Differences: the semaphore, the lock and the counters sit in one shared struct (no proxies);
// releasing a BoundedSemaphore beyond its initial value is Errc::over_release (Python: ValueError).
#include <chrono>
#include <cstdio>
#include <mutex>

#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/process_mutex.hpp"
#include "staticrt/ipc/shared_segment.hpp"
#include "staticrt/sync/semaphore.hpp"

namespace ipc = staticrt::ipc;
using staticrt::Deadline;
using namespace std::chrono_literals;

struct Shared {
    staticrt::ProcessBoundedSemaphore sem{2};
    ipc::ProcessMutex lock;
    int now = 0;
    int max = 0;
    int uses = 0;
};

static int use(int argc, const char* const* argv) noexcept {
    static ipc::SharedSegment<Shared> s;
    if (argc < 1 || !s.open(argv[0], Deadline::after(10s))) return 2;
    for (int round = 0; round < 50; ++round) {
        if (!s->sem.acquire(Deadline::after(30s))) return 3;  // with sem:
        {
            std::lock_guard g(s->lock);
            ++s->now;
            s->max = s->now > s->max ? s->now : s->max;
            ++s->uses;
        }
        staticrt::platform::sleep_for(std::chrono::microseconds(100));  // ... use the resource ...
        {
            std::lock_guard g(s->lock);
            --s->now;
        }
        if (!s->sem.release()) return 4;
    }
    return 0;
}

int main(int argc, char** argv) {
    (void)ipc::register_entry("use", &use);
    ipc::child_main_hook(argc, argv);

    char name[64];
    std::snprintf(name, sizeof name, "staticrt-example-sem-%lld", static_cast<long long>(ipc::Process::current_pid()));
    ipc::SharedSegment<Shared> s;
    if (!s.create(name)) return 1;
    const char* args[] = {name, nullptr};
    ipc::Process ps[4];
    for (auto& p : ps)
        if (!p.start("use", args)) return 1;
    int emulated = 0;
    for (auto& p : ps) {
        if (!p.join(Deadline::after(60s))) return 1;
        emulated += p.exit_code() == 127 ? 1 : 0;
    }
    const bool over = s->sem.release().code() == staticrt::Errc::over_release;  // ValueError in Python
    std::printf("%d uses, at most %d at a time (limit 2); extra release refused: %s\n", s->uses, s->max,
                over ? "yes" : "no");
    return s->uses == (4 - emulated) * 50 && s->max <= 2 && over ? 0 : 1;
}
