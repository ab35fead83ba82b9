// SPDX-License-Identifier: MIT
// ProcessPool's engine is a private member: its call-slot plumbing (PoolFuture's business)
// must not be reachable from user code.
// expect: no member named
#include "staticrt/ipc/process_pool.hpp"

int main() {
    static staticrt::ipc::ProcessPool<1> pool;
    pool.call_release(0, 0);
    return 0;
}
