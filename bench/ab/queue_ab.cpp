// SPDX-License-Identifier: MIT
// staticrt-queue-ab: many short, interleaved repetitions of one queue workload, staticrt against
// atomic_queue's spinning mode and xenium's Vyukov queue, printing the median same-repetition
// ratio. It is the tool for A/B-ing a change to the queues on a noisy machine (the peer program
// runs few, long repetitions): build it twice, once with a variant of the queue headers first on
// the include path (bench/ab/queue_ab.sh does that), and compare the medians.
//
//   staticrt-queue-ab <spsc|mpmc11|mpmc22|rtt> [reps=11] [items=2000000]
//   staticrt-queue-ab --help
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <atomic_queue/atomic_queue.h>
#include <xenium/vyukov_bounded_queue.hpp>

#include "../flags.hpp"
#include "staticrt/platform/arch.hpp"
#include "staticrt/queue/mpmc_queue.hpp"
#include "staticrt/queue/spsc_queue.hpp"

namespace {

using u64 = std::uint64_t;
constexpr unsigned kCap = 1024;

void pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu % static_cast<int>(std::max(1u, std::thread::hardware_concurrency())), &s);
    (void)pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}
long long now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}
void relax() { staticrt::platform::cpu_relax(); }

// Adapters: Q, push(q, v), pop(q) -> v. Values are never 0 (atomic_queue's NIL).
template <class Q_>
struct Blocking {  // staticrt's public blocking API
    using Q = Q_;
    static void push(Q& q, u64 v) { (void)q.push(v); }
    static u64 pop(Q& q) { u64 v = 0; (void)q.pop(v); return v; }
};
template <class Q_>
struct TryLoop {  // staticrt's try_ calls in a spin loop
    using Q = Q_;
    static void push(Q& q, u64 v) { while (!q.try_push(v)) relax(); }
    static u64 pop(Q& q) { u64 v = 0; while (!q.try_pop(v)) relax(); return v; }
};
template <bool Spsc>
struct AqSpin {
    using Q = atomic_queue::AtomicQueue<u64, kCap, u64{0}, true, true, false, Spsc>;
    static void push(Q& q, u64 v) { q.push(v); }
    static u64 pop(Q& q) { return q.pop(); }
};
struct Xenium {
    struct Q { xenium::vyukov_bounded_queue<u64> q{kCap}; };
    static void push(Q& q, u64 v) { while (!q.q.try_push(v)) relax(); }
    static u64 pop(Q& q) { u64 v = 0; while (!q.q.try_pop(v)) relax(); return v; }
};
using Spsc = staticrt::SpscQueue<u64, kCap>;
using Mpmc = staticrt::MpmcQueue<u64, kCap>;

/// items/s of np producers and nc consumers, threads pinned round-robin; exits on a wrong sum.
template <class A>
double throughput(int np, int nc, u64 items) {
    auto q = std::make_unique<typename A::Q>();
    const u64 unit = static_cast<u64>(np * nc);
    items = items / unit * unit;
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::atomic<u64> sum{0};
    std::vector<std::thread> ts;
    int idx = 0;
    for (int p = 0; p < np || p < nc; ++p) {
        if (p < np)
            ts.emplace_back([&, p, cpu = idx++] {
                pin(cpu);
                ready.fetch_add(1);
                while (!go.load(std::memory_order_acquire)) {}
                const u64 per = items / static_cast<u64>(np), base = static_cast<u64>(p) * per + 1;
                for (u64 i = 0; i < per; ++i) A::push(*q, base + i);
            });
        if (p < nc)
            ts.emplace_back([&, cpu = idx++] {
                pin(cpu);
                ready.fetch_add(1);
                while (!go.load(std::memory_order_acquire)) {}
                const u64 per = items / static_cast<u64>(nc);
                u64 local = 0;
                for (u64 i = 0; i < per; ++i) local += A::pop(*q);
                sum.fetch_add(local);
            });
    }
    while (ready.load() != np + nc) {}
    const long long t0 = now_ns();
    go.store(true, std::memory_order_release);
    for (auto& t : ts) t.join();
    const long long t1 = now_ns();
    if (sum.load() != items * (items + 1) / 2) {
        std::fprintf(stderr, "wrong sum: an item was lost or duplicated\n");
        std::exit(2);
    }
    return static_cast<double>(items) * 1e9 / static_cast<double>(t1 - t0);
}

