// SPDX-License-Identifier: MIT
// staticrt/thread.hpp — Thread<StackBytes>: an OS thread on a stack it owns (threading.Thread).
//
// A Thread owns an aligned stack array of StackBytes and the platform control block; start()
// stores the callable inline (a Task of TaskBytes; a larger callable is a compile-time error)
// and starts the OS thread on that stack with a name, a priority and an affinity. The callable
// returns void or Result<void>; an error is passed, with the thread's name, to the process-wide
// failure hook (set_thread_failure_hook, like threading.excepthook; the default prints one line
// to stderr). join(deadline) waits for the end (Errc::timeout leaves it joinable); joining a
// thread from itself traps. A Thread must be joined before it is destroyed or restarted.
// Windows reserves thread stacks itself (VirtualAlloc, not the C heap): there the object keeps no
// stack (platform::kThreadUsesCallerStack is false) and sizeof(Thread) drops by StackBytes.
// Zero-initialised: `constinit staticrt::Thread<65536> t;` lands in .bss (static_bytes says how much).
// Daemon threads (Python's daemon=True): start(f, {.daemon = true}) may be left running when the
// process exits; its Thread's destructor then abandons it instead of trapping. The thread runs on
// the object's stack, so a daemon Thread must have static storage (a global or a static).
//
// Thread roles: one controlling thread calls start/join/pin/set_priority; is_alive() and
// name() may be read from any thread.
// Memory ordering: everything written before start() is visible to the callable; everything
// the callable wrote is visible after a successful join() (the platform's thread start/join).
//
//   static staticrt::Thread<64 * 1024> worker;
//   if (worker.start([] { do_work(); }, {.name = "worker"})) (void)worker.join();
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "staticrt/detail/stack_storage.hpp"
#include "staticrt/platform/cpu.hpp"
#include "staticrt/platform/thread.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/result.hpp"
#include "staticrt/task.hpp"

namespace staticrt {

using platform::ThreadOptions;

/// Called in the failing thread with its name ("" when unnamed) and the error it returned.
using ThreadFailureHook = void (*)(const char* thread_name, Error error) noexcept;

/// Installs the process-wide failure hook and returns the previous one; nullptr restores the
/// default (one line to stderr). Any thread may call it.
ThreadFailureHook set_thread_failure_hook(ThreadFailureHook hook) noexcept;

namespace detail {
/// The non-template part of Thread: control block, name, trampoline.
class ThreadCore {
public:
    using Run = Result<void> (*)(void* owner) noexcept;

    constexpr ThreadCore() noexcept = default;
    ThreadCore(const ThreadCore&) = delete;
    ThreadCore& operator=(const ThreadCore&) = delete;

    [[nodiscard]] Result<void> start(platform::StackSpan stack, const ThreadOptions& options, Run run,
                                     void* owner) noexcept;
    [[nodiscard]] Result<void> join(Deadline deadline) noexcept;
    [[nodiscard]] Result<void> pin(const platform::CpuSet& cpus) noexcept;
    [[nodiscard]] Result<void> set_priority(platform::Priority priority) noexcept;
    [[nodiscard]] bool is_alive() const noexcept { return m_handle.running(); }
    [[nodiscard]] bool joinable() const noexcept { return m_handle.joinable(); }
    [[nodiscard]] platform::ThreadId id() const noexcept { return m_handle.id(); }
    [[nodiscard]] const char* name() const noexcept { return m_name; }
    /// The thread moved its callable out of the Thread (Thread::run); ~Thread waits for that, so
    /// it never destroys a Task a just-started daemon thread is still moving.
    void mark_taken() noexcept {
        // [thread.taken] release: the move out of the Task is complete; pairs with wait_taken().
        m_taken.store(1, std::memory_order_release);
    }
    void wait_taken() const noexcept;

private:
    static void entry(void* self) noexcept;

    platform::ThreadHandle m_handle;
    Run m_run = nullptr;
    void* m_owner = nullptr;
    std::atomic<std::uint32_t> m_taken{0};
    char m_name[platform::kMaxThreadName] = {};
};

template <std::size_t StackBytes>
struct ThreadStackCheck {
    static_assert(StackBytes >= platform::kMinStackBytes,
                  "Thread<StackBytes>: StackBytes is below platform::kMinStackBytes (16 KiB); use at least "
                  "Thread<16 * 1024>");
    static_assert(StackBytes % 16 == 0, "Thread<StackBytes>: StackBytes must be a multiple of 16");
    static constexpr bool value = true;
};
}  // namespace detail

template <std::size_t StackBytes, std::size_t TaskBytes = 64>
class Thread {
    static_assert(detail::ThreadStackCheck<StackBytes>::value);

public:
    static constexpr std::size_t kStackBytes = StackBytes;
    static constexpr std::size_t kTaskBytes = TaskBytes;
    /// Static RAM of one Thread (sizeof): with its stack where the thread runs on it (POSIX).
    static const std::size_t static_bytes;
    /// Stack the OS reserves outside the object (Windows: StackBytes; else 0).
    static constexpr std::size_t os_stack_bytes = platform::kThreadUsesCallerStack ? 0 : StackBytes;

