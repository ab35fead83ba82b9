// SPDX-License-Identifier: MIT
// A system whose static RAM exceeds the budget it states must not compile.
// expect: staticrt: the system's static RAM exceeds its budget
// also: static assertion failed
// also: static_assert expression is not an integral constant expression
#include "staticrt/exec/thread_pool.hpp"
#include "staticrt/footprint.hpp"
#include "staticrt/queue/mpmc_queue.hpp"

constinit staticrt::ThreadPool<4> g_pool;           // 4 stacks of at least 64 KiB: over 256 KiB
constinit staticrt::MpmcQueue<int, 1024> g_queue;
using System = staticrt::footprint<decltype(g_pool), decltype(g_queue)>;
static_assert(staticrt::within_budget<System, 128 * 1024>);
