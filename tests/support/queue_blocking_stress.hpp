// SPDX-License-Identifier: MIT
// queue_blocking_stress.hpp — blocking-only queue stress shared by the GoogleTest stress suite
// (full size) and the doctest target suite (reduced, so qemu and wine run it too).
//
// No timed pop that "continues" and no re-notifying extra call: every wait is a blocking call with
// a long deadline (20 s), and that deadline expiring is a FAILURE (a lost wake-up), reported with
// what was waiting, also when the call then succeeds (it found its item only because the
// deadline woke it). Exactly one side of an SPSC run may use a non-blocking call (spinning with a
// yield); the other side blocks, so a non-blocking call that forgets its notify leaves the
// blocked side asleep and the run fails. Every item is checked exactly: SPSC in order, MPMC each
// item once with each producer's items in increasing order per consumer.
//
// Left alone, a fast side rarely finds the other one parked (on a loaded machine the blocked side
// mostly finds work during its spin and yield phases), so a missing notify would go unseen. Every
// kForceEvery items the calling side therefore waits until the other side is PARKED
// (waiting_consumers() / waiting_producers(), the queues' test observers) before its next call:
// that call must wake it, or the run fails at the deadline.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <span>
#include <thread>
#include <vector>

#include "staticrt/platform/result.hpp"
#include "staticrt/platform/time.hpp"