/// Median round trip (ns) of a token through two queues (or one bare atomic word) between CPUs 0 and 1.
template <class A>
double round_trip(u64 rounds) {
    auto q1 = std::make_unique<typename A::Q>();
    auto q2 = std::make_unique<typename A::Q>();
    // The echo thread reads nothing of this frame in its loop (a reference into it is reloaded
    // after every out-of-line call, and this thread writes the line: bench/notes.md, "Ping-pong:
    // the harness shared a line").
    std::thread echo([&] {
        pin(1);
        auto& a = *q1;
        auto& b = *q2;
        const u64 n = rounds;
        for (u64 i = 0; i < n; ++i) A::push(b, A::pop(a));
    });
    pin(0);
    std::vector<double> per;
    for (u64 b = 0; b < rounds / 100; ++b) {
        const long long t0 = now_ns();
        for (u64 i = 0; i < 100; ++i) {
            A::push(*q1, b * 100 + i + 1);
            (void)A::pop(*q2);
        }
        per.push_back(static_cast<double>(now_ns() - t0) / 100);
    }
    echo.join();
    return median(per);
}
/// The floor, as the peer program measures it: one word bounced between CPUs 0 and 1.
double raw_round_trip(u64 rounds) {
    struct alignas(128) Line {  // the word fills its line pair: no other local shares it
        std::atomic<u64> word{0};
    } line;
    std::atomic<u64>& word = line.word;
    std::thread echo([&] {
        pin(1);
        for (u64 i = 0; i < rounds; ++i) {
            while (word.load(std::memory_order_acquire) != 2 * i + 1) {}
            word.store(2 * i + 2, std::memory_order_release);
        }
    });
    pin(0);
    std::vector<double> per;
    u64 k = 0;
    for (u64 b = 0; b < rounds / 100; ++b) {
        const long long t0 = now_ns();
        for (u64 i = 0; i < 100; ++i, ++k) {
            word.store(2 * k + 1, std::memory_order_release);
            while (word.load(std::memory_order_acquire) != 2 * k + 2) {}
        }
        per.push_back(static_cast<double>(now_ns() - t0) / 100);
    }
    echo.join();
    return median(per);
}

}  // namespace

void usage(std::FILE* to) {
    std::fprintf(to,
                 "usage: staticrt-queue-ab <spsc|mpmc11|mpmc22|rtt> [reps=11] [items=2000000]\n"
                 "  spsc, mpmc11, mpmc22: throughput (1p1c / 2p2c), staticrt against atomic_queue and xenium\n"
                 "  rtt:  ping-pong round trip against the raw atomic floor (rounds = items / 10)\n"
                 "  reps: interleaved repetitions (1..100000); items: per repetition (>= 1)\n");
}

int main(int argc, char** argv) {
    namespace f = staticrt::bench_flags;
    constexpr const char* prog = "staticrt-queue-ab";
    if (argc >= 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc < 2 || argc > 4) {
        usage(stderr);
        return 2;
    }
    const std::string what = argv[1];
    if (what != "spsc" && what != "mpmc11" && what != "mpmc22" && what != "rtt")
        f::bad_value(prog, "workload", argv[1], "not one of spsc, mpmc11, mpmc22, rtt");
    const int reps = argc > 2 ? static_cast<int>(f::whole(prog, "reps", argv[2], 1, 100000)) : 11;
    const u64 items = argc > 3 ? f::whole(prog, "items", argv[3], 1) : 2000000;
    const bool rtt = what == "rtt";
    const int n = what == "mpmc22" ? 2 : 1;
    const char* names[4] = {"staticrt", "staticrt_try", "atomic_queue_spin", "xenium"};
    if (rtt) { names[0] = "raw_atomic"; names[1] = "staticrt_spsc"; names[2] = "staticrt_mpmc"; names[3] = "atomic_queue"; }
    std::vector<double> r[3];
    for (int rep = 0; rep < reps; ++rep) {
        double v[4];
        for (int k = 0; k < 4; ++k) {
            const int i = (rep & 1) ? 3 - k : k;  // alternate the order: drift hits both sides alike
            if (rtt) {
                const u64 rounds = std::max<u64>(items / 10, 1000);
                v[i] = i == 0 ? raw_round_trip(rounds) : i == 1 ? round_trip<Blocking<Spsc>>(rounds)
                     : i == 2 ? round_trip<Blocking<Mpmc>>(rounds) : round_trip<AqSpin<true>>(rounds);
            } else if (what == "spsc") {
                v[i] = i == 0 ? throughput<Blocking<Spsc>>(1, 1, items) : i == 1 ? throughput<TryLoop<Spsc>>(1, 1, items)
                     : i == 2 ? throughput<AqSpin<true>>(1, 1, items) : throughput<Xenium>(1, 1, items);
            } else {
                v[i] = i == 0 ? throughput<Blocking<Mpmc>>(n, n, items) : i == 1 ? throughput<TryLoop<Mpmc>>(n, n, items)
                     : i == 2 ? throughput<AqSpin<false>>(n, n, items) : throughput<Xenium>(n, n, items);
            }
        }
        std::printf("rep %2d", rep);
        for (int i = 0; i < 4; ++i) std::printf("  %s %.1f%s", names[i], rtt ? v[i] : v[i] / 1e6, rtt ? " ns" : " M/s");
        std::printf("\n");
        if (rtt) {
            r[0].push_back(v[1] / v[0]);
            r[1].push_back(v[2] / v[0]);
            r[2].push_back(v[3] / v[0]);
        } else {
            const double best = std::max(v[2], v[3]);
            r[0].push_back(v[0] / best);
            r[1].push_back(v[1] / best);
            r[2].push_back(v[0] / v[2]);
        }
    }
    if (rtt)
        std::printf("median over %d reps: staticrt_spsc/raw %.2f  staticrt_mpmc/raw %.2f  atomic_queue/raw %.2f\n", reps,
                    median(r[0]), median(r[1]), median(r[2]));
    else
        std::printf("median over %d reps: staticrt/best_peer %.2f  staticrt_try/best_peer %.2f  staticrt/atomic_queue %.2f\n",
                    reps, median(r[0]), median(r[1]), median(r[2]));
}
