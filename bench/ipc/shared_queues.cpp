// SPDX-License-Identifier: MIT
// shared_queues — one producer process and one consumer process through a queue in shared
// memory, blocking calls only, 8-byte elements: staticrt's process-shared MpmcQueue, ScqQueue
// and CompactScqQueue (N = 1024, each in its own SharedSegment) side by side with the peer for
// this job, Boost.Interprocess's message_queue (1024 messages of 8 bytes). The producer is a
// forked child pinned to one CPU, the consumer the parent pinned to another. Every repetition
// runs every row once, in a rotated order, and checks the sum of what was popped.
// Not a test: run it by hand (bench/notes.md, "ScqQueue in shared memory"). Linux only.
//
//   staticrt-bench-shared-queues [--reps N] [--items N] [--cpus A,B]
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/interprocess/ipc/message_queue.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "staticrt/ipc/shared_segment.hpp"
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

/// Forks the producer (`produce(items)` in the child), consumes in this process; items/s.
template <class Produce, class Consume>
double cross_process(std::uint64_t items, Produce produce, Consume consume) {
    const pid_t pid = ::fork();
    if (pid < 0) std::exit(2);
    if (pid == 0) {
        pin(g_cpu_producer);
        ::_exit(produce(items) ? 0 : 1);
    }
    pin(g_cpu_consumer);
    const auto t0 = std::chrono::steady_clock::now();
    const std::uint64_t sum = consume(items);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || sum != items * (items + 1) / 2) {
        std::fprintf(stderr, "a row lost or changed elements (sum %llu)\n", static_cast<unsigned long long>(sum));
        std::exit(3);
    }
    return static_cast<double>(items) / s;
}

template <class Q>
double staticrt_row(const char* tag, std::uint64_t items) {
    staticrt::ipc::SharedSegment<Q> seg;
    const std::string name = std::string("staticrt-bench-") + tag + "-" + std::to_string(::getpid());
    if (auto c = seg.create(name.c_str()); !c) {
        std::fprintf(stderr, "segment %s: error %d\n", name.c_str(), static_cast<int>(c.code()));
        std::exit(4);
    }
    Q* q = seg.get();
    const double r = cross_process(
        items,
        [q](std::uint64_t n) {
            for (std::uint64_t i = 1; i <= n; ++i)
                if (!q->push(i)) return false;
            return true;
        },
        [q](std::uint64_t n) {
            std::uint64_t sum = 0;
            for (std::uint64_t i = 1; i <= n; ++i) {
                auto v = q->pop();
                if (!v) return std::uint64_t{0};
                sum += *v;
            }
            return sum;
        });
    seg.destroy();
    return r;
}

double boost_row(std::uint64_t items) {
    const std::string name = "staticrt-bench-bip-" + std::to_string(::getpid());
    bip::message_queue::remove(name.c_str());
    bip::message_queue mq(bip::create_only, name.c_str(), kN, sizeof(std::uint64_t));
    const double r = cross_process(
        items,
        [&](std::uint64_t n) {
            bip::message_queue child(bip::open_only, name.c_str());
            for (std::uint64_t i = 1; i <= n; ++i) child.send(&i, sizeof i, 0);
            return true;
        },
        [&](std::uint64_t n) {
            std::uint64_t sum = 0;
            for (std::uint64_t i = 1; i <= n; ++i) {
                std::uint64_t v = 0;
                bip::message_queue::size_type got = 0;
                unsigned prio = 0;
                mq.receive(&v, sizeof v, got, prio);
                sum += v;
            }
            return sum;
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
        else if (!std::strcmp(argv[i], "--cpus") && i + 1 < argc && std::sscanf(argv[i + 1], "%d,%d", &g_cpu_producer, &g_cpu_consumer) == 2) ++i;
        else {
            std::fprintf(stderr, "usage: %s [--reps N] [--items N] [--cpus A,B]\n", argv[0]);
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
        {"boost::interprocess::message_queue(1024 x 8 B)", &boost_row, {}},
    };
    constexpr int kRows = sizeof rows / sizeof rows[0];
    std::printf("# shared_queues: 1 producer process (cpu %d) -> 1 consumer process (cpu %d), %llu items, %d reps\n",
                g_cpu_producer, g_cpu_consumer, static_cast<unsigned long long>(items), reps);
    for (int r = 0; r < reps; ++r) {
        for (int k = 0; k < kRows; ++k) {
            Row& row = rows[(k + r) % kRows];
            row.v.push_back(row.run(items));
            std::printf("rep %d %-52s %.3g items/s\n", r + 1, row.name, row.v.back());
            std::fflush(stdout);
        }
    }
    std::printf("# medians\n");
    for (Row& row : rows) {
        std::sort(row.v.begin(), row.v.end());
        std::printf("median %-52s %.3g items/s (min %.3g, max %.3g)\n", row.name, row.v[row.v.size() / 2], row.v.front(),
                    row.v.back());
    }
    return 0;
}