namespace staticrt::test {

enum class ProduceBy { push, try_push, try_emplace, try_push_n };
enum class ConsumeBy { pop, try_pop, try_pop_n };

inline const char* name_of(ProduceBy p) {
    switch (p) {
        case ProduceBy::push: return "push";
        case ProduceBy::try_push: return "try_push";
        case ProduceBy::try_emplace: return "try_emplace";
        case ProduceBy::try_push_n: return "try_push_n";
    }
    return "?";
}
inline const char* name_of(ConsumeBy c) {
    switch (c) {
        case ConsumeBy::pop: return "pop";
        case ConsumeBy::try_pop: return "try_pop";
        case ConsumeBy::try_pop_n: return "try_pop_n";
    }
    return "?";
}

/// The MPMC call pairs both suites run: blocking on both sides, then one side non-blocking.
struct MpmcCalls {
    ProduceBy pb;
    ConsumeBy cb;
};
inline constexpr MpmcCalls kMpmcCalls[] = {
    {ProduceBy::push, ConsumeBy::pop}, {ProduceBy::try_push, ConsumeBy::pop}, {ProduceBy::push, ConsumeBy::try_pop}};

struct StressOutcome {
    bool ok = true;
    char what[200] = {};
    std::uint64_t popped = 0;
    void fail(const char* msg, std::uint64_t at) {
        if (!ok) return;
        ok = false;
        std::snprintf(what, sizeof what, "%s (item %llu)", msg, static_cast<unsigned long long>(at));
    }
};

/// Long enough never to expire in a correct run (even under emulation on a loaded machine);
/// expiring means a sleeper was never woken.
inline Deadline lost_wakeup_limit() { return Deadline::after(std::chrono::seconds(20)); }

inline constexpr std::uint64_t kForceEvery = 16;

/// Waits until pred() (the other side parked) or stop(); false after 20 s without either.
template <class Pred, class Stop>
bool until_parked(Pred pred, Stop stop) {
    const Deadline d = lost_wakeup_limit();
    while (!pred()) {
        if (stop()) return true;
        if (d.expired()) return false;
        std::this_thread::yield();
    }
    return true;
}

/// One producer, one consumer, items 1..n. At most one of pb/cb is non-blocking.
template <class Q>
StressOutcome spsc_blocking(Q& q, std::uint64_t n, ProduceBy pb, ConsumeBy cb) {
    StressOutcome out;
    std::atomic<bool> abort{false};
    std::thread producer([&] {
        std::uint64_t i = 1, forced = 0;
        while (i <= n && !abort.load(std::memory_order_relaxed)) {
            if (cb == ConsumeBy::pop && i > 1 && i / kForceEvery != forced) {  // the consumer drains, then parks
                forced = i / kForceEvery;
                if (!until_parked([&] { return q.waiting_consumers() > 0; }, [&] { return abort.load(); })) {
                    out.fail("the consumer never parked on an empty queue", i);
                    abort = true;
                    return;
                }
            }
            switch (pb) {
                case ProduceBy::push: {
                    const Deadline limit = lost_wakeup_limit();
                    // A push that succeeds only once its deadline passed was woken by the timeout,
                    // not by the consumer: a lost wake-up too.
                    if (!q.push(i, limit) || limit.expired()) {
                        out.fail("blocking push never woken (lost wake-up on the not-full side)", i);
                        abort = true;
                        return;
                    }
                    ++i;
                    break;
                }
                case ProduceBy::try_push:
                    if (q.try_push(i)) ++i;
                    else std::this_thread::yield();
                    break;
                case ProduceBy::try_emplace:
                    if (q.try_emplace(i)) ++i;
                    else std::this_thread::yield();
                    break;
                case ProduceBy::try_push_n: {
                    std::uint64_t batch[3];
                    std::size_t k = 0;
                    for (; k < 3 && i + k <= n; ++k) batch[k] = i + k;
                    const std::size_t pushed = q.try_push_n(std::span<const std::uint64_t>(batch, k));
                    i += pushed;
                    if (pushed == 0) std::this_thread::yield();
                    break;
                }
            }
        }
    });
    std::uint64_t expect = 1, forced = 0;
    while (expect <= n && out.ok) {
        // Half-way between the producer's forced points, while the producer still has a full
        // queue's worth to push: wait until it is parked on the full queue; this pop must wake it.
        if (pb == ProduceBy::push && expect + Q::capacity() + 1 <= n &&
            (expect + kForceEvery / 2) / kForceEvery != forced) {
            forced = (expect + kForceEvery / 2) / kForceEvery;
            if (!until_parked([&] { return q.waiting_producers() > 0; }, [] { return false; })) {
                out.fail("the producer never parked on a full queue", expect);
                break;
            }
        }
        std::uint64_t got[3] = {};
        std::size_t k = 0;
        switch (cb) {
            case ConsumeBy::pop: {
                const Deadline limit = lost_wakeup_limit();
                auto r = q.pop(limit);
                if (!r || limit.expired()) {  // expired: found the item only when the deadline woke it
                    out.fail("blocking pop never woken (lost wake-up on the not-empty side)", expect);
                    break;
                }
                got[k++] = *r;
                break;
            }
            case ConsumeBy::try_pop:
                if (q.try_pop(got[0])) k = 1;
                else std::this_thread::yield();
                break;
            case ConsumeBy::try_pop_n:
                k = q.try_pop_n(std::span<std::uint64_t>(got, 3));
                if (k == 0) std::this_thread::yield();
                break;
        }
        for (std::size_t j = 0; j < k; ++j) {
            if (got[j] != expect) out.fail("item out of order, lost or duplicated", expect);
            ++expect;
            ++out.popped;
        }
    }
    abort = true;
    producer.join();
    std::uint64_t extra = 0;
    if (out.ok && q.try_pop(extra)) out.fail("an item beyond n was popped", extra);
    return out;
}

/// P producers x `per` items (tag p << 40 | seq), C consumers; blocking calls except where
/// pb / cb say otherwise (then that side spins). The last producer closes the queue; consumers
/// pop until closed. Every item must arrive exactly once, and each consumer must see each
/// producer's items in increasing order.
template <class Q>
StressOutcome mpmc_blocking(Q& q, int producers, int consumers, std::uint64_t per, ProduceBy pb, ConsumeBy cb) {
    constexpr int kShift = 40;
    StressOutcome out;
    std::atomic<bool> failed{false};
    std::atomic<int> producing{producers};
    std::vector<std::vector<std::uint8_t>> seen(static_cast<std::size_t>(consumers),
                                                std::vector<std::uint8_t>(static_cast<std::size_t>(producers) * per, 0));
    std::vector<StressOutcome> cout(static_cast<std::size_t>(consumers));
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
        threads.emplace_back([&, p] {
            std::uint64_t forced = 0;
            for (std::uint64_t s = 0; s < per && !failed.load(std::memory_order_relaxed);) {
                // Every consumer drains and parks: one awake consumer would take the item and
                // hide a push that wakes nobody (the parked ones would sleep until close()).
                if (cb == ConsumeBy::pop && s > 0 && s / kForceEvery != forced) {
                    forced = s / kForceEvery;
                    if (!until_parked([&] { return q.waiting_consumers() >= static_cast<std::uint32_t>(consumers); },
                                      [&] { return failed.load(); })) {
                        failed = true;
                        break;
                    }
                }
                const std::uint64_t v = (static_cast<std::uint64_t>(p) << kShift) | s;
                if (pb == ProduceBy::push) {
                    const Deadline limit = lost_wakeup_limit();
                    if (!q.push(v, limit) || limit.expired()) {
                        failed = true;
                        break;
                    }
                    ++s;
                } else if (q.try_push(v)) {
                    ++s;
                } else {
                    std::this_thread::yield();
                }
            }
            if (producing.fetch_sub(1) == 1) q.close();
        });
    }
    for (int c = 0; c < consumers; ++c) {
        threads.emplace_back([&, c] {
            auto& mine = seen[static_cast<std::size_t>(c)];
            auto& res = cout[static_cast<std::size_t>(c)];
            std::vector<std::uint64_t> last(static_cast<std::size_t>(producers), 0);
            std::vector<bool> any(static_cast<std::size_t>(producers), false);
            std::uint64_t forced = 0;
            for (;;) {
                if (cb != ConsumeBy::pop && pb == ProduceBy::push &&
                    (res.popped + kForceEvery / 2) / kForceEvery != forced) {  // producers fill and park
                    forced = (res.popped + kForceEvery / 2) / kForceEvery;
                    // Every producer still producing parks on the full queue (one awake would hide
                    // a pop that wakes nobody).
                    if (!until_parked([&] { const int n = producing.load();
                                            return n > 0 && q.waiting_producers() >= static_cast<std::uint32_t>(n); },
                                      [&] { return q.closed() || failed.load() || producing.load() == 0; })) {
                        res.fail("no producer ever parked on a full queue", res.popped);
                        failed = true;
                        break;
                    }
                }
                std::uint64_t v = 0;
                if (cb == ConsumeBy::pop) {
                    const Deadline limit = lost_wakeup_limit();
                    auto r = q.pop(limit);
                    if (r && limit.expired()) {
                        res.fail("blocking pop woken only by its deadline (lost wake-up on the not-empty side)", res.popped);
                        failed = true;
                        break;
                    }
                    if (!r) {
                        if (r.code() != Errc::closed) {
                            res.fail("blocking pop never woken (lost wake-up on the not-empty side)", res.popped);
                            failed = true;
                        }
                        break;
                    }
                    v = *r;
                } else if (!q.try_pop(v)) {
                    if (!q.closed()) {
                        std::this_thread::yield();
                        continue;
                    }
                    if (!q.try_pop(v)) break;  // closed and drained
                }
                const std::uint64_t p = v >> kShift, s = v & ((1ull << kShift) - 1);
                if (p >= static_cast<std::uint64_t>(producers) || s >= per) {
                    res.fail("item that no producer pushed", v);
                    continue;
                }
                if (any[p] && s <= last[p]) res.fail("a producer's items out of order for one consumer", v);
                any[p] = true;
                last[p] = s;
                ++mine[p * per + s];
                ++res.popped;
            }
        });
    }
    for (auto& t : threads) t.join();
    if (failed.load() && out.ok) out.fail("blocking push never woken (lost wake-up on the not-full side)", 0);
    for (auto& r : cout) {
        out.popped += r.popped;
        if (!r.ok && out.ok) {
            out.ok = false;
            std::snprintf(out.what, sizeof out.what, "%s", r.what);
        }
    }
    for (std::size_t i = 0; i < static_cast<std::size_t>(producers) * per && out.ok; ++i) {
        unsigned total = 0;
        for (auto& s : seen) total += s[i];
        if (total != 1) out.fail(total == 0 ? "item lost" : "item duplicated", i);
    }
    return out;
}

}  // namespace staticrt::test
