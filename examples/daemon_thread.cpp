// SPDX-License-Identifier: MIT
// daemon_thread: Python's Thread(daemon=True) — a background thread the program does not wait for.
//
// Python:
//   def heartbeat():
//       while True:
//           beats += 1; time.sleep(0.01)
//   threading.Thread(target=heartbeat, daemon=True).start()
//   ... work ...
//   # the program exits; the daemon thread is stopped with it
//
// A non-daemon staticrt::Thread must be joined before it is destroyed (a contract violation
// otherwise); one started with {.daemon = true} may still run when the process exits. It runs on
// its Thread's own stack, so a daemon Thread needs static storage, like g_heartbeat here.
// Difference: Python also waits for non-daemon threads at exit; staticrt never joins implicitly.
#include <atomic>
#include <chrono>
#include <cstdio>

#include "staticrt/thread.hpp"

namespace {
staticrt::Thread<256 * 1024> g_heartbeat;  // static storage: the thread may outlive main()
std::atomic<long> g_beats{0};
}  // namespace

int main() {
    auto r = g_heartbeat.start(
        [] {
            for (;;) {
                g_beats.fetch_add(1, std::memory_order_relaxed);  // relaxed: a counter
                staticrt::platform::sleep_for(std::chrono::milliseconds(10));
            }
        },
        {.name = "heartbeat", .daemon = true});
    if (!r) {
        std::fprintf(stderr, "start failed: %s\n", staticrt::to_string(r.error().code));
        return 1;
    }
    long work = 0;
    for (long i = 1; i <= 2'000'000; ++i) work += i % 7;  // the main program's work
    while (g_beats.load(std::memory_order_relaxed) < 3) staticrt::platform::sleep_for(std::chrono::milliseconds(1));
    std::printf("work = %ld, heartbeat alive = %s; exiting without joining it\n", work,
                g_heartbeat.is_alive() ? "yes" : "no");
    return 0;  // g_heartbeat is destroyed while its thread runs: fine for a daemon
}
