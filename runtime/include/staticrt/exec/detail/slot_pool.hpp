// SPDX-License-Identifier: MIT
// staticrt/exec/detail/slot_pool.hpp — the free list of result slots and waiting for a free one.
//
// SlotPool<P> is the capacity-erased part of ResultSlots: a lock-free free list of recycled slot
// indices (Treiber stack with a 32-bit ABA tag), a bump index over never-used slots (so the
// constructor stays constexpr), and an EventCount for callers waiting for a free slot. close()
// makes a caller blocked in acquire() (and every later one that finds no slot) return
// Errc::closed: a ThreadPool's shutdown() wakes a submit() waiting for a result slot this way.
//
// Home slots (a ThreadPool's pool only): slots [0, homes) are bound one to one to the cells of
// the pool's task queue and never enter the free list. A submitter that has claimed a queue
// position owns that cell, and so the cell's home slot: it takes the slot with a load and a
// store (take_for_cell), and the reader that is done with it frees it with a store (release), so
// the submit -> get() round of a window of futures needs no read-modify-write besides the
// queue's own claim (bench/notes.md, "Futures path: the slot pool's read-modify-writes"). A home
// slot still held when its cell comes round again is skipped: the submitter falls back to the
// free list, or leaves the cell empty and waits for any slot (wait_any_free).
// A header template over the wait policy P (detail/wait_policy.hpp), so the deterministic
// scheduler can run the wait/wake logic; ResultSlots uses SlotPool<OsWaitPolicy>.
//
// Memory ordering: [slot.push] release / [slot.pop] acquire hand a recycled slot's reset state
// to its next owner; the wait for a free slot is the waiting layer's handshake (docs/
// memory-ordering.md, "## waiting layer"): release() pushes, then notify_all().
#pragma once

#include <cstddef>
#include <cstdint>

#include "staticrt/detail/event_count.hpp"
#include "staticrt/detail/late_bind.hpp"
#include "staticrt/detail/wait_policy.hpp"
#include "staticrt/platform/arch.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/time.hpp"

namespace staticrt::detail {

/// The state word of one slot (the futex word a Future waits on).
struct SlotWord {
    static constexpr std::uint32_t kFree = 0;      ///< free: in the free list, or a home slot at home
    static constexpr std::uint32_t kPending = 1;   ///< handed out, no result yet
    static constexpr std::uint32_t kReady = 2;     ///< a Result<T> is stored
    static constexpr std::uint32_t kPhase = 3;     ///< mask of the phase bits
    static constexpr std::uint32_t kWaiter = 4;    ///< a Future sleeps (or is about to) on the word
    static constexpr std::uint32_t kDropped = 8;   ///< the Future was destroyed before the result came
    static constexpr std::uint32_t kFailed = 16;   ///< the writer stored an error of its own (set/set_error)
    static constexpr std::uint32_t kCancelled = 32;  ///< the pool cancelled the task (Errc::closed)
};

template <class P>
class SlotPool;

/// Header of one result slot. The stored Result<T> lives at `data`.
template <class P>
struct BasicResultSlot {
    typename P::template atomic<std::uint32_t> state{SlotWord::kFree};
    /// In the free list: index + 1 of the next free slot, 0 = end. Handed out and shared: the
    /// number of SharedFuture handles (a stale free-list reader is harmless: the tagged head
    /// CAS in try_pop() fails).
    typename P::template atomic<std::uint32_t> next{0};
    SlotPool<P>* owner = nullptr;
    void (*destroy)(void*) noexcept = nullptr;  ///< destroys the stored Result<T>; set by the writer
    void* data = nullptr;
};

template <class P>
class SlotPool {
public:
    using Slot = BasicResultSlot<P>;

    SlotPool(const SlotPool&) = delete;
    SlotPool& operator=(const SlotPool&) = delete;

    /// Takes a free slot. Errc::exhausted (poll deadline) or Errc::timeout when none frees in
    /// time; Errc::closed when none is free and the pool was closed (before or while waiting).
    [[nodiscard]] Result<Slot*> acquire(Deadline deadline) noexcept {
        Slot* got = try_pop();
        if (got == nullptr) {
            if (deadline.is_poll()) return unexpected(Errc::exhausted);
            const Result<void> r = m_free.wait_for(
                [&]() noexcept {
                    if ((got = try_pop()) != nullptr) return Attempt::done;
                    return closed_or_blocked();
                },
                deadline, kNoSpin);
            if (!r) return unexpected(r.error());
        }
        // [slot.claim] relaxed: the slot is ours; Future/Promise reach other threads through a
        // release (the pool's queue publish or the user's own synchronisation).
        got->state.store(SlotWord::kPending, std::memory_order_relaxed);
        return got;
    }

