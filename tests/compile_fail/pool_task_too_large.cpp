// SPDX-License-Identifier: MIT
// A callable that does not fit the task cell.
// expect: the task (callable + arguments + promise) is larger than TaskBytes
#include "staticrt/exec/thread_pool.hpp"
staticrt::ThreadPool<1, 16, 64 * 1024, 32> g_pool;
void f() {
    char big[200] = {};
    (void)g_pool.submit([big] { return big[0]; });
}
