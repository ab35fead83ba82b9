// SPDX-License-Identifier: MIT
// staticrt/sync/mutex.hpp — BasicMutex<Scope>: a futex mutex that knows its owner.
//
// The classic three-state futex mutex (0 unlocked, 1 locked, 2 locked with sleepers): an
// uncontended lock() and unlock() are one atomic operation each and never enter the kernel;
// a contended lock() spins a bounded number of times, then parks in the kernel. The owner's
// thread id is recorded, so unlocking a mutex the caller does not hold is detected
// (release() -> Errc::not_owner; the std-named unlock() traps, in every build), relocking it
// from its owner is detected (lock(Deadline) -> Errc::would_block, lock() traps), and destroying
// a locked mutex traps. Satisfies BasicLockable, Lockable and
// TimedLockable: std::lock_guard, std::unique_lock and std::scoped_lock work.
//
// The state is two position-independent words (no pointers): BasicMutex<process_shared>
// (alias SharedMemoryMutex) may live in memory mapped by several processes. The owner id is
// platform::current_thread_id(): the Linux tid and the Windows thread id are unique across all
// processes of the machine, so ownership checks stay correct across processes. It is not robust:
// a process that dies holding it leaves it locked (use the process module's ProcessMutex).
//
// Memory ordering: everything written before unlock() is visible to the thread whose lock()
// (or successful try_lock()) acquires the mutex next ([mutex.lock] acquire / [mutex.unlock] release).
//
//   constinit staticrt::Mutex g_mutex;
//   { std::lock_guard lock(g_mutex); ++g_counter; }
//   if (auto r = g_mutex.lock(staticrt::Deadline::after(5ms)); r) { ...; g_mutex.unlock(); }
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "staticrt/platform/thread.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"
#include "staticrt/result.hpp"

namespace staticrt {

using platform::WaitScope;

namespace detail {
/// Contended path of BasicMutex::lock(Deadline): spin, then park. Returns with the mutex held
/// (state 1 or 2) or an error (timeout, or what platform::wait reported).
[[nodiscard]] Result<void> mutex_lock_contended(std::atomic<std::uint32_t>& state, Deadline deadline,
                                                WaitScope scope) noexcept;
/// Releases the state word and wakes one sleeper when there are sleepers.
void mutex_unlock_state(std::atomic<std::uint32_t>& state, WaitScope scope) noexcept;
}  // namespace detail

template <WaitScope Scope>
class BasicMutex {
public:
    static constexpr WaitScope kScope = Scope;

    // ---- lifetime: not copyable, not movable (waiters sleep on its address)
    constexpr BasicMutex() noexcept = default;
    BasicMutex(const BasicMutex&) = delete;
    BasicMutex& operator=(const BasicMutex&) = delete;
    /// A contract violation (trap) when the mutex is still locked.
    ~BasicMutex() {
        if (m_state.load(std::memory_order_relaxed) != kUnlocked)
            detail::contract_violation("Mutex destroyed while locked");
    }

    // ---- non-blocking
    /// Takes the mutex if it is free. Never blocks, never enters the kernel.
    [[nodiscard]] bool try_lock() noexcept {
        std::uint32_t expected = kUnlocked;
        // [mutex.lock] acquire: pairs with [mutex.unlock]; the previous owner's writes become visible.
        if (!m_state.compare_exchange_strong(expected, kLocked, std::memory_order_acquire,
                                             std::memory_order_relaxed))
            return false;
        set_owner();
        return true;
    }

    /// Unlocks. Errc::not_owner (and nothing changes) when the caller does not hold the mutex.
    [[nodiscard]] Result<void> release() noexcept {
        if (!held_by_current_thread()) return unexpected(Errc::not_owner);
        // [mutex.owner] relaxed: only the owner writes its own id; cleared before the state is released.
        m_owner.store(0, std::memory_order_relaxed);
        detail::mutex_unlock_state(m_state, Scope);
        return ok();
    }

