// SPDX-License-Identifier: MIT
// pool_fault_latency — how long a ProcessPool caller waits to learn that a worker died or
// stalled (issue 10). Linux only. Each trial submits one call that blocks forever, then:
//  death: SIGKILL the worker once it runs the call; latency = kill -> get() returns process_died;
//  stall: nothing; latency = (submit -> get() returns process_stalled) - stall_timeout.
// Prints median / p90 / max in microseconds. Not a test: run it by hand (see docs/processes.md).
//
//   pool_fault_latency [--trials N] [--method fork|spawn] [--liveness-ms M] [--stall-ms S]
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/process_pool.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::Instant;

namespace {
// Tells the driver it runs (one byte into the pipe named by LAT_PIPE_FD, inherited by fork
// and spawn workers alike), then blocks forever.
long long lat_block(long long) noexcept {
    if (const char* fd = std::getenv("LAT_PIPE_FD"); fd != nullptr) (void)!::write(std::atoi(fd), "r", 1);
    for (;;) ::sleep(1000);
}
const staticrt::ipc::PoolFunction<&lat_block> g_block{"lat_block"};

void summary(const char* what, std::vector<double>& us) {
    std::sort(us.begin(), us.end());
    const auto at = [&](double q) { return us[static_cast<std::size_t>(q * static_cast<double>(us.size() - 1))]; };
    std::printf("%-6s trials %zu  median %.0f us  p90 %.0f us  max %.0f us  (min %.0f us)\n", what, us.size(), at(0.5),
                at(0.9), us.back(), us.front());
}

[[noreturn]] void usage() {
    std::fprintf(stderr, "usage: pool_fault_latency [--trials N] [--method fork|spawn] [--liveness-ms M] [--stall-ms S]\n");
    std::exit(2);
}
}  // namespace

int main(int argc, char** argv) {
    staticrt::ipc::child_main_hook(argc, argv);
    int trials = 100;
    bool fork_method = true;
    long liveness_ms = 20, stall_ms = 100;
    for (int i = 1; i < argc; ++i) {
        const bool has = i + 1 < argc;
        if (std::strcmp(argv[i], "--trials") == 0 && has) trials = std::atoi(argv[++i]);
        else if (std::strcmp(argv[i], "--method") == 0 && has) fork_method = std::strcmp(argv[++i], "fork") == 0;
        else if (std::strcmp(argv[i], "--liveness-ms") == 0 && has) liveness_ms = std::atol(argv[++i]);
        else if (std::strcmp(argv[i], "--stall-ms") == 0 && has) stall_ms = std::atol(argv[++i]);
        else usage();
    }
    if (trials < 1 || liveness_ms < 1 || stall_ms < 1) usage();
    int fds[2];
    if (::pipe(fds) != 0) return 2;
    char fd_text[16];
    std::snprintf(fd_text, sizeof fd_text, "%d", fds[1]);
    ::setenv("LAT_PIPE_FD", fd_text, 1);
    staticrt::ipc::ProcessPoolOptions o;
    o.start_method = fork_method ? staticrt::ipc::StartMethod::fork : staticrt::ipc::StartMethod::spawn;
    o.max_retries = 0;
    o.liveness_interval = std::chrono::milliseconds(liveness_ms);
    std::printf("pool_fault_latency: %d trials, %s workers, liveness_interval %ld ms, stall_timeout %ld ms\n", trials,
                fork_method ? "fork" : "spawn", liveness_ms, stall_ms);

    std::vector<double> death, stall;
    {
        staticrt::ipc::ProcessPool<1> pool;
        if (!pool.start(o)) return 1;
        for (int t = 0; t < trials; ++t) {
            auto f = pool.submit<long long>("lat_block", 0LL);
            if (!f) return 3;
            char byte = 0;
            if (::read(fds[0], &byte, 1) != 1) return 6;  // the worker runs the call now
            const auto t0 = Instant::now().ns();
            ::kill(static_cast<pid_t>(pool.worker_pid(0)), SIGKILL);
            auto r = f->get(Deadline::after(30s));
            const auto t1 = Instant::now().ns();
            if (r.code() != Errc::process_died) {
                std::fprintf(stderr, "death trial %d: %s\n", t, staticrt::to_string(r.code()));
                return 4;
            }
            death.push_back(static_cast<double>(t1 - t0) / 1e3);
        }
    }
    o.stall_timeout = std::chrono::milliseconds(stall_ms);
    {
        staticrt::ipc::ProcessPool<1> pool;
        if (!pool.start(o)) return 1;
        for (int t = 0; t < trials; ++t) {
            const auto t0 = Instant::now().ns();
            auto f = pool.submit<long long>("lat_block", 0LL);
            if (!f) return 3;
            auto r = f->get(Deadline::after(30s));
            const auto t1 = Instant::now().ns();
            char byte = 0;
            if (::read(fds[0], &byte, 1) != 1) return 6;
            if (r.code() != Errc::process_stalled) {
                std::fprintf(stderr, "stall trial %d: %s\n", t, staticrt::to_string(r.code()));
                return 5;
            }
            stall.push_back(static_cast<double>(t1 - t0 - stall_ms * 1'000'000) / 1e3);
        }
    }
    summary("death", death);
    summary("stall", stall);
    std::printf("(stall: beyond stall_timeout; death: from SIGKILL)\n");
    return 0;
}
