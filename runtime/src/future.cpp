// SPDX-License-Identifier: MIT
// Result slots: the free list, waiting for a slot, waiting for a result, dropping a Future.
#include "staticrt/exec/future.hpp"

namespace staticrt::detail {

ResultSlot* SlotPoolBase::try_pop() noexcept {
    // [slot.pop] acquire: pairs with [slot.push]; the popped slot's reset state is visible.
    std::uint64_t head = m_head.load(std::memory_order_acquire);
    while ((head & 0xffffffffu) != 0) {
        ResultSlot* slot = &m_slots[(head & 0xffffffffu) - 1];
        // [slot.link] relaxed: a stale link is harmless: the tag makes the CAS below fail.
        const std::uint64_t next = slot->next.load(std::memory_order_relaxed);
        const std::uint64_t tag = (head >> 32) + 1;
        // [slot.pop] acquire on success (see above); acquire on failure re-reads a pushed head.
        if (m_head.compare_exchange_weak(head, (tag << 32) | next, std::memory_order_acquire,
                                         std::memory_order_acquire)) {
            return slot;
        }
    }
    // Never-used slots: a bump index. [slot.fresh] relaxed: the slot was zero-initialised before
    // any thread could reach the pool; the index only hands out distinct slots.
    std::uint32_t fresh = m_fresh.load(std::memory_order_relaxed);
    while (fresh < m_count) {
        if (m_fresh.compare_exchange_weak(fresh, fresh + 1, std::memory_order_relaxed, std::memory_order_relaxed)) {
            return &m_slots[fresh];
        }
    }
    return nullptr;
}

Result<ResultSlot*> SlotPoolBase::acquire(Deadline deadline) noexcept {
    for (;;) {
        if (ResultSlot* s = try_pop()) {
            // [slot.claim] relaxed: the slot is ours; Future/Promise reach other threads through
            // a release (the pool's queue publish or the user's own synchronisation).
            s->state.store(SlotWord::kPending, std::memory_order_relaxed);
            return s;
        }
        if (deadline.is_poll()) return Errc::exhausted;
        if (deadline.expired()) return Errc::timeout;
        // [slot.wait_enter] seq_cst: Dekker pair with [slot.wake_check] in release(): either the
        // releaser sees our count, or our re-check below sees its pushed slot.
        const std::uint32_t epoch = m_epoch.load(std::memory_order_acquire);
        m_waiters.fetch_add(1, std::memory_order_seq_cst);
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (ResultSlot* s = try_pop()) {
            m_waiters.fetch_sub(1, std::memory_order_relaxed);  // [slot.wait_leave] relaxed: a count
            s->state.store(SlotWord::kPending, std::memory_order_relaxed);  // [slot.claim]
            return s;
        }
        const auto w = platform::wait(m_epoch, epoch, deadline);
        m_waiters.fetch_sub(1, std::memory_order_relaxed);  // [slot.wait_leave]
        if (!w && w.error() == Errc::timeout) {
            if (ResultSlot* s = try_pop()) {
                s->state.store(SlotWord::kPending, std::memory_order_relaxed);  // [slot.claim]
                return s;
            }
            return Errc::timeout;
        }
    }
}

void SlotPoolBase::release(ResultSlot* slot) noexcept {
    const auto index = static_cast<std::uint64_t>(slot - m_slots) + 1;
    std::uint64_t head = m_head.load(std::memory_order_relaxed);
    for (;;) {
        slot->next.store(static_cast<std::uint32_t>(head & 0xffffffffu), std::memory_order_relaxed);  // [slot.link]
        const std::uint64_t tag = (head >> 32) + 1;
        // [slot.push] release: publishes the slot's reset state and link; pairs with [slot.pop].
        if (m_head.compare_exchange_weak(head, (tag << 32) | index, std::memory_order_release,
                                         std::memory_order_relaxed)) {
            break;
        }
    }
    // [slot.wake_check] seq_cst fence + load: pairs with [slot.wait_enter].
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (m_waiters.load(std::memory_order_relaxed) != 0) {
        // [slot.epoch] release: pairs with the acquire epoch load in acquire(). wake_all: a woken
        // waiter may lose the slot to a fast-path caller; waking all avoids a stranded sleeper.
        m_epoch.fetch_add(1, std::memory_order_release);
        platform::wake_all(m_epoch);
    }
}

Result<void> slot_wait(ResultSlot* slot, Deadline deadline) noexcept {
    // A short spin first: results of short tasks usually arrive within a few microseconds.
    for (int i = 0; i < 64; ++i) {
        // [slot.observe] acquire: pairs with [slot.publish]; the stored Result is visible.
        if ((slot->state.load(std::memory_order_acquire) & SlotWord::kPhase) == SlotWord::kReady) return ok();
        if (deadline.is_poll()) return Errc::timeout;
        platform::cpu_relax();
    }
    for (;;) {
        std::uint32_t s = slot->state.load(std::memory_order_acquire);  // [slot.observe]
        if ((s & SlotWord::kPhase) == SlotWord::kReady) return ok();
        if (deadline.expired()) return Errc::timeout;
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
        slot->state.store(SlotWord::kFree, std::memory_order_relaxed);  // [slot.recycle]
        slot->owner->release(slot);
    }
    // Otherwise the writer sees kDropped in [slot.publish] and recycles the slot.
}

}  // namespace staticrt::detail
