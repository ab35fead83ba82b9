// SPDX-License-Identifier: MIT
// shared_queues — K producer processes and K consumer processes (--pairs K, default 1) through
// a queue in shared memory, blocking calls only, 8-byte elements: staticrt's process-shared MpmcQueue, ScqQueue
// and CompactScqQueue (N = 1024, each in its own SharedSegment) side by side with the peer for
// this job, Boost.Interprocess's message_queue (1024 messages of 8 bytes). Producers are forked
// children pinned to one CPU, consumers forked children pinned to another; the stream ends with
// close() (staticrt) or one 0 per consumer (message_queue has no close). Every repetition
// runs every row once, in a rotated order, and checks the sum of what was popped. The rows
// "(joined)" run the same queue with every child joined to the system barrier
// (platform::join_system_barrier(): notifies with a compiler barrier, waiters issue membarrier
// GLOBAL_EXPEDITED), the others with seq_cst fences on both sides.
// Not a test: run it by hand (bench/notes.md, "ScqQueue in shared memory"). Linux only.
//
//   staticrt-bench-shared-queues [--reps N] [--items N] [--pairs K] [--cpus A,B]
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/interprocess/ipc/message_queue.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "staticrt/ipc/shared_segment.hpp"
#include "staticrt/platform/memory.hpp"
#include "staticrt/queue/mpmc_queue.hpp"
#include "staticrt/queue/scq_queue.hpp"

namespace {
using staticrt::WaitScope;
namespace bip = boost::interprocess;

constexpr std::size_t kN = 1024;
int g_cpu_producer = 0;
int g_cpu_consumer = 1;

void pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    if (sched_setaffinity(0, sizeof s, &s) != 0) std::perror("sched_setaffinity");
}

/// What the children report back, in its own shared segment.
struct Control {
    std::atomic<int> go{0};
    std::atomic<std::uint64_t> sum[16]{};
    std::atomic<std::uint64_t> count[16]{};
};
int g_pairs = 1;
Control* g_ctl = nullptr;
bool g_join_children = false;  // the row's children join the system barrier right after fork

pid_t fork_child(int cpu, auto body) {
    const pid_t pid = ::fork();
    if (pid < 0) std::exit(2);
    if (pid == 0) {
        pin(cpu);
        // One thread here: the registration is a local barrier, no RCU grace period.
        if (g_join_children && !staticrt::platform::join_system_barrier()) ::_exit(5);
        while (g_ctl->go.load(std::memory_order_acquire) == 0) sched_yield();
        ::_exit(body() ? 0 : 1);
    }
    return pid;
}
bool reap(pid_t pid) {
    int status = 0;
    return ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/// g_pairs producer processes (pinned to the producer CPU) push 1..items between them,
/// g_pairs consumer processes (pinned to the consumer CPU) pop until `finish` tells them the
/// stream ended; items/s from the start signal to the last consumer's exit. Checks the sum.
template <class Push, class Pop, class Finish>
double cross_process(std::uint64_t items, Push push, Pop pop, Finish finish) {
    for (int k = 0; k < 16; ++k) {
        g_ctl->sum[k].store(0);
        g_ctl->count[k].store(0);
    }
    g_ctl->go.store(0);
    std::vector<pid_t> producers, consumers;
    for (int k = 0; k < g_pairs; ++k) {
        const std::uint64_t from = items * static_cast<std::uint64_t>(k) / static_cast<std::uint64_t>(g_pairs) + 1;
        const std::uint64_t to = items * static_cast<std::uint64_t>(k + 1) / static_cast<std::uint64_t>(g_pairs);
        producers.push_back(fork_child(g_cpu_producer, [=] {
            for (std::uint64_t i = from; i <= to; ++i)
                if (!push(i)) return false;
            return true;
        }));
        consumers.push_back(fork_child(g_cpu_consumer, [=] {
            std::uint64_t sum = 0, n = 0, v = 0;
            while (pop(v)) {
                sum += v;
                ++n;
            }
            g_ctl->sum[k].store(sum);
            g_ctl->count[k].store(n);
            return true;
        }));
    }
    const auto t0 = std::chrono::steady_clock::now();
    g_ctl->go.store(1, std::memory_order_release);
    bool ok = true;
    for (pid_t p : producers) ok = reap(p) && ok;
    finish();
    for (pid_t c : consumers) ok = reap(c) && ok;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::uint64_t sum = 0, n = 0;
    for (int k = 0; k < g_pairs; ++k) {
        sum += g_ctl->sum[k].load();
        n += g_ctl->count[k].load();
    }
    if (!ok || n != items || sum != items * (items + 1) / 2) {
        std::fprintf(stderr, "a row lost or changed elements (%llu items, sum %llu)\n", static_cast<unsigned long long>(n),
                     static_cast<unsigned long long>(sum));
        std::exit(3);
    }
    return static_cast<double>(items) / s;
}

template <class Q, bool Join = false>
double staticrt_row(const char* tag, std::uint64_t items) {
    g_join_children = Join;
    staticrt::ipc::SharedSegment<Q> seg;
    const std::string name = std::string("staticrt-bench-") + tag + "-" + std::to_string(::getpid());
    if (auto c = seg.create(name.c_str()); !c) {
        std::fprintf(stderr, "segment %s: error %d\n", name.c_str(), static_cast<int>(c.code()));
        std::exit(4);
    }
    Q* q = seg.get();
    const double r = cross_process(
        items, [q](std::uint64_t i) { return static_cast<bool>(q->push(i)); },
        [q](std::uint64_t& v) { return static_cast<bool>(q->pop(v)); },  // until closed and drained
        [q] { q->close(); });
    seg.destroy();
    g_join_children = false;
    return r;
}

double boost_row(std::uint64_t items) {
    const std::string name = "staticrt-bench-bip-" + std::to_string(::getpid());
    bip::message_queue::remove(name.c_str());
    bip::message_queue mq(bip::create_only, name.c_str(), kN, sizeof(std::uint64_t));
    // Children use the parent's mapping (inherited by fork). No close: one 0 per consumer ends it.
    const double r = cross_process(
        items,
        [&mq](std::uint64_t i) {
            mq.send(&i, sizeof i, 0);
            return true;
        },
        [&mq](std::uint64_t& v) {
            bip::message_queue::size_type got = 0;
            unsigned prio = 0;
            mq.receive(&v, sizeof v, got, prio);
            return v != 0;
        },
        [&mq] {
            const std::uint64_t end = 0;
            for (int k = 0; k < g_pairs; ++k) mq.send(&end, sizeof end, 0);
        });
    bip::message_queue::remove(name.c_str());
    return r;
}

struct Row {
    const char* name;
    double (*run)(std::uint64_t);
    std::vector<double> v;
};
}  // namespace