    // ---- lifetime: not copyable, not movable (the OS thread runs on m_stack)
    constexpr Thread() noexcept = default;
    Thread(const Thread&) = delete;
    Thread& operator=(const Thread&) = delete;
    /// A thread still started and not joined is a contract violation (trap), unless it was
    /// started with {.daemon = true}: then it is abandoned (it ends with the process).
    ~Thread() { m_core.wait_taken(); }

    // ---- non-blocking
    /// Starts the OS thread running f() on this object's stack. f returns void or Result<void>.
    /// Errc::invalid_argument: already started and not joined; Errc::permission_denied: a
    /// priority the process may not take; Errc::no_such_cpu: affinity outside the process;
    /// Errc::os_error otherwise. On error no thread runs and f is dropped.
    template <class F>
    [[nodiscard]] Result<void> start(F&& f, const ThreadOptions& options = {}) noexcept {
        using D = std::decay_t<F>;
        using R = std::invoke_result_t<D&>;
        static_assert(std::is_void_v<R> || std::is_same_v<R, Result<void>>,
                      "Thread::start: the callable must return void or Result<void>");
        if (m_core.joinable()) return unexpected(Errc::invalid_argument);
        m_task = [fn = std::forward<F>(f)]() mutable noexcept -> Result<void> {
            if constexpr (std::is_void_v<R>) {
                fn();
                return ok();
            } else {
                return fn();
            }
        };
        Result<void> r = m_core.start(platform::StackSpan{m_stack.base(), StackBytes}, options, &Thread::run, this);
        if (!r) m_task.reset();
        return r;
    }

    /// Pins the running thread to `cpus` (Errc::no_such_cpu, Errc::invalid_argument).
    [[nodiscard]] Result<void> pin(const platform::CpuSet& cpus) noexcept { return m_core.pin(cpus); }
    /// Changes the running thread's priority (Errc::permission_denied when the process may not).
    [[nodiscard]] Result<void> set_priority(platform::Priority priority) noexcept {
        return m_core.set_priority(priority);
    }

    // ---- blocking
    /// Waits until the thread finished. Errc::timeout: still running (stays joinable);
    /// Errc::invalid_argument: not started. Joining from the thread itself traps.
    [[nodiscard]] Result<void> join(Deadline deadline = Deadline::never()) noexcept { return m_core.join(deadline); }
    /// Python-style helper, a one-line forward: join(Deadline::after(d)).
    template <class Rep, class Period>
    [[nodiscard]] Result<void> join_for(std::chrono::duration<Rep, Period> d) noexcept {
        return join(Deadline::after(d));
    }

    // ---- observers
    /// True from start() until the callable returned.
    [[nodiscard]] bool is_alive() const noexcept { return m_core.is_alive(); }
    /// True from start() until join() succeeded.
    [[nodiscard]] bool joinable() const noexcept { return m_core.joinable(); }
    /// The name given to start() (truncated to 15 characters), "" when none.
    [[nodiscard]] const char* name() const noexcept { return m_core.name(); }
    /// The OS thread id while started, 0 otherwise.
    [[nodiscard]] platform::ThreadId id() const noexcept { return m_core.id(); }

private:
    static Result<void> run(void* owner) noexcept {
        auto* self = static_cast<Thread*>(owner);
        // The callable moves onto this thread's own stack: its captured state is released when
        // the thread ends (as in Python), and a daemon thread still running at exit keeps it
        // while ~Thread() runs.
        Task<TaskBytes, Result<void>()> task = std::move(self->m_task);
        self->m_core.mark_taken();
        return task();
    }

    // The OS thread's stack (written only by that thread); empty where the OS provides it.
    [[no_unique_address]] detail::StackStorage<detail::kInObjectStackBytes<StackBytes>> m_stack;
    detail::ThreadCore m_core;                   // controlling thread; state words are atomics
    Task<TaskBytes, Result<void>()> m_task;      // written by start(), consumed by the thread
};

template <std::size_t StackBytes, std::size_t TaskBytes>
constexpr std::size_t Thread<StackBytes, TaskBytes>::static_bytes = sizeof(Thread<StackBytes, TaskBytes>);

}  // namespace staticrt
