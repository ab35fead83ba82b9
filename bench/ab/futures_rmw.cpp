// SPDX-License-Identifier: MIT
// bench/ab/futures_rmw.cpp — where the submit -> Future path's time goes on two cores
// (bench/notes.md, "Futures path: the slot pool's read-modify-writes").
//
// One submitter, a ThreadPool<2, 4096> and 1M empty tasks per variant, each variant once per
// repetition, variants interleaved:
//   detached        submit_detached, then wait_idle (the peer program's pool_dispatch row)
//   detached+rmw    the same plus one compare-exchange per task on a word only the submitter uses
//   flags           detached tasks that set a done flag of their window position; the submitter
//                   waits for and clears the flag before reusing the position (a result handed
//                   back without any result slot)
//   futures         submit() through a window of 4096 futures, the oldest consumed by get()
//                   before each submit (the peer program's staticrt_futures row)
// Prints the median tasks/s of each and the round-trip probe's state.
//
//   staticrt-futures-rmw [--reps N]      (default 5)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "staticrt/exec/thread_pool.hpp"

namespace {

using staticrt::Deadline;

constexpr std::uint64_t kTasks = 1'000'000;
constexpr std::size_t kWindow = 4096;

staticrt::ThreadPool<2, 4096, staticrt::kDefaultPoolStackBytes, 64, 8192> g_pool;
std::atomic<std::uint64_t> g_ran{0};
alignas(128) std::atomic<std::uint64_t> g_private{0};  // only the submitter touches it
struct alignas(32) Flag {
    std::atomic<std::uint32_t> done{1};
};
Flag g_flags[kWindow];
staticrt::Future<void> g_window[kWindow];

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

double rate(std::int64_t t0) { return static_cast<double>(kTasks) * 1e9 / static_cast<double>(now_ns() - t0); }

template <bool Rmw>
double detached() {
    const std::int64_t t0 = now_ns();
    for (std::uint64_t i = 0; i < kTasks; ++i) {
        if constexpr (Rmw) {
            std::uint64_t v = g_private.load(std::memory_order_relaxed);
            (void)g_private.compare_exchange_strong(v, v + 1, std::memory_order_seq_cst);
        }
        if (!g_pool.submit_detached([] { g_ran.fetch_add(1, std::memory_order_relaxed); })) return -1;
    }
    if (!g_pool.wait_idle()) return -1;
    return rate(t0);
}

double flags() {
    const std::int64_t t0 = now_ns();
    for (std::uint64_t i = 0; i < kTasks; ++i) {
        Flag& f = g_flags[i % kWindow];
        while (f.done.load(std::memory_order_acquire) == 0) {}
        f.done.store(0, std::memory_order_relaxed);
        if (!g_pool.submit_detached([&f] { f.done.store(1, std::memory_order_release); })) return -1;
    }
    if (!g_pool.wait_idle()) return -1;
    return rate(t0);
}

double futures() {
    const std::int64_t t0 = now_ns();
    for (std::uint64_t i = 0; i < kTasks; ++i) {
        auto& slot = g_window[i % kWindow];
        if (slot.valid() && !slot.get()) return -1;
        auto f = g_pool.submit([] { g_ran.fetch_add(1, std::memory_order_relaxed); });
        if (!f) return -1;
        slot = std::move(*f);
    }
    for (auto& f : g_window)
        if (f.valid() && !f.get()) return -1;
    return rate(t0);
}

/// Median round trip of one word between two threads on CPUs 0 and 1 (the peer program's probe, simplified).
double rtt_ns() {
    alignas(128) static std::atomic<std::uint32_t> ball{0};
    constexpr int kRounds = 20000;
    ball.store(0);
    std::thread echo([] {
        for (int i = 0; i < kRounds; ++i) {
            while (ball.load(std::memory_order_acquire) != 2u * i + 1) {}
            ball.store(2u * i + 2, std::memory_order_release);
        }
    });
    const std::int64_t t0 = now_ns();
    for (int i = 0; i < kRounds; ++i) {
        ball.store(2u * i + 1, std::memory_order_release);
        while (ball.load(std::memory_order_acquire) != 2u * i + 2) {}
    }
    const std::int64_t t1 = now_ns();
    echo.join();
    return static_cast<double>(t1 - t0) / kRounds;
}

}  // namespace

int main(int argc, char** argv) {
    int reps = 5;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            reps = std::atoi(argv[++i]);
        } else {
            std::fprintf(stderr, "usage: staticrt-futures-rmw [--reps N]\n");
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    if (!g_pool.start({})) return 1;
    const char* names[] = {"detached", "detached+rmw", "flags", "futures"};
    std::vector<double> v[4];
    for (int r = 0; r < reps; ++r) {
        const double rtt = rtt_ns();
        v[0].push_back(detached<false>());
        v[1].push_back(detached<true>());
        v[2].push_back(flags());
        v[3].push_back(futures());
        std::printf("rep %d rtt %.0f ns: detached %.3g detached+rmw %.3g flags %.3g futures %.3g tasks/s\n", r + 1, rtt,
                    v[0].back(), v[1].back(), v[2].back(), v[3].back());
    }
    for (int k = 0; k < 4; ++k) {
        std::sort(v[k].begin(), v[k].end());
        std::printf("median %s %.3g tasks/s\n", names[k], v[k][v[k].size() / 2]);
    }
    (void)g_pool.shutdown();
    return 0;
}
