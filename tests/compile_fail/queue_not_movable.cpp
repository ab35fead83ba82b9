// SPDX-License-Identifier: MIT
// An element type that can be neither moved nor copied cannot travel through a queue.
// expect: queue element type T must be nothrow move- or copy-constructible
#include <mutex>
#include "staticrt/queue/spsc_queue.hpp"
staticrt::SpscQueue<std::mutex, 4> q;
int main() { return 0; }
