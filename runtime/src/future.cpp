// SPDX-License-Identifier: MIT
// Result slots: waiting for a result, dropping a Future (the free list: exec/detail/slot_pool.hpp).
#include "staticrt/exec/future.hpp"

namespace staticrt::detail {

Result<void> slot_wait(ResultSlot* slot, Deadline deadline) noexcept {
    // A short spin first: results of short tasks usually arrive within a few microseconds.
    for (int i = 0; i < 64; ++i) {
        // [slot.observe] acquire: pairs with [slot.publish]; the stored Result is visible.
        if ((slot->state.load(std::memory_order_acquire) & SlotWord::kPhase) == SlotWord::kReady) return ok();
        if (deadline.is_poll()) return unexpected(Errc::timeout);
        platform::cpu_relax();
    }
    for (;;) {
        std::uint32_t s = slot->state.load(std::memory_order_acquire);  // [slot.observe]
        if ((s & SlotWord::kPhase) == SlotWord::kReady) return ok();
        if (deadline.expired()) return unexpected(Errc::timeout);
        if ((s & SlotWord::kWaiter) == 0) {
            // [slot.waiter] relaxed: only announces a sleeper; the exchange in [slot.publish]
            // reads it (RMWs on one word are totally ordered), so no wake-up is lost.
            if (!slot->state.compare_exchange_weak(s, s | SlotWord::kWaiter, std::memory_order_relaxed,
                                                   std::memory_order_relaxed)) {
                continue;
            }
            s |= SlotWord::kWaiter;
        }
        (void)platform::wait(slot->state, s, deadline);
    }
}

void slot_drop(ResultSlot* slot) noexcept {
    // [slot.drop] acq_rel: acquire pairs with [slot.publish] (we may destroy the stored value);
    // release pairs with the writer's acquire so a writer that sees kDropped owns the slot.
    const std::uint32_t prev = slot->state.fetch_or(SlotWord::kDropped, std::memory_order_acq_rel);
    if ((prev & SlotWord::kPhase) == SlotWord::kReady) {
        slot->destroy(slot->data);
        slot->owner->release(slot);  // marks it kFree ([slot.recycle] / [slot.home.free])
    }
    // Otherwise the writer sees kDropped in [slot.publish] and recycles the slot.
}

}  // namespace staticrt::detail
