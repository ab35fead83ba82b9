// SPDX-License-Identifier: MIT
// py_queue: Python's queue.Queue example (task_done / join) with a daemon worker thread.
//
// Python:
//   q = queue.Queue()
//   def worker():
//       while True:
//           item = q.get()
//           print(f'Working on {item}'); print(f'Finished {item}')
//           q.task_done()
//   threading.Thread(target=worker, daemon=True).start()
//   for item in range(30): q.put(item)
//   q.join()
//   print('All work completed')
//
// Differences: the queue has a fixed capacity (64 here; put() blocks while it is full, with a
// Deadline), and items are values of one type. The worker is a daemon: main() returns without
// joining it, as in Python.
#include <cstdio>

#include "staticrt/queue/joinable_queue.hpp"
#include "staticrt/thread.hpp"

namespace {
staticrt::JoinableQueue<int, 64> g_q;
staticrt::Thread<256 * 1024> g_worker;  // static storage: a daemon thread may outlive main()
}  // namespace

int main() {
    auto started = g_worker.start(
        [] {
            for (;;) {
                auto item = g_q.pop();  // blocks, like q.get()
                if (!item) return;
                std::printf("Working on %d\n", *item);
                std::printf("Finished %d\n", *item);
                (void)g_q.task_done();
            }
        },
        {.name = "worker", .daemon = true});
    if (!started) return 1;
    for (int item = 0; item < 30; ++item)
        if (!g_q.push(item)) return 1;
    if (!g_q.join(staticrt::Deadline::after(std::chrono::seconds(60)))) return 1;  // q.join()
    std::printf("All work completed\n");
    return 0;
}
