// SPDX-License-Identifier: MIT
// A pool without workers cannot run anything.
// expect: ThreadPool needs at least one worker
#include "staticrt/exec/thread_pool.hpp"
staticrt::ThreadPool<0> g_pool;
