// SPDX-License-Identifier: MIT
// Worker stacks below the platform minimum would be refused at start().
// expect: ThreadPool StackBytes must be a multiple of 16 and at least platform::kMinStackBytes
#include "staticrt/exec/thread_pool.hpp"
staticrt::ThreadPool<2, 64, 4096> g_pool;