    /// Frees a slot whose result is gone (destroyed or moved out; the caller owns it): a home
    /// slot is marked free in place, any other goes back to the free list. Then wakes callers
    /// waiting for a slot (all of them: a woken waiter may lose the slot to a fast-path caller;
    /// waking all strands nobody).
    void release(Slot* slot) noexcept {
        if (is_home(slot)) {
            // [slot.home.free] release: pairs with [slot.home.take]; the old result's destruction
            // happens-before the next owner's writes. The slot's cell owner is the only taker.
            slot->state.store(SlotWord::kFree, std::memory_order_release);
            m_free.notify_all();  // the waiting layer's notify after the publishing store
            return;
        }
        // [slot.recycle] relaxed: the slot is ours; the release push below publishes it.
        slot->state.store(SlotWord::kFree, std::memory_order_relaxed);
        const std::uint64_t index = std::uint64_t{index_of(slot)} + 1;
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
        m_free.notify_all();  // the waiting layer's notify after the publishing [slot.push]
    }

    /// The home slot of queue cell `cell` (< homes) if it is free, else one from the free list,
    /// else null. The caller owns the cell (it claimed a queue position that maps to it), which
    /// makes it the home slot's only taker.
    [[nodiscard]] Slot* take_for_cell(std::uint32_t cell) noexcept {
        // [slot.home.take] acquire: pairs with [slot.home.free]. Only this cell's owner moves a
        // home slot out of kFree, so a kFree seen here stays ours; a stale "busy" only sends us
        // to the free list.
        Slot* got = cell < m_homes && at(cell)->state.load(std::memory_order_acquire) == SlotWord::kFree
                        ? at(cell)
                        : try_pop();
        if (got != nullptr) got->state.store(SlotWord::kPending, std::memory_order_relaxed);  // [slot.claim]
        return got;
    }

    /// Waits until some slot is free (a free home slot of any cell, or the free list), without
    /// taking it: a submitter whose own cell had none retries with its next queue position.
    /// Errc::exhausted (poll deadline) or Errc::timeout when none frees in time; Errc::closed
    /// when the pool was closed and none is free.
    [[nodiscard]] Result<void> wait_any_free(Deadline deadline) noexcept {
        if (any_free()) return ok();
        if (deadline.is_poll()) return unexpected(Errc::exhausted);
        return m_free.wait_for(
            [&]() noexcept {
                if (any_free()) return Attempt::done;
                return closed_or_blocked();
            },
            deadline, kNoSpin);
    }

    /// From now on acquire() returns Errc::closed instead of waiting (a free slot is still
    /// handed out); wakes every caller blocked in acquire(). Idempotent.
    void close() noexcept {
        m_closed.store(1, std::memory_order_release);  // [slot.close] release: pairs with [slot.closed.load]
        m_free.wake_all();
    }
    /// Callers registered to wait for a free slot (a snapshot; tests wait for one).
    [[nodiscard]] std::uint32_t waiting() const noexcept { return m_free.waiters(); }
    [[nodiscard]] std::size_t capacity() const noexcept { return m_count; }

protected:
    /// Zero-initialised (a constinit pool lands in .bss); ResultSlots binds the slots on first use.
    constexpr SlotPool() noexcept = default;
    ~SlotPool() = default;
    /// Writes the slot table once (later calls return at once); init(i) sets slot i's pointers.
    /// Slots [0, homes) become home slots (never in the free list nor handed out by acquire()).
    /// Slot i's header is at `slots` + i * `stride` bytes: a stride above sizeof(Slot) keeps each
    /// slot's result bytes beside its header (ResultSlots: header and result share a line).
    template <class Init>
    void bind_slots(Slot* slots, std::uint32_t count, Init&& init, std::uint32_t homes = 0,
                    std::size_t stride = sizeof(Slot)) noexcept {
        m_bind.once([&]() noexcept {
            m_slots = slots;
            m_stride = stride;
            m_count = count;
            m_homes = homes < count ? homes : count;
            // [slot.fresh] relaxed: the once-guard publishes the bound table to every caller.
            m_fresh.store(m_homes, std::memory_order_relaxed);
            for (std::uint32_t i = 0; i < count; ++i) init(i);
        });
    }

private:
    /// The end of a waiter's failed attempt: closed once close() ran, else keep waiting.
    [[nodiscard]] Attempt closed_or_blocked() const noexcept {
        // [slot.closed.load] acquire: pairs with [slot.close]; close() bumps the event after its
        // store, so a waiter that misses the flag here is woken.
        return m_closed.load(std::memory_order_acquire) != 0 ? Attempt::closed : Attempt::would_block;
    }

