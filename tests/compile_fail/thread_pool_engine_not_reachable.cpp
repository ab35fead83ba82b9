// SPDX-License-Identifier: MIT
// ThreadPool does not derive from its engine: a ThreadPool is not a detail::PoolCore, so the
// engine calls cannot be reached through a base reference either.
// expect: staticrt::detail::PoolCore
#include "staticrt/exec/thread_pool.hpp"

int main() {
    static staticrt::ThreadPool<1> pool;
    staticrt::detail::PoolCore& core = pool;
    return core.started() ? 1 : 0;
}
