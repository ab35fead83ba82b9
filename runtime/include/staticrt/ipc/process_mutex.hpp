// SPDX-License-Identifier: MIT
// staticrt/ipc/process_mutex.hpp — a robust mutex shared by processes (multiprocessing.Lock,
// plus what Python cannot do: surviving an owner that died holding it).
//
// Place it in shared memory (SharedSegment, SharedValue ...); any thread of any process that
// maps it may lock it. When an owner dies inside the critical section, the next lock(Deadline)
// returns Errc::owner_died WITH the lock held: repair the protected data, call
// mark_consistent(), then unlock().
// Unlike a bare POSIX robust mutex, unlocking WITHOUT mark_consistent() never makes the mutex
// unusable: the "inconsistent" state is carried to the next locker instead (like a poisoned
// Rust mutex). Every later lock(Deadline) keeps returning Errc::owner_died (lock held), and
// is_consistent() stays false, until some holder calls mark_consistent(). So the Lockable
// lock() (std::lock_guard, std::unique_lock), which cannot report anything, never traps on a
// dead owner: it takes the lock, and the death stays visible to every checked locker.
// ProcessMutexGuard is the checked RAII guard (status(), mark_consistent()).
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

    /// Errc::owner_died (lock held, state inconsistent: a holder died, now or earlier, and
    /// nobody called mark_consistent() since), Errc::timeout (also for a deadline already past),
    /// Errc::broken (only if other code unlocked the raw platform mutex unrepaired),
    /// Errc::invalid_argument (the calling thread already holds it).
    [[nodiscard]] Result<void> lock(Deadline deadline) noexcept;
    /// Lockable: blocks. On owner_died the lock is held and is_consistent() is false until
    /// mark_consistent(); unlock() without it carries the state on (see the header). Only
    /// Errc::broken / invalid_argument (relock by the holder) trap as a contract violation.
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
    /// After owner_died: the protected data is repaired; later lockers get success again.
    /// Errc::not_owner when not held by the caller.
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
    std::atomic<std::uint32_t> m_consistent{1};  ///< 0 from an owner death until mark_consistent(); survives unlock
    std::atomic<std::uint32_t> m_native_dirty{0};  ///< the OS mutex itself is in its owner-died state (holder only)
};

/// RAII guard that reports: takes `m` until `deadline` in its constructor and unlocks in its
/// destructor (when it owns the lock). status() is the lock result: ok, Errc::owner_died (the
/// lock IS held: repair, then mark_consistent()), Errc::timeout, ... Not copyable or movable.
///
///   ProcessMutexGuard g(v.get_lock());
///   if (g.status().code() == Errc::owner_died) { repair(); (void)g.mark_consistent(); }
class ProcessMutexGuard {
public:
    explicit ProcessMutexGuard(ProcessMutex& m, Deadline deadline = Deadline::never()) noexcept
        : m_mutex(&m), m_status(m.lock(deadline)) {
        m_owns = m_status || m_status.code() == Errc::owner_died;
    }
    ProcessMutexGuard(const ProcessMutexGuard&) = delete;
    ProcessMutexGuard& operator=(const ProcessMutexGuard&) = delete;
    ~ProcessMutexGuard() {
        if (m_owns) m_mutex->unlock();
    }
    /// The result of the lock: ok, owner_died (held), timeout / broken / invalid_argument (not held).
    [[nodiscard]] const Result<void>& status() const noexcept { return m_status; }
    [[nodiscard]] bool owns_lock() const noexcept { return m_owns; }
    [[nodiscard]] bool owner_died() const noexcept { return m_status.code() == Errc::owner_died; }
    /// The protected state is repaired (see ProcessMutex::mark_consistent()).
    [[nodiscard]] Result<void> mark_consistent() noexcept {
        if (!m_owns) return unexpected(Errc::not_owner);
        auto r = m_mutex->mark_consistent();
        if (r) m_status = ok();
        return r;
    }
    [[nodiscard]] ProcessMutex& mutex() const noexcept { return *m_mutex; }

private:
    ProcessMutex* m_mutex;
    Result<void> m_status;
    bool m_owns = false;
};

}  // namespace staticrt::ipc
