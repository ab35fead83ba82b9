// SPDX-License-Identifier: MIT
// footprint_sizes — sizeof and the footprint manifest of common configurations, on this target.
//
//   $ ./footprint_sizes
//   staticrt.sizeof|target|x86-64 Linux|...
//   staticrt.sizeof|ThreadPool<4>|412672|412672|0|0
//
// One line per type: name | sizeof | static_bytes | shared_bytes (segments it creates) |
// os_stack_bytes (stacks the OS reserves outside the object: Windows). toolchain/footprint-tables.py
// runs this on every target (ctest, under the emulators) and writes the tables of docs/footprint.md.
#include <cstdint>
#include <cstdio>

#include "staticrt/exec/future.hpp"
#include "staticrt/exec/thread_pool.hpp"
#include "staticrt/footprint.hpp"
#include "staticrt/ipc/log_ring.hpp"
#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/process_pool.hpp"
#include "staticrt/ipc/shared_segment.hpp"
#include "staticrt/ipc/shared_value.hpp"
#include "staticrt/platform/arch.hpp"
#include "staticrt/queue/joinable_queue.hpp"
#include "staticrt/queue/mpmc_queue.hpp"
#include "staticrt/queue/spsc_queue.hpp"
#include "staticrt/sync.hpp"
#include "staticrt/task.hpp"
#include "staticrt/thread.hpp"

namespace {
template <class T>
void row(const char* name) {
    constexpr staticrt::Footprint f = staticrt::footprint_of<T>;
    std::printf("staticrt.sizeof|%s|%zu|%zu|%zu|%zu\n", name, sizeof(T), f.static_bytes, f.shared_bytes,
                f.os_stack_bytes);
}
}  // namespace

int main() {
    using u64 = std::uint64_t;
    namespace ipc = staticrt::ipc;
    std::printf("staticrt.target|pointer %zu bits, kCacheLine %zu, kMinStackBytes %zu, thread stacks %s\n",
                sizeof(void*) * 8, staticrt::platform::kCacheLine, staticrt::platform::kMinStackBytes,
                staticrt::platform::kThreadUsesCallerStack ? "in the object" : "reserved by the OS");
    row<staticrt::Mutex>("Mutex");
    row<staticrt::Condition>("Condition");
    row<staticrt::Semaphore>("Semaphore");
    row<staticrt::BoundedSemaphore>("BoundedSemaphore");
    row<staticrt::Event>("Event");
    row<staticrt::Latch>("Latch");
    row<staticrt::Barrier>("Barrier");
    row<staticrt::Task<32>>("Task<32>");
    row<staticrt::Thread<staticrt::kDefaultPoolStackBytes>>("Thread<kDefaultPoolStackBytes> (64 KiB; aarch64 128 KiB)");
    row<staticrt::Thread<256 * 1024>>("Thread<256 KiB>");
    row<staticrt::SpscQueue<u64, 1024>>("SpscQueue<u64, 1024>");
    row<staticrt::MpmcQueue<u64, 1024>>("MpmcQueue<u64, 1024>");
    row<staticrt::JoinableQueue<u64, 1024>>("JoinableQueue<u64, 1024>");
    row<staticrt::ResultSlots<64>>("ResultSlots<64>");
    row<staticrt::ThreadPool<2, 1024>>("ThreadPool<2, 1024>");
    row<staticrt::ThreadPool<4>>("ThreadPool<4>");
    row<ipc::Process>("ipc::Process");
    row<ipc::SharedValue<long>>("ipc::SharedValue<long>");
    row<ipc::SharedSegment<ipc::LogRing<>>>("SharedSegment<LogRing<1024, 200>>");
    row<ipc::ProcessPool<4>>("ipc::ProcessPool<4>");
    return 0;
}