int main(int argc, char** argv) {
    int reps = 5;
    std::uint64_t items = 1'000'000;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
        else if (!std::strcmp(argv[i], "--items") && i + 1 < argc) items = std::strtoull(argv[++i], nullptr, 10);
        else if (!std::strcmp(argv[i], "--pairs") && i + 1 < argc) g_pairs = std::clamp(std::atoi(argv[++i]), 1, 16);
        else if (!std::strcmp(argv[i], "--cpus") && i + 1 < argc && std::sscanf(argv[i + 1], "%d,%d", &g_cpu_producer, &g_cpu_consumer) == 2) ++i;
        else {
            std::fprintf(stderr, "usage: %s [--reps N] [--items N] [--pairs K] [--cpus A,B]\n", argv[0]);
            return 2;
        }
    }
    Row rows[] = {
        {"staticrt MpmcQueue<u64,1024,process_shared>",
         [](std::uint64_t n) { return staticrt_row<staticrt::MpmcQueue<std::uint64_t, kN, WaitScope::process_shared>>("mpmc", n); }, {}},
        {"staticrt ScqQueue<u64,1024,process_shared>",
         [](std::uint64_t n) { return staticrt_row<staticrt::ScqQueue<std::uint64_t, kN, WaitScope::process_shared>>("scq", n); }, {}},
        {"staticrt CompactScqQueue<u64,1024,process_shared>",
         [](std::uint64_t n) {
             return staticrt_row<staticrt::CompactScqQueue<std::uint64_t, kN, WaitScope::process_shared>>("cscq", n);
         },
         {}},
        {"staticrt MpmcQueue<u64,1024,process_shared> (joined)",
         [](std::uint64_t n) {
             return staticrt_row<staticrt::MpmcQueue<std::uint64_t, kN, WaitScope::process_shared>, true>("mpmcj", n);
         },
         {}},
        {"staticrt ScqQueue<u64,1024,process_shared> (joined)",
         [](std::uint64_t n) {
             return staticrt_row<staticrt::ScqQueue<std::uint64_t, kN, WaitScope::process_shared>, true>("scqj", n);
         },
         {}},
        {"staticrt CompactScqQueue<u64,1024,process_shared> (joined)",
         [](std::uint64_t n) {
             return staticrt_row<staticrt::CompactScqQueue<std::uint64_t, kN, WaitScope::process_shared>, true>("cscqj", n);
         },
         {}},
        {"boost::interprocess::message_queue(1024 x 8 B)", &boost_row, {}},
    };
    constexpr int kRows = sizeof rows / sizeof rows[0];
    staticrt::ipc::SharedSegment<Control> ctl;
    const std::string ctl_name = "staticrt-bench-ctl-" + std::to_string(::getpid());
    if (!ctl.create(ctl_name.c_str())) return 4;
    g_ctl = ctl.get();
    std::printf("# shared_queues: %d producer process(es) (cpu %d) -> %d consumer process(es) (cpu %d), %llu items, %d reps\n",
                g_pairs, g_cpu_producer, g_pairs, g_cpu_consumer, static_cast<unsigned long long>(items), reps);
    for (int r = 0; r < reps; ++r) {
        for (int k = 0; k < kRows; ++k) {
            Row& row = rows[(k + r) % kRows];
            row.v.push_back(row.run(items));
            std::printf("rep %d %-61s %.3g items/s\n", r + 1, row.name, row.v.back());
            std::fflush(stdout);
        }
    }
    std::printf("# medians\n");
    for (Row& row : rows) {
        std::sort(row.v.begin(), row.v.end());
        std::printf("median %-61s %.3g items/s (min %.3g, max %.3g)\n", row.name, row.v[row.v.size() / 2], row.v.front(),
                    row.v.back());
    }
    ctl.destroy();
    return 0;
}
