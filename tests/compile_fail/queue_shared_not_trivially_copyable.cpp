// SPDX-License-Identifier: MIT
// A process-shared queue must not hold objects with pointers into one process's heap.
// expect: a process-shared queue needs a trivially copyable T
#include <memory>
#include "staticrt/queue/mpmc_queue.hpp"
staticrt::MpmcQueue<std::unique_ptr<int>, 4, staticrt::WaitScope::process_shared> q;
int main() { return 0; }
