// SPDX-License-Identifier: MIT
// submit() carries its argument inline in a call slot of the shared control block.
// expect: ProcessPool::submit: argument or result larger than kMaxPoolCallBytes (64)
#include "staticrt/ipc/process_pool.hpp"
struct Big {
    char bytes[100];
};
void use(staticrt::ipc::ProcessPool<1>& pool) { (void)pool.submit<long long>("f", Big{}); }
