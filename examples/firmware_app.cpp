// SPDX-License-Identifier: MIT
// firmware_app — a small control loop, firmware style: every object static, no heap, no
// exceptions, no RTTI, one static executable (built -fno-exceptions -fno-rtti -static).
//
//   $ ./firmware_app [cycles]
//   firmware_app: 200 cycles, 200 samples, 200 control outputs, checksum 300, 0 lines dropped, ...
//
// A periodic producer thread (1 ms period, absolute deadlines) reads a "sensor" and pushes a
// Sample into an SpscQueue; the main thread pops samples and submits the control law to a
// pinned ThreadPool, whose tasks push their outputs into an MpmcQueue; every 50 cycles a
// status line goes to a LogRing that the main thread drains to stdout. The whole system's
// static RAM is a compile-time value checked against a budget (staticrt/footprint.hpp), and
// the build checks that the final link references no allocation symbol
// (staticrt_check_no_heap). The same app on std::thread + std::mutex + std::function +
// std::vector is examples/firmware_app_std.cpp; docs/footprint.md compares the two.
#include <cstdio>
#include <cstdlib>

#include "staticrt/exec/thread_pool.hpp"
#include "staticrt/footprint.hpp"
#include "staticrt/ipc/log_ring.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/queue/mpmc_queue.hpp"
#include "staticrt/queue/spsc_queue.hpp"
#include "staticrt/thread.hpp"

namespace {

struct Sample {
    std::uint32_t cycle;
    std::int32_t value;
};
struct Output {
    std::uint32_t cycle;
    std::int64_t command;
};

constexpr std::uint32_t kDefaultCycles = 200;
constexpr auto kPeriod = std::chrono::milliseconds(1);

// The system: every object is a zero-initialised global (.bss), sized here and nowhere else.
constinit staticrt::Thread<staticrt::kDefaultPoolStackBytes> g_producer;
constinit staticrt::ThreadPool<2, 64> g_control;  // 2 pinned workers, 64 queued tasks
constinit staticrt::SpscQueue<Sample, 256> g_samples;
constinit staticrt::MpmcQueue<Output, 256> g_outputs;
using Log = staticrt::ipc::LogRing<64, 96>;
Log g_log;  // in-process log ring (constructed at start-up; zero-filled .bss image)

using System = staticrt::footprint<decltype(g_producer), decltype(g_control), decltype(g_samples),
                                   decltype(g_outputs), Log>;
// The budget, asserted once for the whole system (bytes of static RAM, all kinds together).
// 1 MiB leaves room for aarch64's 128 KiB minimum stacks.
static_assert(staticrt::within_budget<System, 1024 * 1024>, "firmware_app: over its RAM budget");

std::uint32_t g_cycles = kDefaultCycles;

std::int32_t read_sensor(std::uint32_t cycle) noexcept { return static_cast<std::int32_t>(cycle % 100); }

std::int64_t control_law(const Sample& s) noexcept {
    // A proportional controller toward 50, in fixed point.
    return static_cast<std::int64_t>(50 - s.value) * 3 + static_cast<std::int64_t>(s.cycle) * 1000;
}

void producer() noexcept {
    staticrt::Deadline next = staticrt::Deadline::after(kPeriod);
    for (std::uint32_t cycle = 0; cycle < g_cycles; ++cycle) {
        (void)staticrt::platform::sleep_until(next);  // absolute deadlines: no drift
        next = staticrt::Deadline::at(staticrt::Instant(next.instant().ns() + std::chrono::nanoseconds(kPeriod).count()));
        if (!g_samples.push(Sample{cycle, read_sensor(cycle)}, staticrt::Deadline::after(std::chrono::seconds(5)))) {
            (void)g_log.write("producer: sample queue stuck, stopping");
            break;
        }
    }
    g_samples.close();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) g_cycles = static_cast<std::uint32_t>(std::strtoul(argv[1], nullptr, 10));
    if (auto r = g_control.start({.name = "ctl"}); !r) {
        std::fprintf(stderr, "firmware_app: pool start failed: %s\n", staticrt::to_string(r.error().code));
        return 1;
    }
    if (auto r = g_producer.start(&producer, {.name = "producer"}); !r) {
        std::fprintf(stderr, "firmware_app: producer start failed: %s\n", staticrt::to_string(r.error().code));
        return 1;
    }
    std::uint32_t samples = 0, outputs = 0;
    std::int64_t checksum = 0;
    auto collect = [&]() noexcept {
        Output o{};
        while (g_outputs.try_pop(o)) {
            ++outputs;
            checksum += o.command - static_cast<std::int64_t>(o.cycle) * 1000;
        }
    };
    for (;;) {
        auto s = g_samples.pop(staticrt::Deadline::after(std::chrono::seconds(10)));
        if (!s) break;  // closed and drained (or a stuck producer: reported below)
        ++samples;
        const Sample sample = *s;
        auto job = [sample]() noexcept {
            // Full output queue: the sample is lost and the count below shows it.
            (void)g_outputs.try_push(Output{sample.cycle, control_law(sample)});
        };
        if (!g_control.submit_detached(job)) break;
        collect();
        if (sample.cycle % 50 == 49) {
            char line[64];
            std::snprintf(line, sizeof line, "cycle %u: sensor %d", static_cast<unsigned>(sample.cycle),
                          static_cast<int>(sample.value));
            (void)g_log.write(line);
            (void)g_log.drain_to(staticrt::platform::StandardStream::out);
        }
    }
    if (!g_producer.join() || !g_control.wait_idle(staticrt::Deadline::after(std::chrono::seconds(10)))) return 2;
    collect();
    (void)g_log.drain_to(staticrt::platform::StandardStream::out);
    (void)g_control.shutdown();
    std::printf("firmware_app: %u cycles, %u samples, %u control outputs, checksum %lld, %llu lines dropped, "
                "static RAM %zu bytes (budget 1 MiB)\n",
                static_cast<unsigned>(g_cycles), static_cast<unsigned>(samples), static_cast<unsigned>(outputs),
                static_cast<long long>(checksum), static_cast<unsigned long long>(g_log.dropped()),
                System::total_bytes);
    return samples == g_cycles && outputs == g_cycles ? 0 : 3;
}
