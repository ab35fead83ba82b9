// SPDX-License-Identifier: MIT
// A result type that does not fit a result slot.
// expect: the task's Result<T> is larger than ResultBytes
// also: Result<T> is larger than SlotBytes
#include "staticrt/exec/thread_pool.hpp"
struct Big { char bytes[100]; };
staticrt::ThreadPool<1, 16, 64 * 1024, 64, 16, 32> g_pool;
void f() { (void)g_pool.submit([] { return Big{}; }); }
