// staticrt/queue/detail/parking.hpp — the sleep/wake half of a blocking queue side.
//
// One Parking object per side of a queue ("wait until not empty", "wait until not full").
// A thread that must wait first spins on its attempt (no syscall), yields a few times, then
// registers as a waiter, re-tries, and parks on a 32-bit sequence word with platform::wait().
// The other side calls notify_*() after every state change it publishes: one relaxed load of
// the waiter count (no fence, no RMW), and a syscall only when somebody sleeps.
//
// Memory ordering: a notify that sees the count > 0 wakes through [park.seq.bump] (the futex
// compares the word atomically with going to sleep). A notify that raced the registration
// and read a stale 0 is covered by the bounded first sleep (kBackstopNs) of [park.register].
// See docs/memory-ordering.md, "## queues".
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "staticrt/platform/arch.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/thread.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"

namespace staticrt::queue_detail {

/// What one non-blocking attempt of a blocking call found.
enum class Attempt : std::uint8_t { done, would_block, closed };

/// Spin iterations (each one attempt + cpu_relax) before a blocking call yields. Long enough
/// to cover a cross-core round trip (~60-300 ns here), short enough not to burn a time slice
/// when threads outnumber cores.
inline constexpr std::uint32_t kSpinAttempts = 256;
/// Attempts separated by a yield of the CPU before a blocking call parks: when threads
/// outnumber cores the other side often waits for this very core, and a yield hands it over
/// without two futex syscalls.
inline constexpr std::uint32_t kYieldAttempts = 8;
/// The first sleep of a blocked call lasts at most this long, then re-checks. It only matters
/// when a notify raced the registration of the waiter (see [park.register]): a store becomes
/// visible to other cores within well under a microsecond, so 200 us is a wide margin.
inline constexpr std::int64_t kBackstopNs = 200'000;

template <platform::WaitScope Scope>
class Parking {
public:
    constexpr Parking() noexcept = default;
    Parking(const Parking&) = delete;
    Parking& operator=(const Parking&) = delete;

    /// Called by the other side after it published a change (a release store). Wakes one
    /// sleeper if there is one; otherwise costs one load of a line that only changes when a
    /// thread starts or stops sleeping: no fence, no RMW on the fast path.
    void notify_one() noexcept {
        if (has_waiters()) wake(false);
    }
    /// As notify_one() but wakes every sleeper (batch calls, join()).
    void notify_all() noexcept {
        if (has_waiters()) wake(true);
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
        for (std::uint32_t i = 0; i < kYieldAttempts; ++i) {
            platform::yield_now();
            const Attempt a = attempt();
            if (a != Attempt::would_block) return finish(a);
            if (deadline.expired()) return unexpected(Errc::timeout);
        }
        // [park.register] seq_cst RMW: from here on every notify_*() that loads the count sees
        // this waiter and wakes it. A notify whose count load ran before the increment became
        // visible may have missed it; its publishing store is already on its way to memory (it
        // precedes that load in program order), so the first sleep is bounded by kBackstopNs and
        // the re-try after it sees the change. See docs/memory-ordering.md, "## queues".
        m_waiters.fetch_add(1, std::memory_order_seq_cst);
        bool first = true;
        Result<void> out;
        for (;;) {
            // [park.seq.load] acquire: pairs with [park.seq.bump]; a wake after this load changes
            // the word, so wait() below returns at once instead of sleeping.
            const std::uint32_t seq = m_seq.load(std::memory_order_acquire);
            const Attempt a = attempt();
            if (a != Attempt::would_block) {
                out = finish(a);
                break;
            }
            if (deadline.expired()) {
                out = unexpected(Errc::timeout);
                break;
            }
            Deadline until = deadline;
            if (first) {
                first = false;
                const Deadline backstop = Deadline::after(std::chrono::nanoseconds(kBackstopNs));
                if (backstop.instant() < deadline.instant()) until = backstop;
            }
            const Result<void> w = platform::wait(m_seq, seq, until, Scope);
            if (!w && w.code() != Errc::timeout) {  // not_supported / os_error
                out = w;
                break;
            }
        }
        m_waiters.fetch_sub(1, std::memory_order_relaxed);  // [park.unregister] relaxed: a count only
        return out;
    }

    [[nodiscard]] bool has_waiters() const noexcept {
        // [park.notify.load] relaxed: no fence (see [park.register] for why a stale zero is
        // harmless): the caller's publishing release store precedes it in program order.
        return m_waiters.load(std::memory_order_relaxed) != 0;
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
