// SPDX-License-Identifier: MIT
// ThreadPool's engine is a private member: publishing a cell by hand (with any job table)
// must not compile.
// expect: no member named
#include "staticrt/exec/thread_pool.hpp"

int main() {
    static staticrt::ThreadPool<1> pool;
    const staticrt::detail::CellClaim c;
    pool.publish(c, nullptr);
    return 0;
}
