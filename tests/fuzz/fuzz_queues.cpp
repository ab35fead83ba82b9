// SPDX-License-Identifier: MIT
// libFuzzer target: random single-threaded operation sequences on SpscQueue, MpmcQueue and
// JoinableQueue, each checked against a reference model (std::deque + counters).
// Input: byte 0 picks the queue; then each op is one byte (op = b % 12) plus one value byte.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <span>

#include "staticrt/queue/joinable_queue.hpp"
#include "staticrt/queue/mpmc_queue.hpp"
#include "staticrt/queue/spsc_queue.hpp"

using staticrt::Deadline;
using staticrt::Errc;

namespace {

#define FUZZ_CHECK(cond)                                                          \
    do {                                                                          \
        if (!(cond)) {                                                            \
            std::fprintf(stderr, "fuzz_queues: check failed: %s (line %d)\n", #cond, __LINE__); \
            std::abort();                                                         \
        }                                                                         \
    } while (0)

template <class Q, bool Joinable>
void drive(const std::uint8_t* data, std::size_t size) {
    static_assert(Q::capacity() > 0);
    Q q;  // fresh each run
    std::deque<std::uint16_t> model;
    bool closed = false;
    std::uint32_t unfinished = 0;  // Joinable: put and not done
    constexpr std::size_t kCap = Q::capacity();
    for (std::size_t i = 0; i + 1 < size; i += 2) {
        const std::uint8_t op = data[i] % 12;
        const std::uint16_t v = static_cast<std::uint16_t>(data[i + 1] * 7 + i);
        auto push_expect = [&](bool ok) {
            const bool can = !closed && model.size() < kCap;
            FUZZ_CHECK(ok == can);
            if (ok) {
                model.push_back(v);
                ++unfinished;
            }
        };
        auto pop_expect = [&](bool ok, std::uint16_t got) {
            FUZZ_CHECK(ok == !model.empty());
            if (ok) {
                FUZZ_CHECK(got == model.front());
                model.pop_front();
            }
        };
        switch (op) {
            case 0: case 1: push_expect(q.try_push(v)); break;
            case 2: {
                const auto r = q.push(v, Deadline::poll());
                push_expect(static_cast<bool>(r));
                if (!r) FUZZ_CHECK(r.code() == (closed ? Errc::closed : Errc::timeout));
                break;
            }
            case 3: push_expect(q.try_emplace(v)); break;
            case 4: case 5: {
                std::uint16_t got = 0;
                const bool ok = q.try_pop(got);
                pop_expect(ok, got);
                break;
            }
            case 6: {
                auto r = q.pop(Deadline::poll());
                pop_expect(static_cast<bool>(r), r ? *r : 0);
                if (!r) FUZZ_CHECK(r.code() == (closed ? Errc::closed : Errc::timeout));
                break;
            }
            case 7: {
                if constexpr (!Joinable) {
                    std::uint16_t buf[5];
                    const std::size_t k = data[i + 1] % 6;
                    for (std::size_t j = 0; j < k; ++j) buf[j] = static_cast<std::uint16_t>(v + j);
                    const std::size_t n = q.try_push_n(std::span<const std::uint16_t>(buf, k));
                    const std::size_t room = closed ? 0 : kCap - model.size();
                    FUZZ_CHECK(n == (k < room ? k : room));
                    for (std::size_t j = 0; j < n; ++j) model.push_back(buf[j]);
                }
                break;
            }
            case 8: {
                if constexpr (!Joinable) {
                    std::uint16_t buf[5];
                    const std::size_t k = data[i + 1] % 6;
                    const std::size_t n = q.try_pop_n(std::span<std::uint16_t>(buf, k));
                    FUZZ_CHECK(n == (k < model.size() ? k : model.size()));
                    for (std::size_t j = 0; j < n; ++j) {
                        FUZZ_CHECK(buf[j] == model.front());
                        model.pop_front();
                    }
                }
                break;
            }
            case 9:
                if (data[i + 1] < 16) {  // close rarely
                    q.close();
                    closed = true;
                }
                break;
            case 10:
                if constexpr (Joinable) {
                    // Python semantics: task_done() counts items put, whichever were taken.
                    const auto r = q.task_done();
                    if (unfinished > 0) {
                        FUZZ_CHECK(static_cast<bool>(r));
                        --unfinished;
                    } else {
                        FUZZ_CHECK(r.code() == Errc::over_release);
                    }
                }
                break;
            case 11:
                if constexpr (Joinable) {
                    const auto r = q.join(Deadline::poll());
                    FUZZ_CHECK(static_cast<bool>(r) == (unfinished == 0));
                    FUZZ_CHECK(q.unfinished() == unfinished);
                }
                break;
        }
        FUZZ_CHECK(q.size_approx() == model.size());
        FUZZ_CHECK(q.closed() == closed);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    switch (data[0] % 5) {
        case 0: drive<staticrt::SpscQueue<std::uint16_t, 4>, false>(data + 1, size - 1); break;
        case 1: drive<staticrt::MpmcQueue<std::uint16_t, 4>, false>(data + 1, size - 1); break;
        case 2: drive<staticrt::SpscQueue<std::uint16_t, 1>, false>(data + 1, size - 1); break;
        case 3: drive<staticrt::MpmcQueue<std::uint16_t, 8, staticrt::WaitScope::process_shared>, false>(data + 1, size - 1); break;
        default: drive<staticrt::JoinableQueue<std::uint16_t, 4>, true>(data + 1, size - 1); break;
    }
    return 0;
}
