// SPDX-License-Identifier: MIT
// A queue of capacity 0 cannot hold anything.
// expect: queue capacity N must be at least 1
// also: no matching function for call to 'destroy_remaining'
#include "staticrt/queue/spsc_queue.hpp"
staticrt::SpscQueue<int, 0> q;
int main() { return 0; }