    /// True when a slot is free now: a home slot in state kFree, a recycled one, or a fresh one.
    /// O(homes) in the worst case; only the slow path of a submitter calls it.
    [[nodiscard]] bool any_free() noexcept {
        // [slot.pop] acquire / [slot.fresh] relaxed: a hint; the caller's take validates.
        if ((m_head.load(std::memory_order_acquire) & 0xffffffffu) != 0) return true;
        if (m_fresh.load(std::memory_order_relaxed) < m_count) return true;
        for (std::uint32_t i = 0; i < m_homes; ++i) {
            // [slot.home.take] acquire (a hint here): pairs with [slot.home.free].
            if (at(i)->state.load(std::memory_order_acquire) == SlotWord::kFree) return true;
        }
        return false;
    }

    /// Slot i's header (i < m_count).
    [[nodiscard]] Slot* at(std::uint32_t i) const noexcept {
        return static_cast<Slot*>(static_cast<void*>(reinterpret_cast<std::byte*>(m_slots) + std::size_t{i} * m_stride));
    }
    /// Is `slot` one of the home slots [0, m_homes)? (A compare, no division: release()'s hot path.)
    [[nodiscard]] bool is_home(const Slot* slot) const noexcept {
        return reinterpret_cast<const std::byte*>(slot) < reinterpret_cast<const std::byte*>(at(m_homes));
    }
    [[nodiscard]] std::uint32_t index_of(const Slot* slot) const noexcept {
        return static_cast<std::uint32_t>(
            static_cast<std::size_t>(reinterpret_cast<const std::byte*>(slot) - reinterpret_cast<const std::byte*>(m_slots)) /
            m_stride);
    }

    [[nodiscard]] Slot* try_pop() noexcept {
        // [slot.pop] acquire: pairs with [slot.push]; the popped slot's reset state is visible.
        std::uint64_t head = m_head.load(std::memory_order_acquire);
        while ((head & 0xffffffffu) != 0) {
            Slot* slot = at(static_cast<std::uint32_t>(head & 0xffffffffu) - 1);
            // [slot.link] relaxed: a stale link is harmless: the tag makes the CAS below fail.
            const std::uint64_t next = slot->next.load(std::memory_order_relaxed);
            const std::uint64_t tag = (head >> 32) + 1;
            // [slot.pop] acquire on success (see above); acquire on failure re-reads a pushed head.
            if (m_head.compare_exchange_weak(head, (tag << 32) | next, std::memory_order_acquire,
                                             std::memory_order_acquire)) {
                return slot;
            }
        }
        // Never-used slots: a bump index. [slot.fresh] relaxed: the slot was zero-initialised
        // before any thread could reach the pool; the index only hands out distinct slots.
        std::uint32_t fresh = m_fresh.load(std::memory_order_relaxed);
        while (fresh < m_count) {
            if (m_fresh.compare_exchange_weak(fresh, fresh + 1, std::memory_order_relaxed, std::memory_order_relaxed)) {
                return at(fresh);
            }
        }
        return nullptr;
    }

    /// (tag << 32) | (index + 1) of recycled slots
    alignas(platform::kCacheLine) typename P::template atomic<std::uint64_t> m_head{0};
    typename P::template atomic<std::uint32_t> m_fresh{0};  ///< slots [m_fresh, m_count) were never handed out
    typename P::template atomic<std::uint32_t> m_closed{0};  ///< set by close()
    LateBind m_bind;
    Slot* m_slots = nullptr;
    std::size_t m_stride = 0;  ///< bytes from one slot's header to the next (bind_slots)
    std::uint32_t m_count = 0;
    std::uint32_t m_homes = 0;  ///< slots [0, m_homes) are home slots of queue cells
    alignas(platform::kCacheLine) EventCount<P> m_free;  ///< callers waiting for a free slot
};

}  // namespace staticrt::detail
