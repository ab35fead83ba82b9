// SPDX-License-Identifier: MIT
// ThreadPool's engine is a private member: claiming a queue cell from user code (and never
// publishing it, which would jam the queue) must not compile.
// expect: no member named
#include "staticrt/exec/thread_pool.hpp"

int main() {
    static staticrt::ThreadPool<1> pool;
    staticrt::detail::CellClaim c;
    return static_cast<int>(pool.claim(c, staticrt::Deadline::poll()));
}
