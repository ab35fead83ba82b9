// SPDX-License-Identifier: MIT
// Capacities are powers of two (the position -> cell map is a mask).
// expect: queue capacity N must be a power of two
#include "staticrt/queue/mpmc_queue.hpp"
staticrt::MpmcQueue<int, 1000> q;
int main() { return 0; }
