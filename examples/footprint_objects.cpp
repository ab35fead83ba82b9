// SPDX-License-Identifier: MIT
// footprint_objects — one constinit global of each staticrt object, used a little.
//
//   $ ./footprint_objects
//   footprint_objects: 15 objects, 378520 bytes of static RAM (.bss), pool ran 2 tasks  (x86-64)
//
// Every object here is constant-initialised to all zero bytes, so the linker puts it in .bss
// (zero-filled at load, nothing in the image); none stores a pointer into itself at compile
// time. The ctest `footprint.sections` reads this program's sections (objdump -h) and symbols
// (nm) on every target and fails when one of these objects lands in .data or .data grows past
// a small bound (tests/footprint/check_sections.cmake).
#include <cstdio>
#include <span>

#include "staticrt/exec/future.hpp"
#include "staticrt/exec/thread_pool.hpp"
#include "staticrt/footprint.hpp"
#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/process_pool.hpp"
#include "staticrt/ipc/shared_segment.hpp"
#include "staticrt/ipc/shared_value.hpp"
#include "staticrt/queue/joinable_queue.hpp"
#include "staticrt/queue/mpmc_queue.hpp"
#include "staticrt/queue/spsc_queue.hpp"
#include "staticrt/sync.hpp"
#include "staticrt/thread.hpp"

namespace fp {
// External linkage and distinct names: check_sections.cmake finds each one by "g_fp_".
constinit staticrt::ThreadPool<2> g_fp_thread_pool;
constinit staticrt::Thread<staticrt::kDefaultPoolStackBytes> g_fp_thread;  // 64 KiB (aarch64: 128 KiB)
constinit staticrt::ResultSlots<64> g_fp_result_slots;
constinit staticrt::MpmcQueue<int, 1024> g_fp_mpmc_queue;
constinit staticrt::SpscQueue<int, 1024> g_fp_spsc_queue;
constinit staticrt::JoinableQueue<int, 256> g_fp_joinable_queue;
constinit staticrt::ipc::ProcessPool<2> g_fp_process_pool;
constinit staticrt::ipc::Process g_fp_process;
constinit staticrt::ipc::SharedValue<long> g_fp_shared_value;
constinit staticrt::Mutex g_fp_mutex;
constinit staticrt::Condition g_fp_condition;
constinit staticrt::Semaphore g_fp_semaphore;
constinit staticrt::Event g_fp_event;
constinit staticrt::ipc::SharedSegment<long> g_fp_shared_segment;
constinit staticrt::Task<64> g_fp_task;
}  // namespace fp

// A deliberately non-zero global: the ctest footprint.sections_detects_data checks that the
// section check reports it (so the check can fail), and .data stays within its bound with it.
namespace fp_canary {
constinit volatile int g_canary_in_data = 42;
}  // namespace fp_canary

// The whole set, from the manifest: what static_assert(... <= budget) would check.
using Everything = staticrt::footprint<decltype(fp::g_fp_thread_pool), decltype(fp::g_fp_thread),
                                       decltype(fp::g_fp_result_slots), decltype(fp::g_fp_mpmc_queue),
                                       decltype(fp::g_fp_spsc_queue), decltype(fp::g_fp_joinable_queue),
                                       decltype(fp::g_fp_process_pool), decltype(fp::g_fp_process),
                                       decltype(fp::g_fp_shared_value), decltype(fp::g_fp_mutex),
                                       decltype(fp::g_fp_condition), decltype(fp::g_fp_semaphore),
                                       decltype(fp::g_fp_event), decltype(fp::g_fp_shared_segment),
                                       decltype(fp::g_fp_task)>;

int main() {
    using namespace fp;
    if (!g_fp_thread_pool.start({.pin = false})) return 1;
    int in[8] = {1, 2, 3, 4, 5, 6, 7, 8}, out[8] = {};
    if (!g_fp_thread_pool.map([](int x) { return x + 1; }, std::span<const int>(in), std::span<int>(out), 1)) return 2;
    auto slot = g_fp_result_slots.make<int>();
    if (!slot || !slot->promise.set_value(7) || slot->future.get().value_or(0) != 7) return 3;
    if (!g_fp_thread.start([] {
            (void)g_fp_mpmc_queue.try_push(1);
            (void)g_fp_spsc_queue.try_push(2);
            (void)g_fp_joinable_queue.try_push(3);
            g_fp_event.set();
        }, {.name = "fp-thread"}))
        return 4;
    if (!g_fp_event.wait(staticrt::Deadline::never()) || !g_fp_thread.join()) return 5;
    int v = 0;
    if (!g_fp_mpmc_queue.try_pop(v) || v != 1 || !g_fp_spsc_queue.try_pop(v) || v != 2) return 6;
    if (!g_fp_joinable_queue.try_pop(v) || v != 3) return 7;
    if (!g_fp_joinable_queue.task_done()) return 7;
    {
        std::lock_guard<staticrt::Mutex> lock(g_fp_mutex);
        (void)g_fp_condition.notify_all(g_fp_mutex);
    }
    if (!g_fp_semaphore.release()) return 8;
    if (!g_fp_semaphore.try_acquire()) return 8;
    g_fp_task = [] {};
    g_fp_task();
    const bool idle = g_fp_process.pid() == 0 && g_fp_process_pool.live_workers() == 0 && !g_fp_shared_value.is_open() &&
                      !g_fp_shared_segment.is_open();
    if (!idle || !g_fp_thread_pool.shutdown()) return 9;
    std::uint64_t ran = 0;
    for (std::size_t w = 0; w < g_fp_thread_pool.worker_count(); ++w) ran += g_fp_thread_pool.stats(w).tasks_run;
    if (fp_canary::g_canary_in_data != 42) return 10;
    std::printf("footprint_objects: 15 objects, %zu bytes of static RAM (.bss), pool ran %llu tasks\n",
                Everything::static_bytes, static_cast<unsigned long long>(ran));
    return 0;
}
