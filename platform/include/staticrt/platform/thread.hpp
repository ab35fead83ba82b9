// SPDX-License-Identifier: MIT
// staticrt/platform/thread.hpp — OS threads on caller-provided stacks.
//
// start_thread() runs entry(arg) on a new OS thread. On POSIX the thread runs on the
// caller's stack memory (pthread_attr_setstack); on Windows CreateThread reserves the stack
// itself with VirtualAlloc (virtual memory, never the C heap) of the requested size, and the
// caller's buffer is unused — see docs/platform.md. The ThreadHandle is the thread's control
// block: it must stay in place (not moved, not destroyed) until join() succeeded.
//
// Memory ordering: everything the thread wrote happens-before a successful join() returns.
//
//   alignas(16) static std::byte stack[64 * 1024];
//   platform::ThreadHandle h;
//   if (platform::start_thread(h, {stack, sizeof stack}, &work, nullptr, {}))
//       (void)platform::join(h, Deadline::never());
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "staticrt/platform/cpu.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/time.hpp"

namespace staticrt::platform {

/// Scheduling class of a thread.
enum class SchedPolicy : std::uint8_t {
    normal,  ///< SCHED_OTHER / THREAD_PRIORITY_NORMAL (level ignored)
    fifo,    ///< SCHED_FIFO (POSIX real-time); Windows: THREAD_PRIORITY_TIME_CRITICAL range
    rr,      ///< SCHED_RR (POSIX real-time); Windows: same mapping as fifo
};

/// A scheduling class and a level (1..99 for fifo/rr on Linux).
struct Priority {
    SchedPolicy policy = SchedPolicy::normal;
    int level = 0;
};

/// Caller-provided stack memory. Must be 16-byte aligned and at least kMinStackBytes.
struct StackSpan {
    void* base = nullptr;
    std::size_t bytes = 0;
};

/// The smallest stack start_thread() accepts: glibc's PTHREAD_STACK_MIN, which is 16 KiB on
/// x86-64 and armhf but 128 KiB on aarch64 (64 KiB-page kernels); 16 KiB elsewhere.
#if defined(__aarch64__) && !defined(_WIN32)
inline constexpr std::size_t kMinStackBytes = 128 * 1024;
#else
inline constexpr std::size_t kMinStackBytes = 16 * 1024;
#endif
/// True where start_thread() runs the thread on the caller's StackSpan (POSIX:
/// pthread_attr_setstack). False on Windows: CreateThread reserves and commits its own stack
/// (VirtualAlloc, not the C heap) of the requested size and ignores the caller's memory, so
/// Thread and ThreadPool keep no in-object stack there (their sizeof drops by the stacks) and
/// pass a null base with the requested size.
#if defined(_WIN32)
inline constexpr bool kThreadUsesCallerStack = false;
#else
inline constexpr bool kThreadUsesCallerStack = true;
#endif
/// The longest thread name kept (15 characters + NUL on Linux).
inline constexpr std::size_t kMaxThreadName = 16;

/// Options for start_thread(). All optional.
struct ThreadOptions {
    const char* name = nullptr;      ///< truncated to kMaxThreadName - 1 characters
    Priority priority{};             ///< applied before the thread runs user code
    const CpuSet* affinity = nullptr;///< pinned before the thread runs user code; nullptr = inherit
    /// Python's daemon=True: the handle may be destroyed while the thread still runs (at process
    /// exit), which is otherwise a contract violation. The thread's stack must outlive it.
    bool daemon = false;
};

using ThreadEntry = void (*)(void* arg) noexcept;

/// An OS thread id (gettid() / GetCurrentThreadId()).
using ThreadId = std::uint64_t;

/// Control block of one thread. Opaque; no OS header leaks out of it.
class ThreadHandle {
public:
    constexpr ThreadHandle() noexcept = default;
    ThreadHandle(const ThreadHandle&) = delete;
    ThreadHandle& operator=(const ThreadHandle&) = delete;
    ~ThreadHandle();  ///< a thread still started and not joined is a contract violation (trap), unless daemon

    /// True from a successful start_thread() until join() succeeded.
    [[nodiscard]] bool joinable() const noexcept { return m_state.load(std::memory_order_acquire) != kIdle; }
    /// True while the thread's entry function has not returned.
    [[nodiscard]] bool running() const noexcept { return m_state.load(std::memory_order_acquire) == kRunning; }
    /// The OS id of the thread (0 when not started).
    [[nodiscard]] ThreadId id() const noexcept { return m_tid.load(std::memory_order_acquire); }

    // Implementation detail, public so the .cpp trampoline can reach it without friends.
    static constexpr std::uint32_t kIdle = 0, kRunning = 1, kFinished = 2;
    std::atomic<std::uint32_t> m_state{kIdle};  ///< kIdle -> kRunning -> kFinished -> (join) kIdle
    std::atomic<ThreadId> m_tid{0};
    ThreadEntry m_entry = nullptr;
    void* m_arg = nullptr;
    ThreadOptions m_options{};
    CpuSet m_affinity{};
    std::atomic<std::uint32_t> m_setup{0};   ///< 0 pending, 1 ok, 2 failed (setup errors reported by start)
    Error m_setup_error{};
    alignas(8) unsigned char m_native[32] = {};  ///< pthread_t / HANDLE, checked in the .cpp
};

/// Starts a thread running entry(arg). Errc::invalid_argument: bad stack (null, < kMinStackBytes,
/// misaligned) or handle already in use; Errc::permission_denied: a priority the process may not
/// take; Errc::no_such_cpu: affinity outside the process's CPUs; Errc::os_error otherwise.
/// On error no thread runs.
[[nodiscard]] Result<void> start_thread(ThreadHandle& handle, StackSpan stack, ThreadEntry entry, void* arg,
                                        const ThreadOptions& options = {}) noexcept;

/// Waits until the thread finished, then releases it. Errc::timeout: still running at the
/// deadline (the handle stays joinable); Errc::invalid_argument: not started;
/// a contract violation (trap) when a thread joins itself.
[[nodiscard]] Result<void> join(ThreadHandle& handle, Deadline deadline) noexcept;

/// Pins a started thread (may be another thread). Same errors as pin_current_thread().
[[nodiscard]] Result<void> pin_thread(ThreadHandle& handle, const CpuSet& cpus) noexcept;
/// Changes a started thread's priority. Errc::permission_denied when the process may not.
[[nodiscard]] Result<void> set_priority(ThreadHandle& handle, Priority priority) noexcept;
/// Changes the calling thread's priority.
[[nodiscard]] Result<void> set_current_priority(Priority priority) noexcept;
/// Names the calling thread (visible in top/gdb/debuggers).
[[nodiscard]] Result<void> set_current_name(const char* name) noexcept;
/// The calling thread's OS id.
[[nodiscard]] ThreadId current_thread_id() noexcept;
/// CPU time (user + system) thread `tid` of this process has consumed so far, in ns.
/// Linux: the thread's CPU clock (clock_gettime on its per-thread clock id, ns resolution);
/// Windows: GetThreadTimes (100 ns units, advanced at the scheduler tick). A thread that sleeps
/// in the kernel does not advance it. Errc::invalid_argument for tid 0; Errc::os_error when no
/// such thread runs in this process (e.g. it exited).
[[nodiscard]] Result<std::uint64_t> thread_cpu_ns(ThreadId tid) noexcept;
/// Gives up the rest of the time slice.
void yield_now() noexcept;

}  // namespace staticrt::platform
