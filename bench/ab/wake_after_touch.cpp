// SPDX-License-Identifier: MIT
// bench/ab/wake_after_touch.cpp — how long a futex wake takes to run a thread parked on another
// CPU, after the waking thread first-touched M MiB of fresh memory. No staticrt code: it checks
// whether a late helper in the peer program's cold `parallel_map` row is the platform's doing.
//
//   c++ -O2 -pthread bench/ab/wake_after_touch.cpp -o /tmp/wake_after_touch
//   /tmp/wake_after_touch 160 100 8     # touch 160 MiB, idle 100 ms, wake; 8 repetitions
//
// Each repetition: a thread pinned to CPU 1 parks in FUTEX_WAIT; the main thread (CPU 0) waits
// 10 ms, writes M MiB of new memory (what the peer program's map row does to its input and
// output), sleeps the idle time, then stores the word and calls FUTEX_WAKE. Printed: the time
// from just before the wake call to the parked thread's first clock read after FUTEX_WAIT
// returns, in microseconds, per repetition and the median. Linux only.
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

void pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    (void)pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

double one_wake_us(std::size_t mib, int idle_ms) {
    alignas(64) std::atomic<int> word{0};
    std::atomic<std::int64_t> woke{0};
    std::thread parked([&] {
        pin(1);
        while (word.load(std::memory_order_acquire) == 0) {
            syscall(SYS_futex, reinterpret_cast<int*>(&word), FUTEX_WAIT_PRIVATE, 0, nullptr, nullptr, 0);
        }
        woke.store(now_ns(), std::memory_order_relaxed);
    });
    usleep(10'000);  // let it park
    std::vector<char> fresh;
    if (mib > 0) {
        fresh.resize(mib << 20);
        std::memset(fresh.data(), 1, fresh.size());  // first touch of every page
    }
    usleep(static_cast<useconds_t>(idle_ms) * 1000);
    const std::int64_t t0 = now_ns();
    word.store(1, std::memory_order_release);
    syscall(SYS_futex, reinterpret_cast<int*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
    parked.join();
    return static_cast<double>(woke.load(std::memory_order_relaxed) - t0) / 1e3;
}

}  // namespace

int main(int argc, char** argv) {
    const long mib = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 160;
    const long idle_ms = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 100;
    const long reps = argc > 3 ? std::strtol(argv[3], nullptr, 10) : 8;
    if (mib < 0 || mib > (1L << 16) || idle_ms < 0 || idle_ms > 60'000 || reps < 1 || reps > 10'000 ||
        std::thread::hardware_concurrency() < 2) {
        std::fprintf(stderr, "usage: wake_after_touch [MiB 0..65536] [idle_ms 0..60000] [reps 1..10000] (2+ CPUs)\n");
        return 2;
    }
    pin(0);
    std::vector<double> us;
    for (long r = 0; r < reps; ++r) {
        us.push_back(one_wake_us(static_cast<std::size_t>(mib), static_cast<int>(idle_ms)));
        std::printf("%.0f ", us.back());
        std::fflush(stdout);
    }
    std::sort(us.begin(), us.end());
    std::printf("\nwake after touching %ld MiB, %ld ms idle: median %.0f us (min %.0f, max %.0f), %ld reps\n", mib,
                idle_ms, us[us.size() / 2], us.front(), us.back(), reps);
    return 0;
}
