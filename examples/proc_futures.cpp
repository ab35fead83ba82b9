// SPDX-License-Identifier: MIT
// proc_futures: Python's concurrent.futures examples — ThreadPoolExecutor.submit / result and
// ProcessPoolExecutor with the docs' is_prime.
//
// Python:
//   with ThreadPoolExecutor(max_workers=4) as ex:
//       futures = [ex.submit(checksum, block) for block in blocks]
//       for f in futures:
//           try: print(f.result(timeout=60))
//           except Exception as exc: print('generated an exception:', exc)
//   PRIMES = [112272535095293, 112582705942171, 112272535095293, 115280095190773, 115797848077099, 1099726899285419]
//   with ProcessPoolExecutor() as ex:
//       for n, prime in zip(PRIMES, ex.map(is_prime, PRIMES)): print(f'{n} is prime: {prime}')
//
// Differences: a task reports failure by returning Result<T> with an error (no exceptions);
// result(timeout) is get(Deadline), and a timeout leaves the future valid; a process pool calls
// functions registered by name, with trivially copyable arguments and results.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <span>

#include "staticrt/exec/thread_pool.hpp"
#include "staticrt/ipc/process_pool.hpp"

namespace ipc = staticrt::ipc;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::Result;
using namespace std::chrono_literals;

namespace {

constinit staticrt::ThreadPool<4> g_threads;

/// A "checksum" that fails for an empty block, as load_url fails for a bad URL.
Result<std::uint32_t> checksum(int block) noexcept {
    if (block < 0) return unexpected(Errc::invalid_argument);
    std::uint32_t h = 2166136261u;
    for (int i = 0; i < 100000; ++i) h = (h ^ static_cast<std::uint32_t>(block + i)) * 16777619u;
    return h;
}

long long is_prime(long long n) noexcept {
    if (n < 2) return 0;
    if (n == 2) return 1;
    if (n % 2 == 0) return 0;
    for (long long i = 3; i * i <= n; i += 2)
        if (n % i == 0) return 0;
    return 1;
}
const ipc::PoolFunction<&is_prime> g_is_prime{"is_prime"};  // registered in parent and workers

}  // namespace

int main(int argc, char** argv) {
    ipc::child_main_hook(argc, argv);  // process-pool workers run here

    // ThreadPoolExecutor.submit -> Future; result(timeout) -> get(Deadline).
    if (!g_threads.start({})) return 1;
    const int blocks[] = {1, 2, -1, 4};
    int ok = 0, failed = 0;
    {
        Result<staticrt::Future<std::uint32_t>> futures[4] = {unexpected(Errc::empty), unexpected(Errc::empty), unexpected(Errc::empty), unexpected(Errc::empty)};
        for (int i = 0; i < 4; ++i) futures[i] = g_threads.submit(&checksum, blocks[i]);
        for (int i = 0; i < 4; ++i) {
            if (!futures[i]) return 1;
            auto v = futures[i]->get(Deadline::after(60s));
            if (v) {
                std::printf("block %d: checksum %08x\n", blocks[i], *v);
                ++ok;
            } else {
                std::printf("block %d generated an error: %s\n", blocks[i], staticrt::to_string(v.code()));
                ++failed;
            }
        }
    }
    if (!g_threads.shutdown()) return 1;

    // ProcessPoolExecutor.map(is_prime, PRIMES).
    static ipc::ProcessPool<2> procs;
    if (!procs.start()) return 1;
    const long long primes[] = {112272535095293, 112582705942171, 112272535095293,
                                115280095190773, 115797848077099, 1099726899285419};
    long long verdict[6] = {};
    auto r = procs.map("is_prime", std::span<const long long>(primes), std::span<long long>(verdict));
    if (!r) {
        std::printf("map failed: %s\n", staticrt::to_string(r.code()));
        procs.shutdown();
        return r.code() == Errc::process_died ? 0 : 1;  // an emulator without binfmt_misc: see docs/processes.md
    }
    for (int i = 0; i < 6; ++i) std::printf("%lld is prime: %s\n", primes[i], verdict[i] ? "True" : "False");
    // One call, like ex.submit(is_prime, n).result(timeout=60):
    auto one = procs.submit<long long>("is_prime", 97LL);
    const long long v97 = one ? one->get(Deadline::after(60s)).value_or(-1) : -1;
    std::printf("97 is prime: %s\n", v97 == 1 ? "True" : "False");
    procs.shutdown();
    return ok == 3 && failed == 1 && verdict[0] == 1 && verdict[5] == 0 && v97 == 1 ? 0 : 1;
}
