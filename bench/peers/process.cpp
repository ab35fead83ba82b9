// SPDX-License-Identifier: MIT
// bench/peers/process.cpp — process workloads for staticrt-bench-peers.
//
//   process_map       squares of 1..N (N = 10M scaled, at most 10M) through ProcessPool<2> (2 worker
//                     processes, fork start method: the bench's main() has no child hook) vs
//                     Python's multiprocessing.Pool(2).map (at most 1M items); items/s.
//                     staticrt_process_pool2: map_shared() over input and output arrays that live
//                     in a SharedSegment (written by this process before the clock starts, as a
//                     program that keeps its data in shared memory would), after one untimed
//                     map over it (the workers keep the segment mapped: steady state).
//                     staticrt_process_pool2_cold: the same without the untimed map (the workers
//                     map the segment and first-touch its pages inside the timed call).
//                     staticrt_process_pool2_copy:
//                     map() over ordinary vectors, copied through the pool's 1 MiB arena.
//   shm_pingpong_rtt  a token bounced between two processes through two process-shared
//                     SpscQueues in a shared segment, vs the same queues between two threads;
//                     ns per round trip (the goal: processes within 1.3x of threads)
//   scale_process_map_wW (--scaling): process_map at W = 1..16 workers vs multiprocessing.Pool(W)
//   logring_lines     2 forked processes write lines into the default LogRing<> while this
//                     process drains to a null sink; writers retry when the ring is full, so
//                     nothing is lost (a drop is an ERROR); lines/s
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <span>
#include <thread>
#include <vector>

#include "registry.hpp"
#include "staticrt/ipc/log_ring.hpp"
#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/process_pool.hpp"
#include "staticrt/ipc/shared_segment.hpp"
#include "staticrt/queue/spsc_queue.hpp"

namespace sb = staticrt::bench;
using staticrt::Deadline;