    /// std-named unlock (void: no error to return). Misuse — the caller is not the owner, or
    /// the mutex is unlocked — traps in every build: the owner compare is the one release()
    /// makes anyway, and it does not depend on the caller's NDEBUG (docs/sync.md, "Trap policy").
    void unlock() noexcept {
        if (!release()) detail::contract_violation("Mutex::unlock() by a thread that does not hold the mutex");
    }

    // ---- blocking
    /// Blocks until the mutex is held. Relocking from the owner (a certain deadlock) traps.
    void lock() noexcept {
        if (const Result<void> r = lock(Deadline::never()); !r) {
            detail::contract_violation(
                r.code() == Errc::would_block ? "Mutex::lock() by the thread that already holds it (deadlock)"
                : r.code() == Errc::exhausted
                    ? "Mutex::lock() failed: the platform's table of parked threads is full (Win32 process-shared wait)"
                    : "Mutex::lock() failed: the platform cannot wait in this scope");
        }
    }

    /// Takes the mutex before the deadline. Errc::timeout: still held by another thread at the
    /// deadline (Deadline::poll() tries once); Errc::would_block: the caller already holds it;
    /// Errc::not_supported: the platform cannot wait on process-shared memory; Errc::exhausted:
    /// the platform's table of parked threads is full (Win32 process-shared waits, 1280 slots).
    [[nodiscard]] Result<void> lock(Deadline deadline) noexcept {
        if (try_lock()) return ok();
        if (held_by_current_thread()) return unexpected(Errc::would_block);
        Result<void> r = detail::mutex_lock_contended(m_state, deadline, Scope);
        if (r) set_owner();
        return r;
    }

    /// TimedLockable adapters: forward to lock(Deadline).
    template <class Rep, class Period>
    [[nodiscard]] bool try_lock_for(std::chrono::duration<Rep, Period> d) noexcept {
        return static_cast<bool>(lock(Deadline::after(d)));
    }
    template <class Clock, class Dur>
    [[nodiscard]] bool try_lock_until(std::chrono::time_point<Clock, Dur> tp) noexcept {
        return static_cast<bool>(lock(Deadline::at(tp)));
    }

    // ---- observers
    /// True when the calling thread holds the mutex. Exact for the caller; no syscall beyond
    /// platform::current_thread_id().
    [[nodiscard]] bool held_by_current_thread() const noexcept {
        // [mutex.owner] relaxed: a thread only ever finds its own id here if it wrote it itself.
        return m_owner.load(std::memory_order_relaxed) == platform::current_thread_id();
    }
    /// True when some thread holds the mutex (a snapshot, like Python's Lock.locked()).
    [[nodiscard]] bool is_locked() const noexcept {
        return m_state.load(std::memory_order_relaxed) != kUnlocked;  // [mutex.peek] relaxed snapshot
    }
    /// True when the mutex is held and a contended locker announced it will sleep (state 2): a
    /// snapshot, for tests and diagnostics (a test waits for it before unlocking, so the wake
    /// path is the one exercised).
    [[nodiscard]] bool has_sleepers() const noexcept {
        return m_state.load(std::memory_order_relaxed) == 2;  // [mutex.peek] relaxed snapshot
    }

private:
    static constexpr std::uint32_t kUnlocked = 0, kLocked = 1;

    void set_owner() noexcept {
        // [mutex.owner] relaxed: written by the new owner after [mutex.lock]; read by held_by_current_thread().
        m_owner.store(platform::current_thread_id(), std::memory_order_relaxed);
    }

    // Written by every locker/unlocker.
    std::atomic<std::uint32_t> m_state{kUnlocked};  ///< 0 unlocked, 1 locked, 2 locked with sleepers
    // Written by the owner only.
    std::atomic<platform::ThreadId> m_owner{0};
};

static_assert(std::atomic<platform::ThreadId>::is_always_lock_free,
              "BasicMutex needs a lock-free atomic ThreadId (address-free, for shared memory)");

/// A mutex for the threads of one process.
using Mutex = BasicMutex<WaitScope::process_private>;
/// A non-robust mutex that may live in shared memory (see the paragraph above).
using SharedMemoryMutex = BasicMutex<WaitScope::process_shared>;

}  // namespace staticrt
