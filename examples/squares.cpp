// SPDX-License-Identifier: MIT
// squares — Python's `Pool(4).map(square, range(1, 11))` with a static thread pool.
//
//   $ ./squares
//   [1, 4, 9, 16, 25, 36, 49, 64, 81, 100]
//
// The pool object holds its worker stacks, task ring and result slots, so it lives in static
// storage; start() starts the workers (pinned one per physical core), map() splits the input
// into chunks, runs them on the workers and on the calling thread, and returns when all are done.
#include <cstdio>
#include <span>

#include "staticrt/exec/thread_pool.hpp"

namespace {
constinit staticrt::ThreadPool<4> g_pool;  // 4 workers, wrapping over the cores there are
}  // namespace

int main() {
    if (auto r = g_pool.start({}); !r) {
        std::fprintf(stderr, "pool start failed: %s\n", staticrt::to_string(r.error().code));
        return 1;
    }
    int numbers[10];
    for (int i = 0; i < 10; ++i) numbers[i] = i + 1;
    int squares[10] = {};
    auto square = [](int x) { return x * x; };
    if (auto r = g_pool.map(square, std::span<const int>(numbers), std::span<int>(squares)); !r) {
        std::fprintf(stderr, "map failed: %s\n", staticrt::to_string(r.error().code));
        return 1;
    }
    std::printf("[");
    for (int i = 0; i < 10; ++i) std::printf(i == 0 ? "%d" : ", %d", squares[i]);
    std::printf("]\n");

    // The same one at a time, like concurrent.futures: submit() returns a Future.
    auto f = g_pool.submit(square, 12);
    if (!f) return 1;
    auto v = f->get();
    std::printf("square(12) = %d\n", v ? *v : -1);
    return g_pool.shutdown() ? 0 : 1;
}
