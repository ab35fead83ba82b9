// SPDX-License-Identifier: MIT
// staticrt/detail/late_bind.hpp — set an object's self-pointers on first use, not at compile time.
//
// A constinit object whose constant image holds any non-zero byte (a pointer into itself, a
// capacity) is emitted to .data: a copy in the flash image and at start-up. Objects that need
// such fields (ThreadPool's cells/stacks/workers, ResultSlots' headers) keep them zero at
// compile time and write them once, on the first call that needs them, through LateBind::once().
// Concurrent first callers are safe: one writes, the others wait until it finished (a few
// stores; they yield).
//
// Memory ordering: [bind.done] release in once() after the fields are written pairs with the
// [bind.check] acquire of every later bound()/once(): a caller that saw "bound" sees the fields.
#pragma once

#include <atomic>
#include <cstdint>

#include "staticrt/platform/thread.hpp"

namespace staticrt::detail {

class LateBind {
public:
    constexpr LateBind() noexcept = default;
    LateBind(const LateBind&) = delete;
    LateBind& operator=(const LateBind&) = delete;

    /// True once the fields were written. [bind.check] acquire: pairs with [bind.done].
    [[nodiscard]] bool bound() const noexcept { return m_state.load(std::memory_order_acquire) == kBound; }

    /// Runs write() exactly once over the object's lifetime; every caller returns after it finished.
    template <class Write>
    void once(Write&& write) noexcept {
        if (bound()) return;
        std::uint32_t expected = kUnbound;
        // [bind.claim] acquire: only the winner writes; losers wait for [bind.done] below.
        if (m_state.compare_exchange_strong(expected, kBinding, std::memory_order_acquire,
                                            std::memory_order_acquire)) {
            write();
            m_state.store(kBound, std::memory_order_release);  // [bind.done]
            return;
        }
        while (!bound()) platform::yield_now();
    }

private:
    static constexpr std::uint32_t kUnbound = 0, kBinding = 1, kBound = 2;
    std::atomic<std::uint32_t> m_state{kUnbound};
};

}  // namespace staticrt::detail
