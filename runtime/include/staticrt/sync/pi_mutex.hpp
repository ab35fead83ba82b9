// SPDX-License-Identifier: MIT
// staticrt/sync/pi_mutex.hpp — BasicPiMutex<Scope>: a priority-inheritance mutex (PI futex).
//
// While a higher-priority thread waits for a PiMutex, the owner runs at the waiter's priority
// (Linux rt_mutex semantics: transitively along chains of PiMutexes, recomputed when the owner
// releases one of several PiMutexes it holds, in any order), so a medium-priority thread cannot
// starve the owner and the waiter's delay is bounded by the owner's critical section. Use it for
// locks shared between SCHED_FIFO/SCHED_RR threads of different priorities; for everything else
// Mutex is cheaper under contention (it spins before it parks; PiMutex parks at once so the
// kernel can boost the owner).
//
// The state is one 32-bit word (owner id + kernel flag bits, see platform/pi_futex.hpp): no
// pointers, so BasicPiMutex<process_shared> (alias SharedPiMutex) may live in shared memory.
// Robust: when the owner dies holding it, lock(Deadline) returns Errc::owner_died WITH the lock
// held (repair the data, then unlock as usual); lock() treats that as acquired. Limits (id reuse,
// Windows) are in platform/pi_futex.hpp and docs/realtime.md.
// Windows has no priority inheritance: there PiMutex is a plain (non-spinning) mutex with the same
// API; pi_supported() says which you have.
//
// Memory ordering: everything written before unlock() is visible to the thread whose lock()
// acquires the mutex next ([pi.lock] acquire / [pi.unlock] release).
//
//   constinit staticrt::PiMutex g_bus;
//   { std::lock_guard lock(g_bus); write_bus(); }   // from threads of any SCHED_FIFO priority
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "staticrt/platform/pi_futex.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"
#include "staticrt/result.hpp"

namespace staticrt {

using platform::WaitScope;

template <WaitScope Scope>
class BasicPiMutex {
public:
    static constexpr WaitScope kScope = Scope;

    // ---- lifetime: not copyable, not movable (the kernel keys waiters on its address)
    constexpr BasicPiMutex() noexcept = default;
    BasicPiMutex(const BasicPiMutex&) = delete;
    BasicPiMutex& operator=(const BasicPiMutex&) = delete;
    /// A contract violation (trap) when a live thread still holds it.
    ~BasicPiMutex() {
        if ((m_word.load(std::memory_order_relaxed) & platform::kPiOwnerMask) != 0 && held_by_current_thread())
            detail::contract_violation("PiMutex destroyed while locked by the destroying thread");
    }

    /// True where waiters boost the owner (Linux); false on Windows.
    [[nodiscard]] static bool inherits_priority() noexcept { return platform::pi_supported(); }

    // ---- non-blocking
    /// Takes the mutex if it is free. Never enters the kernel (a dead owner is only noticed by lock()).
    [[nodiscard]] bool try_lock() noexcept {
        std::uint32_t expected = 0;
        // [pi.lock] acquire: pairs with [pi.unlock]; the previous owner's writes become visible.
        return m_word.compare_exchange_strong(expected, platform::pi_owner_id(), std::memory_order_acquire,
                                              std::memory_order_relaxed);
    }

    /// Unlocks (waking the highest-priority waiter and ending the caller's boost). Errc::not_owner
    /// (and nothing changes) when the caller does not hold it.
    [[nodiscard]] Result<void> release() noexcept {
        std::uint32_t expected = platform::pi_owner_id();
        // [pi.unlock] release: pairs with the next owner's [pi.lock] acquire.
        if (m_word.compare_exchange_strong(expected, 0, std::memory_order_release, std::memory_order_relaxed))
            return ok();
        return platform::pi_unlock_slow(m_word, Scope);  // waiters (or not the owner)
    }

    /// std-named unlock. Misuse (the caller does not hold it) traps in every build, whatever the
    /// caller's NDEBUG (docs/sync.md, "Trap policy").
    void unlock() noexcept {
        if (!release()) detail::contract_violation("PiMutex::unlock() by a thread that does not hold the mutex");
    }

    // ---- blocking
    /// Blocks until held (Errc::owner_died counts as held). Relocking from the owner traps.
    void lock() noexcept {
        const Result<void> r = lock(Deadline::never());
        if (!r && r.code() != Errc::owner_died) {
            detail::contract_violation(r.code() == Errc::would_block
                                           ? "PiMutex::lock() by the thread that already holds it (deadlock)"
                                           : "PiMutex::lock() failed: the kernel refused the PI futex");
        }
    }

    /// Takes the mutex before the deadline. ok: held. Errc::owner_died: held; the previous owner
    /// died holding it. Errc::timeout: another thread holds it at the deadline (poll() tries once).
    /// Errc::would_block: the caller holds it. Errc::not_supported: no PI futexes (an emulator).
    [[nodiscard]] Result<void> lock(Deadline deadline) noexcept {
        if (try_lock()) return ok();
        return platform::pi_lock_slow(m_word, deadline, Scope);
    }

    template <class Rep, class Period>
    [[nodiscard]] bool try_lock_for(std::chrono::duration<Rep, Period> d) noexcept {
        const Result<void> r = lock(Deadline::after(d));
        return r || r.code() == Errc::owner_died;
    }
    template <class Clock, class Dur>
    [[nodiscard]] bool try_lock_until(std::chrono::time_point<Clock, Dur> tp) noexcept {
        const Result<void> r = lock(Deadline::at(tp));
        return r || r.code() == Errc::owner_died;
    }

    // ---- observers (snapshots)
    [[nodiscard]] bool held_by_current_thread() const noexcept {
        // [pi.peek] relaxed: a thread only finds its own id here if it stored it itself.
        return (m_word.load(std::memory_order_relaxed) & platform::kPiOwnerMask) == platform::pi_owner_id();
    }
    [[nodiscard]] bool is_locked() const noexcept {
        return (m_word.load(std::memory_order_relaxed) & platform::kPiOwnerMask) != 0;  // [pi.peek] relaxed
    }
    /// True when threads are blocked in the kernel waiting for it (the owner is boosted).
    [[nodiscard]] bool has_waiters() const noexcept {
        return (m_word.load(std::memory_order_relaxed) & platform::kPiWaiters) != 0;  // [pi.peek] relaxed
    }
    /// The owner's id (Linux tid / Windows thread id), 0 when free.
    [[nodiscard]] std::uint32_t owner_id() const noexcept {
        return m_word.load(std::memory_order_relaxed) & platform::kPiOwnerMask;  // [pi.peek] relaxed
    }

private:
    std::atomic<std::uint32_t> m_word{0};
};

static_assert(sizeof(BasicPiMutex<WaitScope::process_shared>) == 4, "a PiMutex is one 32-bit word");

/// A PI mutex for the threads of one process.
using PiMutex = BasicPiMutex<WaitScope::process_private>;
/// A PI mutex that may live in memory shared by several processes.
using SharedPiMutex = BasicPiMutex<WaitScope::process_shared>;

}  // namespace staticrt