namespace {

constexpr std::uint64_t kMapItems = 10'000'000;

long long bench_square(long long x) noexcept { return x * x; }
const staticrt::ipc::PoolFunction<&bench_square> g_square{"bench.square"};

void segment_name(char* out, std::size_t cap, const char* tag) {
    static std::atomic<int> n{0};
    std::snprintf(out, cap, "staticrt-bench-%ld-%s-%d", static_cast<long>(::getpid()), tag, n.fetch_add(1));
}

struct MapData {
    long long in[kMapItems];
    long long out[kMapItems];
};

/// warm == true: one untimed map first, so the workers already map the segment (the steady state
/// of a program that keeps its data in shared memory); false: the first map over a fresh segment,
/// where each worker takes a first-touch fault per page it reaches (docs/processes.md).
template <std::size_t W = 2>
double process_map_shared(const sb::Options& o, bool warm) {
    std::uint64_t n = o.scaled(kMapItems);
    if (n > kMapItems) n = kMapItems;
    staticrt::ipc::ProcessPool<W> pool;  // the pool first, then the data (see process_map_staticrt)
    staticrt::ipc::ProcessPoolOptions po;
    po.start_method = staticrt::ipc::StartMethod::fork;
    if (!pool.start(po)) return -1;
    char name[64];
    segment_name(name, sizeof name, "map");
    staticrt::ipc::SharedSegment<MapData> seg;  // 160 MB, zero-filled; the name goes when seg closes
    if (!seg.create(name)) return -1;
    for (std::uint64_t i = 0; i < n; ++i) {
        seg->in[i] = static_cast<long long>(i + 1);
        seg->out[i] = 0;
    }
    const std::span<const long long> in(seg->in, n);
    const std::span<long long> out(seg->out, n);
    if (warm) {
        auto w = pool.map_shared("bench.square", seg, in, out);
        if (!w || w->completed != n) return -1;
        for (std::uint64_t i = 0; i < n; ++i) seg->out[i] = 0;  // the timed map must write them again
    }
    const std::int64_t t0 = sb::now_ns();
    auto r = pool.map_shared("bench.square", seg, in, out);
    const std::int64_t t1 = sb::now_ns();
    pool.shutdown();
    if (!r || r->failed != 0 || r->completed != n) return -1;
    for (std::uint64_t i = 0; i < n; i += 9973)
        if (seg->out[i] != seg->in[i] * seg->in[i]) return -1;
    if (seg->out[n - 1] != seg->in[n - 1] * seg->in[n - 1]) return -1;
    return static_cast<double>(n) * 1e9 / static_cast<double>(t1 - t0);
}
double process_map_staticrt_shared(const sb::Options& o) { return process_map_shared(o, true); }
double process_map_staticrt_shared_cold(const sb::Options& o) { return process_map_shared(o, false); }

double process_map_staticrt(const sb::Options& o) {
    const std::uint64_t n = o.scaled(kMapItems);
    // The pool first, then the data (as Python's Pool(2) before its map): vectors filled before
    // a fork-started pool would be copy-on-write shared with the workers, and the first map's
    // copies into them would each take a copy-on-write fault per page.
    staticrt::ipc::ProcessPool<2> pool;
    staticrt::ipc::ProcessPoolOptions po;
    po.start_method = staticrt::ipc::StartMethod::fork;
    if (!pool.start(po)) return -1;
    std::vector<long long> in(n), out(n);
    for (std::uint64_t i = 0; i < n; ++i) in[i] = static_cast<long long>(i + 1);
    const std::int64_t t0 = sb::now_ns();
    auto r = pool.map("bench.square", std::span<const long long>(in), std::span<long long>(out));
    const std::int64_t t1 = sb::now_ns();
    pool.shutdown();
    if (!r || r->failed != 0) return -1;
    for (std::uint64_t i = 0; i < n; i += 9973)
        if (out[i] != in[i] * in[i]) return -1;
    return static_cast<double>(n) * 1e9 / static_cast<double>(t1 - t0);
}

double process_map_python_w(const sb::Options& o, int workers) {
    // Python pickles every item through a pipe: 1M items already take seconds.
    std::uint64_t n = o.scaled(kMapItems);
    if (n > 1'000'000) n = 1'000'000;
    char cmd[1024];
    std::snprintf(cmd, sizeof cmd,
                  "python3 -c \"\n"
                  "import multiprocessing, time\n"
                  "def sq(v): return v * v\n"
                  "if __name__ == '__main__':\n"
                  "    pool = multiprocessing.Pool(%d)\n"
                  "    pool.map(sq, range(100))\n"
                  "    start = time.perf_counter()\n"
                  "    out = pool.map(sq, range(1, %llu))\n"
                  "    took = time.perf_counter() - start\n"
                  "    pool.close(); pool.join()\n"
                  "    print(len(out) / took if out[-1] == (%llu - 1) ** 2 else -1)\n"
                  "\"",
                  workers, static_cast<unsigned long long>(n + 1), static_cast<unsigned long long>(n + 1));
    FILE* f = ::popen(cmd, "r");
    if (f == nullptr) return -1;
    double v = -1;
    if (std::fscanf(f, "%lf", &v) != 1) v = -1;
    return ::pclose(f) == 0 ? v : -1;
}

double process_map_python(const sb::Options& o) { return process_map_python_w(o, 2); }

// ------------------------------------------------------------------ ping-pong
using Queue = staticrt::SpscQueue<std::uint64_t, 64, staticrt::WaitScope::process_shared>;
struct PingPong {
    Queue there;
    Queue back;
    std::uint64_t rounds = 0;
};

int echo(void* arg) noexcept {
    auto* p = static_cast<PingPong*>(arg);
    const std::uint64_t rounds = p->rounds;  // read once (see pingpong() in queues.cpp)
    for (std::uint64_t i = 0; i < rounds; ++i) {
        auto v = p->there.pop(Deadline::never());
        if (!v || !p->back.push(*v + 1, Deadline::never())) return 1;
    }
    return 0;
}

double drive(PingPong& p) {
    const std::int64_t t0 = sb::now_ns();
    for (std::uint64_t i = 0; i < p.rounds; ++i) {
        if (!p.there.push(i, Deadline::never())) return -1;
        auto v = p.back.pop(Deadline::never());
        if (!v || *v != i + 1) return -1;
    }
    return static_cast<double>(sb::now_ns() - t0) / static_cast<double>(p.rounds);
}

double pingpong_processes(const sb::Options& o) {
    char name[64];
    segment_name(name, sizeof name, "pp");
    staticrt::ipc::SharedSegment<PingPong> seg;
    if (!seg.create(name)) return -1;
    // Forked children inherit the mapping: the name can go now, so a killed run leaks nothing.
    (void)staticrt::platform::SharedMemory::unlink(seg.name());
    seg.disown();
    seg->rounds = o.scaled(o.rtt_rounds);
    sb::pin_to_cpu(o.cpu_a);
    staticrt::ipc::Process child;
    struct Arg {
        PingPong* p;
        int cpu;
    } arg{seg.get(), o.cpu_b};
    if (!child.start_fork(
            [](void* a) noexcept {
                auto* x = static_cast<Arg*>(a);
                sb::pin_to_cpu(x->cpu);
                return echo(x->p);
            },
            &arg, staticrt::ipc::ProcessOptions{true}))  // daemon: dies with a killed (STALL) parent
        return -1;
    const double ns = drive(*seg);
    if (!child.join(Deadline::never()) || child.exit_code() != 0) return -1;
    return ns;
}

double pingpong_threads(const sb::Options& o) {
    auto p = std::make_unique<PingPong>();
    p->rounds = o.scaled(o.rtt_rounds);
    sb::pin_to_cpu(o.cpu_a);
    std::thread t([&] {
        sb::pin_to_cpu(o.cpu_b);
        (void)echo(p.get());
    });
    const double ns = drive(*p);
    t.join();
    return ns;
}

// ------------------------------------------------------------------ log ring
using Ring = staticrt::ipc::LogRing<>;

double logring_two_processes(const sb::Options& o) {
    char name[64];
    segment_name(name, sizeof name, "log");
    staticrt::ipc::SharedSegment<Ring> ring;
    if (!ring.create(name)) return -1;
    (void)staticrt::platform::SharedMemory::unlink(ring.name());  // forked writers inherit the mapping
    ring.disown();
    const std::uint64_t per = o.scaled(1'000'000);
    struct Arg {
        Ring* ring;
        std::uint64_t lines;
    } arg{ring.get(), per};
    staticrt::ipc::Process writers[2];
    const std::int64_t t0 = sb::now_ns();
    for (auto& w : writers) {
        if (!w.start_fork(
                [](void* a) noexcept {
                    auto* x = static_cast<Arg*>(a);
                    char line[64];
                    for (std::uint64_t i = 0; i < x->lines; ++i) {
                        const int len = std::snprintf(line, sizeof line, "writer %d line %llu", static_cast<int>(::getpid()),
                                                      static_cast<unsigned long long>(i));
                        // Back-pressure instead of a drop: retry until there is room.
                        while (!x->ring->write(std::string_view(line, static_cast<std::size_t>(len))))
                            std::this_thread::yield();
                    }
                    return 0;
                },
                &arg, staticrt::ipc::ProcessOptions{true}))  // daemon: dies with a killed (STALL) parent
            return -1;
    }
    std::uint64_t data = 0;  // lines from the writers; the drain's "N lines dropped" reports are not counted
    auto sink = [](void* ctx, const char* line, std::size_t n) noexcept {
        if (std::string_view(line, n).find("] staticrt.logring: ") == std::string_view::npos) ++*static_cast<std::uint64_t*>(ctx);
    };
    const std::uint64_t want = 2 * per;
    while (data < want) {
        (void)ring->wait_for_lines(Deadline::after(std::chrono::milliseconds(10)));
        (void)ring->drain(sink, &data);
        if (!writers[0].is_alive() && !writers[1].is_alive() && !ring->has_lines()) break;
    }
    (void)ring->drain(sink, &data);
    const std::int64_t t1 = sb::now_ns();
    for (auto& w : writers)
        if (!w.join(Deadline::never()) || w.exit_code() != 0) return -1;
    if (data != want) return -1;  // a line was lost
    return static_cast<double>(want) * 1e9 / static_cast<double>(t1 - t0);
}

using sb::Better;

const int kRegistered = sb::add_workloads({
    {"process_map", "staticrt_process_pool2", "items/s", Better::higher, true, &process_map_staticrt_shared},
    {"process_map", "staticrt_process_pool2_cold", "items/s", Better::higher, true, &process_map_staticrt_shared_cold},
    {"process_map", "staticrt_process_pool2_copy", "items/s", Better::higher, true, &process_map_staticrt},
    {"process_map", "python_mp_pool2", "items/s", Better::higher, true, &process_map_python},
    {"shm_pingpong_rtt", "staticrt_processes", "ns", Better::lower, true, &pingpong_processes},
    {"shm_pingpong_rtt", "staticrt_threads", "ns", Better::lower, true, &pingpong_threads},
    {"logring_lines", "staticrt_2proc", "lines/s", Better::higher, true, &logring_two_processes},
});

// --scaling: process_map at 1..16 worker processes (warm map_shared, as staticrt_process_pool2)
// against multiprocessing.Pool(W).map.
template <std::size_t W> double scale_process_staticrt(const sb::Options& o) { return process_map_shared<W>(o, true); }
template <std::size_t W> double scale_process_python(const sb::Options& o) { return process_map_python_w(o, static_cast<int>(W)); }

#define STATICRT_BENCH_SCALE_PROCESS(W, NAME)                                                  \
    {NAME, "staticrt_process_pool", "items/s", Better::higher, true, &scale_process_staticrt<W>}, \
    {NAME, "python_mp_pool", "items/s", Better::higher, true, &scale_process_python<W>}

const int kScalingRegistered = sb::add_scaling_workloads({
    STATICRT_BENCH_SCALE_PROCESS(1, "scale_process_map_w1"),
    STATICRT_BENCH_SCALE_PROCESS(2, "scale_process_map_w2"),
    STATICRT_BENCH_SCALE_PROCESS(4, "scale_process_map_w4"),
    STATICRT_BENCH_SCALE_PROCESS(8, "scale_process_map_w8"),
    STATICRT_BENCH_SCALE_PROCESS(16, "scale_process_map_w16"),
});
#undef STATICRT_BENCH_SCALE_PROCESS

}  // namespace
