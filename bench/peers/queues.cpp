// SPDX-License-Identifier: MIT
// Queue workloads of staticrt-bench-peers: spsc_throughput(_16b), mpmc_throughput_1p1c/_2p2c,
// pingpong_rtt — staticrt and each peer used the way its documentation recommends; with
// --scaling, scale_mpmc_KpKc for K = 1, 2, 4, 8, 16 on distinct cores.
#include <atomic_queue/atomic_queue.h>
#include <boost/lockfree/queue.hpp>
#include <boost/lockfree/spsc_queue.hpp>
#include <concurrentqueue/blockingconcurrentqueue.h>
#include <concurrentqueue/concurrentqueue.h>
#include <readerwriterqueue/readerwritercircularbuffer.h>
#include <readerwriterqueue/readerwriterqueue.h>
#include <tbb/concurrent_queue.h>
#include <xenium/vyukov_bounded_queue.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "registry.hpp"
#include "staticrt/platform/arch.hpp"
#include "staticrt/queue/mpmc_queue.hpp"
#include "staticrt/queue/scq_queue.hpp"
#include "staticrt/queue/spsc_queue.hpp"
#include "staticrt/queue/ticket_queue.hpp"

namespace sb = staticrt::bench;
using std::uint64_t;

namespace {

constexpr unsigned kCap = 1024;
inline void relax() noexcept { staticrt::platform::cpu_relax(); }

// ------------------------------------------------------------------ adapters
// Each adapter: Q, make(), producer(q) -> callable(uint64_t), consumer(q) -> callable() -> uint64_t.
// Values are never 0 (atomic_queue's NIL).

struct StaticrtSpsc {  // the public blocking API
    using Q = staticrt::SpscQueue<uint64_t, kCap>;
    static auto make() { return std::make_unique<Q>(); }
    static auto producer(Q& q) { return [&q](uint64_t v) { (void)q.push(v); }; }
    static auto consumer(Q& q) { return [&q] { uint64_t v = 0; (void)q.pop(v); return v; }; }
};
struct StaticrtSpscTry {
    using Q = staticrt::SpscQueue<uint64_t, kCap>;
    static auto make() { return std::make_unique<Q>(); }
    static auto producer(Q& q) { return [&q](uint64_t v) { while (!q.try_push(v)) relax(); }; }
    static auto consumer(Q& q) { return [&q] { uint64_t v = 0; while (!q.try_pop(v)) relax(); return v; }; }
};
struct StaticrtMpmc {
    using Q = staticrt::MpmcQueue<uint64_t, kCap>;
    static auto make() { return std::make_unique<Q>(); }
    static auto producer(Q& q) { return [&q](uint64_t v) { (void)q.push(v); }; }
    static auto consumer(Q& q) { return [&q] { uint64_t v = 0; (void)q.pop(v); return v; }; }
};
struct StaticrtMpmcTry {
    using Q = staticrt::MpmcQueue<uint64_t, kCap>;
    static auto make() { return std::make_unique<Q>(); }
    static auto producer(Q& q) { return [&q](uint64_t v) { while (!q.try_push(v)) relax(); }; }
    static auto consumer(Q& q) { return [&q] { uint64_t v = 0; while (!q.try_pop(v)) relax(); return v; }; }
};
template <class ScqQ>
struct StaticrtScqT {  // the fetch_add-claim MPMC queue, public blocking API
    using Q = ScqQ;
    static auto make() { return std::make_unique<Q>(); }
    static auto producer(Q& q) { return [&q](uint64_t v) { (void)q.push(v); }; }
    static auto consumer(Q& q) { return [&q] { uint64_t v = 0; (void)q.pop(v); return v; }; }
};
using StaticrtScq = StaticrtScqT<staticrt::ScqQueue<uint64_t, kCap>>;                // ring positions spread
using StaticrtScqCompact = StaticrtScqT<staticrt::CompactScqQueue<uint64_t, kCap>>;  // position order
struct StaticrtScqTry {
    using Q = staticrt::ScqQueue<uint64_t, kCap>;
    static auto make() { return std::make_unique<Q>(); }
    static auto producer(Q& q) { return [&q](uint64_t v) { while (!q.try_push(v)) relax(); }; }
    static auto consumer(Q& q) { return [&q] { uint64_t v = 0; while (!q.try_pop(v)) relax(); return v; }; }
};
template <unsigned CasTries>
struct StaticrtTicketT {  // the fetch_add-under-contention MPMC queue, public blocking API
    using Q = staticrt::detail::TicketRing<uint64_t, kCap, staticrt::detail::OsWaitPolicy,
                                           staticrt::WaitScope::process_private, CasTries>;
    static auto make() { return std::make_unique<Q>(); }
    static auto producer(Q& q) { return [&q](uint64_t v) { (void)q.push(v); }; }
    static auto consumer(Q& q) { return [&q] { uint64_t v = 0; (void)q.pop(v); return v; }; }
};
using StaticrtTicket = StaticrtTicketT<staticrt::TicketQueue<uint64_t, kCap>::kCasTries>;  // as shipped
using StaticrtTicketAlways = StaticrtTicketT<0>;  // every call a ticket (atomic_queue's claim)
template <bool Spsc>
struct AqSpin {  // atomic_queue's busy-waiting push/pop
    using Q = atomic_queue::AtomicQueue<uint64_t, kCap, uint64_t{0}, true, true, false, Spsc>;
    static auto make() { return std::make_unique<Q>(); }
    static auto producer(Q& q) { return [&q](uint64_t v) { q.push(v); }; }
    static auto consumer(Q& q) { return [&q] { return q.pop(); }; }
};
template <bool Spsc>
struct AqTry {
    using Q = atomic_queue::AtomicQueue<uint64_t, kCap, uint64_t{0}, true, true, false, Spsc>;
    static auto make() { return std::make_unique<Q>(); }
    static auto producer(Q& q) { return [&q](uint64_t v) { while (!q.try_push(v)) relax(); }; }
    static auto consumer(Q& q) { return [&q] { uint64_t v = 0; while (!q.try_pop(v)) relax(); return v; }; }
};
struct BoostSpsc {
    using Q = boost::lockfree::spsc_queue<uint64_t, boost::lockfree::capacity<kCap>>;
    static auto make() { return std::make_unique<Q>(); }
    static auto producer(Q& q) { return [&q](uint64_t v) { while (!q.push(v)) relax(); }; }
    static auto consumer(Q& q) { return [&q] { uint64_t v = 0; while (!q.pop(v)) relax(); return v; }; }
};
struct BoostQueue {
    using Q = boost::lockfree::queue<uint64_t, boost::lockfree::capacity<kCap>>;
    static auto make() { return std::make_unique<Q>(); }
    static auto producer(Q& q) { return [&q](uint64_t v) { while (!q.bounded_push(v)) relax(); }; }
    static auto consumer(Q& q) { return [&q] { uint64_t v = 0; while (!q.pop(v)) relax(); return v; }; }
};
struct Rwq {  // try_enqueue never allocates: bounded at the initial size
    using Q = moodycamel::ReaderWriterQueue<uint64_t>;
    static auto make() { return std::make_unique<Q>(kCap); }
    static auto producer(Q& q) { return [&q](uint64_t v) { while (!q.try_enqueue(v)) relax(); }; }
    static auto consumer(Q& q) { return [&q] { uint64_t v = 0; while (!q.try_dequeue(v)) relax(); return v; }; }
};
struct RwqBlocking {  // the bounded, blocking circular buffer
    using Q = moodycamel::BlockingReaderWriterCircularBuffer<uint64_t>;
    static auto make() { return std::make_unique<Q>(kCap); }
    static auto producer(Q& q) { return [&q](uint64_t v) { q.wait_enqueue(v); }; }
    static auto consumer(Q& q) { return [&q] { uint64_t v = 0; q.wait_dequeue(v); return v; }; }
};
struct MoodyTokens {  // ConcurrentQueue with tokens, bounded by try_enqueue (no allocation)
    using Q = moodycamel::ConcurrentQueue<uint64_t>;
    static auto make() { return std::make_unique<Q>(kCap); }
    static auto producer(Q& q) {
        return [&q, tok = std::make_shared<moodycamel::ProducerToken>(q)](uint64_t v) {
            while (!q.try_enqueue(*tok, v)) relax();
        };
    }
    static auto consumer(Q& q) {
        return [&q, tok = std::make_shared<moodycamel::ConsumerToken>(q)] {
            uint64_t v = 0;
            while (!q.try_dequeue(*tok, v)) relax();
            return v;
        };
    }
};
struct MoodyBlocking {
    using Q = moodycamel::BlockingConcurrentQueue<uint64_t>;
    static auto make() { return std::make_unique<Q>(kCap); }
    static auto producer(Q& q) {
        return [&q, tok = std::make_shared<moodycamel::ProducerToken>(q)](uint64_t v) {
            while (!q.try_enqueue(*tok, v)) relax();
        };
    }
    static auto consumer(Q& q) {
        return [&q, tok = std::make_shared<moodycamel::ConsumerToken>(q)] {
            uint64_t v = 0;
            q.wait_dequeue(*tok, v);
            return v;
        };
    }
};
struct Xenium {
    using Q = xenium::vyukov_bounded_queue<uint64_t>;
    static auto make() { return std::make_unique<Q>(kCap); }
    static auto producer(Q& q) { return [&q](uint64_t v) { while (!q.try_push(v)) relax(); }; }
    static auto consumer(Q& q) { return [&q] { uint64_t v = 0; while (!q.try_pop(v)) relax(); return v; }; }
};
struct Tbb {
    using Q = tbb::concurrent_bounded_queue<uint64_t>;
    static auto make() {
        auto q = std::make_unique<Q>();
        q->set_capacity(kCap);
        return q;
    }
    static auto producer(Q& q) { return [&q](uint64_t v) { q.push(v); }; }
    static auto consumer(Q& q) { return [&q] { uint64_t v = 0; q.pop(v); return v; }; }
};
struct MutexDeque {  // the baseline a user writes first
    struct Q {
        std::mutex m;
        std::condition_variable not_empty, not_full;
        std::deque<uint64_t> d;
    };
    static auto make() { return std::make_unique<Q>(); }
    static auto producer(Q& q) {
        return [&q](uint64_t v) {
            std::unique_lock lk(q.m);
            q.not_full.wait(lk, [&] { return q.d.size() < kCap; });
            q.d.push_back(v);
            lk.unlock();
            q.not_empty.notify_one();
        };
    }
    static auto consumer(Q& q) {
        return [&q] {
            std::unique_lock lk(q.m);
            q.not_empty.wait(lk, [&] { return !q.d.empty(); });
            const uint64_t v = q.d.front();
            q.d.pop_front();
            lk.unlock();
            q.not_full.notify_one();
            return v;
        };
    }
};

// ------------------------------------------------------------------ 16-byte elements
// spsc_throughput_16b: the same stream of values, each carried in a two-word message {v, ~v}
// (a message a user would send: an id and a payload). The consumer returns v only when the
// message arrived whole, so a torn element makes the checksum fail.
struct Msg16 {
    uint64_t v;
    uint64_t check;
};
inline Msg16 msg16(uint64_t v) { return {v, ~v}; }
inline uint64_t unmsg16(const Msg16& m) { return m.check == ~m.v ? m.v : 0; }
template <class Q_>
struct Staticrt16 {  // the public blocking API: push(const T&) of an object built in place
    using Q = Q_;
    static auto make() { return std::make_unique<Q>(); }
    static auto producer(Q& q) { return [&q](uint64_t v) { const Msg16 m = msg16(v); (void)q.push(m); }; }
    static auto consumer(Q& q) { return [&q] { Msg16 m{}; (void)q.pop(m); return unmsg16(m); }; }
};
using StaticrtSpsc16 = Staticrt16<staticrt::SpscQueue<Msg16, kCap>>;
using StaticrtMpmc16 = Staticrt16<staticrt::MpmcQueue<Msg16, kCap>>;
using StaticrtTicket16 = Staticrt16<staticrt::TicketQueue<Msg16, kCap>>;
struct StaticrtSpscTry16 {
    using Q = staticrt::SpscQueue<Msg16, kCap>;
    static auto make() { return std::make_unique<Q>(); }
    static auto producer(Q& q) { return [&q](uint64_t v) { const Msg16 m = msg16(v); while (!q.try_push(m)) relax(); }; }
    static auto consumer(Q& q) { return [&q] { Msg16 m{}; while (!q.try_pop(m)) relax(); return unmsg16(m); }; }
};
struct AqSpin16 {  // AtomicQueue2: atomic_queue's queue for any T (a state word per cell)
    using Q = atomic_queue::AtomicQueue2<Msg16, kCap, true, true, false, true>;
    static auto make() { return std::make_unique<Q>(); }
    static auto producer(Q& q) { return [&q](uint64_t v) { q.push(msg16(v)); }; }
    static auto consumer(Q& q) { return [&q] { return unmsg16(q.pop()); }; }
};
struct BoostSpsc16 {
    using Q = boost::lockfree::spsc_queue<Msg16, boost::lockfree::capacity<kCap>>;
    static auto make() { return std::make_unique<Q>(); }
    static auto producer(Q& q) { return [&q](uint64_t v) { const Msg16 m = msg16(v); while (!q.push(m)) relax(); }; }
    static auto consumer(Q& q) { return [&q] { Msg16 m{}; while (!q.pop(m)) relax(); return unmsg16(m); }; }
};
struct Rwq16 {
    using Q = moodycamel::ReaderWriterQueue<Msg16>;
    static auto make() { return std::make_unique<Q>(kCap); }
    static auto producer(Q& q) { return [&q](uint64_t v) { const Msg16 m = msg16(v); while (!q.try_enqueue(m)) relax(); }; }
    static auto consumer(Q& q) { return [&q] { Msg16 m{}; while (!q.try_dequeue(m)) relax(); return unmsg16(m); }; }
};
struct RwqBlocking16 {
    using Q = moodycamel::BlockingReaderWriterCircularBuffer<Msg16>;
    static auto make() { return std::make_unique<Q>(kCap); }
    static auto producer(Q& q) { return [&q](uint64_t v) { const Msg16 m = msg16(v); q.wait_enqueue(m); }; }
    static auto consumer(Q& q) { return [&q] { Msg16 m{}; q.wait_dequeue(m); return unmsg16(m); }; }
};

// ------------------------------------------------------------------ harnesses
/// items/s of `producers` x `consumers` threads moving `items` values; -1 when the sum is wrong.
template <class A>
double throughput(const sb::Options& o, int producers, int consumers, uint64_t items) {
    auto q = A::make();
    const uint64_t unit = static_cast<uint64_t>(producers * consumers);
    items = items / unit * unit;
    const uint64_t per_p = items / static_cast<uint64_t>(producers);
    const uint64_t per_c = items / static_cast<uint64_t>(consumers);
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::atomic<uint64_t> sum{0};
    std::vector<std::thread> ts;
    int idx = 0;
    for (int p = 0; p < producers || p < consumers; ++p) {
        if (p < producers) {
            // Counts copied into locals, as in pingpong(): the loops read no shared line.
            ts.emplace_back([&, p, cpu = sb::cpu_for_thread(o, idx++)] {
                sb::pin_to_cpu(cpu);
                auto push = A::producer(*q);
                ready.fetch_add(1);
                while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
                const uint64_t count = per_p;
                const uint64_t base = static_cast<uint64_t>(p) * count + 1;
                for (uint64_t i = 0; i < count; ++i) push(base + i);
            });
        }
        if (p < consumers) {
            ts.emplace_back([&, cpu = sb::cpu_for_thread(o, idx++)] {
                sb::pin_to_cpu(cpu);
                auto pop = A::consumer(*q);
                ready.fetch_add(1);
                while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
                uint64_t local = 0;
                const uint64_t count = per_c;
                for (uint64_t i = 0; i < count; ++i) local += pop();
                sum.fetch_add(local);
            });
        }
    }
    while (ready.load() != producers + consumers) std::this_thread::yield();
    const std::int64_t t0 = sb::now_ns();
    go.store(true, std::memory_order_release);
    for (auto& t : ts) t.join();
    const std::int64_t t1 = sb::now_ns();
    if (sum.load() != items * (items + 1) / 2) return -1;
    return static_cast<double>(items) * 1e9 / static_cast<double>(t1 - t0);
}

/// Median round trip (ns) of a token bounced through two queues between cpu_a and cpu_b.
template <class A>
double pingpong(const sb::Options& o) {
    constexpr uint64_t kBatch = 100;
    const uint64_t batches = std::max<uint64_t>(o.scaled(o.rtt_rounds) / kBatch, 10);
    auto q1 = A::make();
    auto q2 = A::make();
    // The loop count is a local of the echo thread: read through a reference into this frame
    // it is reloaded after every out-of-line call of a blocking pop/push, and the main thread
    // writes that line in some stack placements: one more line transfer per round trip
    // (bench/notes.md, "Ping-pong: the harness shared a line").
    std::thread echo([&] {
        sb::pin_to_cpu(o.cpu_b);
        auto pop = A::consumer(*q1);
        auto push = A::producer(*q2);
        const uint64_t n = batches * kBatch;
        for (uint64_t i = 0; i < n; ++i) push(pop());
    });
    sb::pin_to_cpu(o.cpu_a);
    auto push = A::producer(*q1);
    auto pop = A::consumer(*q2);
    std::vector<double> per(batches);
    bool ok = true;
    for (uint64_t b = 0; b < batches; ++b) {
        const std::int64_t t0 = sb::now_ns();
        for (uint64_t i = 0; i < kBatch; ++i) {
            const uint64_t token = b * kBatch + i + 1;
            push(token);
            ok &= pop() == token;
        }
        per[b] = static_cast<double>(sb::now_ns() - t0) / kBatch;
    }
    echo.join();
    return ok ? sb::median(per.data(), static_cast<int>(per.size())) : -1;
}

template <class A> double spsc(const sb::Options& o) { return throughput<A>(o, 1, 1, o.scaled(o.spsc_items)); }
template <class A, int K> double mpmcKK(const sb::Options& o) { return throughput<A>(o, K, K, o.scaled(o.mpmc_items)); }
template <class A> double mpmc11(const sb::Options& o) { return mpmcKK<A, 1>(o); }
template <class A> double mpmc22(const sb::Options& o) { return mpmcKK<A, 2>(o); }
template <class A> double rtt(const sb::Options& o) { return pingpong<A>(o); }
double rtt_raw(const sb::Options& o) { return sb::raw_atomic_rtt_ns(o, o.scaled(o.rtt_rounds)); }

using sb::Better;
constexpr const char* kIps = "items/s";

template <class A>
sb::Workload tp(const char* name, const char* lib, bool blocking, double (*fn)(const sb::Options&)) {
    return {name, lib, kIps, Better::higher, blocking, fn};
}

const int kRegistered = sb::add_workloads({
    // spsc_throughput: 1 producer, 1 consumer, capacity 1024
    tp<StaticrtSpsc>("spsc_throughput", "staticrt", true, &spsc<StaticrtSpsc>),
    tp<StaticrtSpscTry>("spsc_throughput", "staticrt_try", false, &spsc<StaticrtSpscTry>),
    tp<AqSpin<true>>("spsc_throughput", "atomic_queue_spin", false, &spsc<AqSpin<true>>),
    tp<AqTry<true>>("spsc_throughput", "atomic_queue_try", false, &spsc<AqTry<true>>),
    tp<BoostSpsc>("spsc_throughput", "boost_spsc", false, &spsc<BoostSpsc>),
    tp<Rwq>("spsc_throughput", "rwqueue", false, &spsc<Rwq>),
    tp<RwqBlocking>("spsc_throughput", "rwqueue_blocking", true, &spsc<RwqBlocking>),
    tp<Xenium>("spsc_throughput", "xenium_vyukov", false, &spsc<Xenium>),
    tp<Tbb>("spsc_throughput", "tbb_bounded", true, &spsc<Tbb>),
    tp<MutexDeque>("spsc_throughput", "mutex_deque", true, &spsc<MutexDeque>),
    // spsc_throughput_16b: as spsc_throughput, 16-byte messages
    tp<StaticrtSpsc16>("spsc_throughput_16b", "staticrt", true, &spsc<StaticrtSpsc16>),
    tp<StaticrtSpscTry16>("spsc_throughput_16b", "staticrt_try", false, &spsc<StaticrtSpscTry16>),
    tp<StaticrtMpmc16>("spsc_throughput_16b", "staticrt_mpmc", true, &spsc<StaticrtMpmc16>),
    tp<StaticrtTicket16>("spsc_throughput_16b", "staticrt_ticket", true, &spsc<StaticrtTicket16>),
    tp<AqSpin16>("spsc_throughput_16b", "atomic_queue_spin", false, &spsc<AqSpin16>),
    tp<BoostSpsc16>("spsc_throughput_16b", "boost_spsc", false, &spsc<BoostSpsc16>),
    tp<Rwq16>("spsc_throughput_16b", "rwqueue", false, &spsc<Rwq16>),
    tp<RwqBlocking16>("spsc_throughput_16b", "rwqueue_blocking", true, &spsc<RwqBlocking16>),
    // mpmc_throughput_1p1c
    tp<StaticrtMpmc>("mpmc_throughput_1p1c", "staticrt", true, &mpmc11<StaticrtMpmc>),
    tp<StaticrtMpmcTry>("mpmc_throughput_1p1c", "staticrt_try", false, &mpmc11<StaticrtMpmcTry>),
    tp<StaticrtScq>("mpmc_throughput_1p1c", "staticrt_scq", true, &mpmc11<StaticrtScq>),
    tp<StaticrtScqCompact>("mpmc_throughput_1p1c", "staticrt_scq_compact", true, &mpmc11<StaticrtScqCompact>),
    tp<StaticrtScqTry>("mpmc_throughput_1p1c", "staticrt_scq_try", false, &mpmc11<StaticrtScqTry>),
    tp<StaticrtTicket>("mpmc_throughput_1p1c", "staticrt_ticket", true, &mpmc11<StaticrtTicket>),
    tp<StaticrtTicketAlways>("mpmc_throughput_1p1c", "staticrt_ticket_always", true, &mpmc11<StaticrtTicketAlways>),
    tp<AqSpin<false>>("mpmc_throughput_1p1c", "atomic_queue_spin", false, &mpmc11<AqSpin<false>>),
    tp<AqTry<false>>("mpmc_throughput_1p1c", "atomic_queue_try", false, &mpmc11<AqTry<false>>),
    tp<BoostQueue>("mpmc_throughput_1p1c", "boost_queue", false, &mpmc11<BoostQueue>),
    tp<MoodyTokens>("mpmc_throughput_1p1c", "moodycamel_tokens", false, &mpmc11<MoodyTokens>),
    tp<MoodyBlocking>("mpmc_throughput_1p1c", "moodycamel_blocking", true, &mpmc11<MoodyBlocking>),
    tp<Xenium>("mpmc_throughput_1p1c", "xenium_vyukov", false, &mpmc11<Xenium>),
    tp<Tbb>("mpmc_throughput_1p1c", "tbb_bounded", true, &mpmc11<Tbb>),
    tp<MutexDeque>("mpmc_throughput_1p1c", "mutex_deque", true, &mpmc11<MutexDeque>),
    // mpmc_throughput_2p2c: 4 threads on 2 cores on purpose
    tp<StaticrtMpmc>("mpmc_throughput_2p2c", "staticrt", true, &mpmc22<StaticrtMpmc>),
    tp<StaticrtMpmcTry>("mpmc_throughput_2p2c", "staticrt_try", false, &mpmc22<StaticrtMpmcTry>),
    tp<StaticrtScq>("mpmc_throughput_2p2c", "staticrt_scq", true, &mpmc22<StaticrtScq>),
    tp<StaticrtScqCompact>("mpmc_throughput_2p2c", "staticrt_scq_compact", true, &mpmc22<StaticrtScqCompact>),
    tp<StaticrtScqTry>("mpmc_throughput_2p2c", "staticrt_scq_try", false, &mpmc22<StaticrtScqTry>),
    tp<StaticrtTicket>("mpmc_throughput_2p2c", "staticrt_ticket", true, &mpmc22<StaticrtTicket>),
    tp<StaticrtTicketAlways>("mpmc_throughput_2p2c", "staticrt_ticket_always", true, &mpmc22<StaticrtTicketAlways>),
    tp<AqSpin<false>>("mpmc_throughput_2p2c", "atomic_queue_spin", false, &mpmc22<AqSpin<false>>),
    tp<AqTry<false>>("mpmc_throughput_2p2c", "atomic_queue_try", false, &mpmc22<AqTry<false>>),
    tp<BoostQueue>("mpmc_throughput_2p2c", "boost_queue", false, &mpmc22<BoostQueue>),
    tp<MoodyTokens>("mpmc_throughput_2p2c", "moodycamel_tokens", false, &mpmc22<MoodyTokens>),
    tp<MoodyBlocking>("mpmc_throughput_2p2c", "moodycamel_blocking", true, &mpmc22<MoodyBlocking>),
    tp<Xenium>("mpmc_throughput_2p2c", "xenium_vyukov", false, &mpmc22<Xenium>),
    tp<Tbb>("mpmc_throughput_2p2c", "tbb_bounded", true, &mpmc22<Tbb>),
    tp<MutexDeque>("mpmc_throughput_2p2c", "mutex_deque", true, &mpmc22<MutexDeque>),
    // pingpong_rtt: median round trip through two queues, and the raw atomic floor
    {"pingpong_rtt", "raw_atomic", "ns", Better::lower, false, &rtt_raw},
    {"pingpong_rtt", "staticrt", "ns", Better::lower, true, &rtt<StaticrtSpsc>},
    {"pingpong_rtt", "staticrt_try", "ns", Better::lower, false, &rtt<StaticrtSpscTry>},
    {"pingpong_rtt", "staticrt_mpmc", "ns", Better::lower, true, &rtt<StaticrtMpmc>},
    {"pingpong_rtt", "staticrt_scq", "ns", Better::lower, true, &rtt<StaticrtScq>},
    {"pingpong_rtt", "staticrt_scq_compact", "ns", Better::lower, true, &rtt<StaticrtScqCompact>},
    {"pingpong_rtt", "staticrt_ticket", "ns", Better::lower, true, &rtt<StaticrtTicket>},
    {"pingpong_rtt", "atomic_queue_spin", "ns", Better::lower, false, &rtt<AqSpin<true>>},
    {"pingpong_rtt", "boost_spsc", "ns", Better::lower, false, &rtt<BoostSpsc>},
    {"pingpong_rtt", "rwqueue", "ns", Better::lower, false, &rtt<Rwq>},
    {"pingpong_rtt", "xenium_vyukov", "ns", Better::lower, false, &rtt<Xenium>},
    {"pingpong_rtt", "tbb_bounded", "ns", Better::lower, true, &rtt<Tbb>},
    {"pingpong_rtt", "mutex_deque", "ns", Better::lower, true, &rtt<MutexDeque>},
});

// --scaling: K producers and K consumers, thread i pinned to CPU i (16p16c: 32 threads on a
// 16-core machine, oversubscribed 2x as 2p2c is on 2 cores). moodycamel with tokens is left
// out (it starves a producer when oversubscribed, and each STALL costs the watchdog's time).
#define STATICRT_BENCH_SCALE_MPMC(K, NAME)                                                     \
    tp<StaticrtMpmc>(NAME, "staticrt", true, &mpmcKK<StaticrtMpmc, K>),                        \
    tp<StaticrtMpmcTry>(NAME, "staticrt_try", false, &mpmcKK<StaticrtMpmcTry, K>),             \
    tp<StaticrtScq>(NAME, "staticrt_scq", true, &mpmcKK<StaticrtScq, K>),                      \
    tp<StaticrtScqCompact>(NAME, "staticrt_scq_compact", true, &mpmcKK<StaticrtScqCompact, K>), \
    tp<StaticrtScqTry>(NAME, "staticrt_scq_try", false, &mpmcKK<StaticrtScqTry, K>),           \
    tp<StaticrtTicket>(NAME, "staticrt_ticket", true, &mpmcKK<StaticrtTicket, K>),             \
    tp<StaticrtTicketAlways>(NAME, "staticrt_ticket_always", true, &mpmcKK<StaticrtTicketAlways, K>), \
    tp<AqSpin<false>>(NAME, "atomic_queue_spin", false, &mpmcKK<AqSpin<false>, K>),            \
    tp<AqTry<false>>(NAME, "atomic_queue_try", false, &mpmcKK<AqTry<false>, K>),               \
    tp<BoostQueue>(NAME, "boost_queue", false, &mpmcKK<BoostQueue, K>),                        \
    tp<MoodyBlocking>(NAME, "moodycamel_blocking", true, &mpmcKK<MoodyBlocking, K>),           \
    tp<Xenium>(NAME, "xenium_vyukov", false, &mpmcKK<Xenium, K>),                              \
    tp<Tbb>(NAME, "tbb_bounded", true, &mpmcKK<Tbb, K>),                                       \
    tp<MutexDeque>(NAME, "mutex_deque", true, &mpmcKK<MutexDeque, K>)

const int kScalingRegistered = sb::add_scaling_workloads({
    STATICRT_BENCH_SCALE_MPMC(1, "scale_mpmc_1p1c"),
    STATICRT_BENCH_SCALE_MPMC(2, "scale_mpmc_2p2c"),
    STATICRT_BENCH_SCALE_MPMC(4, "scale_mpmc_4p4c"),
    STATICRT_BENCH_SCALE_MPMC(8, "scale_mpmc_8p8c"),
    STATICRT_BENCH_SCALE_MPMC(16, "scale_mpmc_16p16c"),
});
#undef STATICRT_BENCH_SCALE_MPMC

}  // namespace
