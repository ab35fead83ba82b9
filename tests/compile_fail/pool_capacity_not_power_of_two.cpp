// SPDX-License-Identifier: MIT
// The task ring indexes with a mask.
// expect: ThreadPool QueueCapacity must be a power of two
#include "staticrt/exec/thread_pool.hpp"
staticrt::ThreadPool<2, 1000> g_pool;
