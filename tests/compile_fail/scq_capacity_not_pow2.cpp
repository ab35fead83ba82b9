// SPDX-License-Identifier: MIT
// ScqQueue's capacity is a power of two (ring positions map to entries by a mask and a shift).
// expect: queue capacity N must be a power of two
#include "staticrt/queue/scq_queue.hpp"
staticrt::ScqQueue<int, 1000> q;
int main() { return 0; }
