// SPDX-License-Identifier: MIT
// staticrt/sync/latch.hpp — BasicLatch<Scope>: a single-use countdown (std::latch with errors).
//
// count_down(n) lowers the count; wait() returns once it reached zero (or Errc::timeout at the
// deadline). The count never goes below zero: counting down more than what remains is
// Errc::invalid_argument and changes nothing. The thread that reaches zero wakes the sleepers
// (a syscall only when someone sleeps). No pointers inside: ProcessLatch may live in shared memory.
//
// Memory ordering: everything written before a count_down() is visible to every thread whose
// wait()/try_wait() observed zero ([latch.count_down] pairs with [latch.wait]).
//
//   staticrt::Latch started{4};
//   each worker: (void)started.count_down();      main: (void)started.wait();
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"
#include "staticrt/result.hpp"
#include "staticrt/sync/count.hpp"

namespace staticrt {

using platform::WaitScope;

namespace detail {
[[nodiscard]] Result<void> latch_count_down(std::atomic<std::uint32_t>& count,
                                            const std::atomic<std::uint32_t>& sleepers, std::uint32_t n,
                                            WaitScope scope) noexcept;
[[nodiscard]] Result<void> latch_wait_slow(std::atomic<std::uint32_t>& count, std::atomic<std::uint32_t>& sleepers,
                                           Deadline deadline, WaitScope scope) noexcept;
}  // namespace detail

template <WaitScope Scope>
class BasicLatch {
public:
    static constexpr WaitScope kScope = Scope;

    // ---- lifetime: not copyable, not movable
    constexpr explicit BasicLatch(SyncCount expected) noexcept : m_count(expected.value()) {}
    BasicLatch(const BasicLatch&) = delete;
    BasicLatch& operator=(const BasicLatch&) = delete;
    ~BasicLatch() = default;

    // ---- non-blocking
    /// Lowers the count by n (default 1). Errc::invalid_argument when n exceeds what remains.
    [[nodiscard]] Result<void> count_down(std::uint32_t n = 1) noexcept {
        return detail::latch_count_down(m_count, m_sleepers, n, Scope);
    }
    /// True when the count reached zero.
    [[nodiscard]] bool try_wait() const noexcept {
        // [latch.wait] acquire: pairs with [latch.count_down].
        return m_count.load(std::memory_order_acquire) == 0;
    }

    // ---- blocking
    /// Waits until the count is zero. Errc::timeout at the deadline.
    [[nodiscard]] Result<void> wait(Deadline deadline = Deadline::never()) noexcept {
        if (try_wait()) return ok();
        return detail::latch_wait_slow(m_count, m_sleepers, deadline, Scope);
    }
    template <class Rep, class Period>
    [[nodiscard]] Result<void> wait_for(std::chrono::duration<Rep, Period> d) noexcept {
        return wait(Deadline::after(d));
    }
    /// count_down(n), then wait(deadline).
    [[nodiscard]] Result<void> arrive_and_wait(std::uint32_t n = 1, Deadline deadline = Deadline::never()) noexcept {
        if (Result<void> r = count_down(n); !r) return r;
        return wait(deadline);
    }

    // ---- observers
    [[nodiscard]] std::uint32_t count() const noexcept { return m_count.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint32_t> m_count;        ///< written by count_down()
    std::atomic<std::uint32_t> m_sleepers{0};  ///< threads registered to sleep in wait()
};

using Latch = BasicLatch<WaitScope::process_private>;
using ProcessLatch = BasicLatch<WaitScope::process_shared>;

}  // namespace staticrt
