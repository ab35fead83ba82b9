// SPDX-License-Identifier: MIT
// proc_pool_squares: Pool(4).map(square, range(1, 11)) with worker processes.
#include <cstdio>

#include "staticrt/ipc/process_pool.hpp"

namespace ipc = staticrt::ipc;

static long long square(long long x) noexcept { return x * x; }
static const ipc::PoolFunction<&square> g_square{"square"};  // registered in parent and workers

int main(int argc, char** argv) {
    ipc::child_main_hook(argc, argv);  // workers run here

    static ipc::ProcessPool<4> pool;
    if (!pool.start()) return 1;
    long long in[10], out[10] = {};
    for (int i = 0; i < 10; ++i) in[i] = i + 1;
    auto r = pool.map("square", std::span<const long long>(in), std::span<long long>(out));
    if (!r) {
        std::printf("map failed: %s\n", staticrt::to_string(r.code()));
        std::printf("(under an emulator without binfmt_misc workers cannot start: see docs/processes.md)\n");
        return r.code() == staticrt::Errc::process_died ? 0 : 1;
    }
    std::printf("[");
    for (int i = 0; i < 10; ++i) std::printf(i ? ", %lld" : "%lld", out[i]);
    std::printf("]  (%zu items, %zu failed)\n", r->completed, r->failed);
    pool.shutdown();
    return out[9] == 100 ? 0 : 1;
}
