// staticrt/ipc/process_mutex.hpp — a robust mutex shared by processes (multiprocessing.Lock,
// plus what Python cannot do: surviving an owner that died holding it).
//
// Place it in shared memory (SharedSegment, SharedValue ...); any thread of any process that
// maps it may lock it. When an owner dies inside the critical section, the next lock(Deadline)
// returns Errc::owner_died WITH the lock held: repair the protected data, call
// mark_consistent(), then unlock(). Unlocking without mark_consistent() makes the mutex
// permanently unusable (every later lock reports Errc::broken), as POSIX specifies.
// Satisfies Lockable/TimedLockable (std::lock_guard, std::unique_lock) and the sync
// Condition's lock concept (lock/unlock/held_by_current_thread). Position-independent.
//
// Memory ordering: lock() acquires, unlock() releases — across processes, like std::mutex.
//
//   auto r = m.lock(Deadline::never());
//   if (r.code() == Errc::owner_died) { repair(); (void)m.mark_consistent(); }
//   ... m.unlock();
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "staticrt/platform/result.hpp"
#include "staticrt/platform/shared_memory.hpp"
#include "staticrt/platform/time.hpp"

namespace staticrt::ipc {

class ProcessMutex {
public:
    /// Initialises the OS mutex (POSIX: robust, process-shared, error-checking pthread mutex).
    /// Construct it once, in the process that creates the shared segment; others only map it.
    ProcessMutex() noexcept;
    ProcessMutex(const ProcessMutex&) = delete;
    ProcessMutex& operator=(const ProcessMutex&) = delete;
    ~ProcessMutex();  ///< destroys the OS mutex; call only when no process uses it any more

    /// Errc::owner_died (lock held, state inconsistent), Errc::timeout, Errc::broken,
    /// Errc::invalid_argument (the calling thread already holds it).
    [[nodiscard]] Result<void> lock(Deadline deadline) noexcept;
    /// Lockable: blocks. On owner_died the lock is held and is_consistent() is false until
    /// mark_consistent(); on broken (or any other error) a contract violation traps.
    void lock() noexcept;
    [[nodiscard]] bool try_lock() noexcept;
    template <class Rep, class Period>
    [[nodiscard]] bool try_lock_for(std::chrono::duration<Rep, Period> d) noexcept {
        return lock_bool(Deadline::after(d));
    }
    template <class Clock, class Dur>
    [[nodiscard]] bool try_lock_until(std::chrono::time_point<Clock, Dur> tp) noexcept {
        return lock_bool(Deadline::at(tp));
    }
    /// Releases. A caller that does not hold it is a contract violation (trap); use
    /// unlock_checked() to get Errc::not_owner instead.
    void unlock() noexcept;
    [[nodiscard]] Result<void> unlock_checked() noexcept;
    /// After owner_died: the protected data is repaired. Errc::not_owner when not held by the caller.
    [[nodiscard]] Result<void> mark_consistent() noexcept;

    /// True when the calling thread of the calling process holds the lock.
    [[nodiscard]] bool held_by_current_thread() const noexcept;
    /// True where owner death is detected (see platform::RobustMutex::robust(); false under qemu-user).
    [[nodiscard]] bool robust() const noexcept { return m_native.robust(); }
    /// False between an owner_died lock and mark_consistent().
    [[nodiscard]] bool is_consistent() const noexcept {
        // [pmutex.consistent] relaxed: read by the holder, written by holders only.
        return m_consistent.load(std::memory_order_relaxed) != 0;
    }

private:
    [[nodiscard]] bool lock_bool(Deadline d) noexcept;
    void set_owner() noexcept;
    void clear_owner() noexcept;

    platform::RobustMutex m_native;
    // Written only by the holder; read by anyone (held_by_current_thread).
    std::atomic<std::int64_t> m_owner_pid{0};
    std::atomic<std::uint64_t> m_owner_token{0};  ///< address of a thread_local in the owner process
    std::atomic<std::uint32_t> m_consistent{1};
};

}  // namespace staticrt::ipc
