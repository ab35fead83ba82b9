// staticrt/queue/detail/parking.hpp — the sleep/wake half of a blocking queue side.
//
// One Parking object per side of a queue ("wait until not empty", "wait until not full").
// A thread that must wait first spins on its attempt (no syscall), then registers as a
// waiter, re-tries once, and parks on a 32-bit sequence word with platform::wait(). The
// other side calls notify_*() after every state change it publishes: a full fence and one
// load of the waiter count, and a syscall only when somebody sleeps.
//
// Memory ordering: the Dekker pair [park.register] / [park.notify.fence] guarantees that
// either the waker sees the waiter count > 0, or the waiter's re-try sees the waker's
// published state: no lost wake-up. See docs/memory-ordering.md, "## queues".
#pragma once

#include <atomic>
#include <cstdint>

#include "staticrt/platform/arch.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"

namespace staticrt::queue_detail {

/// What one non-blocking attempt of a blocking call found.
enum class Attempt : std::uint8_t { done, would_block, closed };

/// Spin iterations (each one attempt + cpu_relax) before a blocking call parks. Long enough
/// to cover a cross-core round trip (~60-300 ns here), short enough not to burn a time slice
/// when threads outnumber cores.
inline constexpr std::uint32_t kSpinAttempts = 256;

template <platform::WaitScope Scope>
class Parking {
public:
    constexpr Parking() noexcept = default;
    Parking(const Parking&) = delete;
    Parking& operator=(const Parking&) = delete;

    /// Called by the other side after it published a change (a release store). Wakes one
    /// sleeper if there is one; otherwise costs a fence (g++: `lock or` on the stack) and a load.
    void notify_one() noexcept {
        // [park.notify.fence] seq_cst fence: orders the caller's publishing store before the
        // waiter-count load; pairs with [park.register] (store-buffer / Dekker pattern).
        std::atomic_thread_fence(std::memory_order_seq_cst);
        // [park.notify.load] relaxed: the fence above gives the ordering.
        if (m_waiters.load(std::memory_order_relaxed) != 0) wake(false);
    }
    /// As notify_one() but wakes every sleeper (close(), batch calls, join()).
    void notify_all() noexcept {
        std::atomic_thread_fence(std::memory_order_seq_cst);  // [park.notify.fence] as above
        if (m_waiters.load(std::memory_order_relaxed) != 0) wake(true);
    }
    /// Wakes everybody unconditionally (close()).
    void wake_everyone() noexcept { wake(true); }

    /// Runs attempt() until it returns done/closed or the deadline passes (Errc::timeout).
    template <class Fn>
    [[nodiscard]] Result<void> wait_for(Fn&& attempt, Deadline deadline) noexcept {
        for (std::uint32_t i = 0; i < kSpinAttempts; ++i) {
            const Attempt a = attempt();
            if (a != Attempt::would_block) return finish(a);
            if (deadline.is_poll()) return unexpected(Errc::timeout);
            platform::cpu_relax();
        }
        for (;;) {
            // [park.register] seq_cst RMW + fence: the waiter count is visible before the re-try
            // below reads the queue state; pairs with [park.notify.fence].
            m_waiters.fetch_add(1, std::memory_order_seq_cst);
            std::atomic_thread_fence(std::memory_order_seq_cst);
            // [park.seq.load] acquire: a wake after this load changes the word, so wait() returns.
            const std::uint32_t seq = m_seq.load(std::memory_order_acquire);
            Attempt a = attempt();
            if (a != Attempt::would_block) {
                m_waiters.fetch_sub(1, std::memory_order_relaxed);  // [park.unregister] relaxed: a count only
                return finish(a);
            }
            const Result<void> w = platform::wait(m_seq, seq, deadline, Scope);
            m_waiters.fetch_sub(1, std::memory_order_relaxed);  // [park.unregister]
            if (!w && w.code() != Errc::timeout) return w;  // not_supported / os_error
            a = attempt();
            if (a != Attempt::would_block) return finish(a);
            if (!w || deadline.expired()) return unexpected(Errc::timeout);
        }
    }

    [[nodiscard]] std::uint32_t waiters() const noexcept { return m_waiters.load(std::memory_order_relaxed); }

private:
    static Result<void> finish(Attempt a) noexcept {
        return a == Attempt::done ? ok() : Result<void>(unexpected(Errc::closed));
    }
    void wake(bool all) noexcept {
        // [park.seq.bump] release: a sleeper whose wait() compared an older value returns.
        m_seq.fetch_add(1, std::memory_order_release);
        if (all) platform::wake_all(m_seq, Scope);
        else platform::wake_one(m_seq, Scope);
    }

    std::atomic<std::uint32_t> m_seq{0};      // bumped by wakers
    std::atomic<std::uint32_t> m_waiters{0};  // sleepers of this side
};

}  // namespace staticrt::queue_detail
