// SPDX-License-Identifier: MIT
// staticrt/exec/future.hpp — Future<T> / Promise<T> over a fixed pool of result slots.
//
// A ResultSlots<Slots, SlotBytes> object owns `Slots` slots of `SlotBytes` bytes each; make<T>()
// takes one free slot and returns the two ends of a one-shot channel: the Promise (writer, any
// thread, once) and the Future (reader, one thread at a time). The slot goes back to the pool
// when the Future is consumed (get() returned) or destroyed, and the Promise has written — in
// whichever order those happen. A Promise destroyed without writing stores Errc::broken.
// No heap: a slot stores a Result<T> inline; a T too large for the slot is a compile error.
//
// Two ways to read: get() is the one-shot move-out (fastest: the slot is recycled at once, the
// Future becomes empty); result() copies the stored Result and leaves it in place (Python's
// Future.result(): may be called again; done()/cancelled()/failed()/error() keep answering).
// share() turns a Future into a SharedFuture: copyable handles that any number of threads may
// wait on and read (a reference count in the slot header, no heap; the slot is recycled when the
// last handle goes).
//
// Memory ordering: everything the writer did before set_value()/set_error() happens-before
// a get()/result()/wait() that observes the result ([slot.publish] release / [slot.observe] acquire).
//
//   staticrt::ResultSlots<16> slots;
//   auto pair = slots.make<int>();                      // Errc::exhausted when all 16 are in use
//   pair->promise.set_value(42); int v = *pair->future.get();
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "staticrt/exec/detail/slot_pool.hpp"
#include "staticrt/platform/arch.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"

namespace staticrt {

template <class T>
class Future;
template <class T>
class Promise;
template <std::size_t Workers, std::size_t QueueCapacity, std::size_t StackBytes, std::size_t TaskBytes,
          std::size_t ResultSlotCount, std::size_t ResultBytes>
class ThreadPool;
template <class T>
class SharedFuture;

/// A task's own failure, which no pool or future signal (closed, timeout, broken, ...) can be
/// confused with: Errc::task_failed, with the task's code (an int or any enum) in Error::os_code.
///   enum class ParseError { bad_digit = 1, overflow };
///   return staticrt::task_error(ParseError::overflow);   // from a task returning Result<int>
template <class E>
[[nodiscard]] constexpr Unexpected task_error(E code) noexcept {
    return Unexpected{Error{Errc::task_failed, static_cast<int>(code)}};
}
/// The task's own code when `e` is a task_error(), else std::nullopt (a pool/future signal).
template <class E = int>
[[nodiscard]] constexpr std::optional<E> task_error_code(const Error& e) noexcept {
    if (e.code != Errc::task_failed) return std::nullopt;
    return static_cast<E>(e.os_code);
}

namespace detail {

/// The slot types the public ends use: the OS wait policy.
using ResultSlot = BasicResultSlot<OsWaitPolicy>;
using SlotPoolBase = SlotPool<OsWaitPolicy>;

/// Stores a Result<T> in a slot and publishes it. Any thread, once per slot hand-out.
template <class T>
void slot_set(ResultSlot* slot, Result<T>&& value, std::uint32_t origin) noexcept {
    ::new (slot->data) Result<T>(std::move(value));
    slot->destroy = [](void* p) noexcept { static_cast<Result<T>*>(p)->~Result<T>(); };
    // [slot.publish] acq_rel: release makes the stored Result visible to [slot.observe]; acquire
    // pairs with [slot.drop] so a writer that sees kDropped may free the slot it now owns.
    const std::uint32_t prev = slot->state.exchange(SlotWord::kReady | origin, std::memory_order_acq_rel);
    if ((prev & SlotWord::kDropped) != 0) {
        slot->destroy(slot->data);
        slot->owner->release(slot);  // marks it kFree ([slot.recycle] / [slot.home.free])
    } else if ((prev & SlotWord::kWaiter) != 0) {
        platform::wake_all(slot->state);
    }
}

/// Waits until the slot is ready. Errc::timeout at the deadline.
Result<void> slot_wait(ResultSlot* slot, Deadline deadline) noexcept;
/// Reader gives up the slot (Future destroyed or consumed).
void slot_drop(ResultSlot* slot) noexcept;

/// 0 when not ready (or no slot); else kReady plus the origin bits (kFailed / kCancelled).
inline std::uint32_t slot_flags(const ResultSlot* slot) noexcept {
    if (slot == nullptr) return 0;
    // [slot.peek] acquire: pairs with [slot.publish]; a ready answer makes the result visible.
    const std::uint32_t s = slot->state.load(std::memory_order_acquire);
    if ((s & SlotWord::kPhase) != SlotWord::kReady) return 0;
    return s & (SlotWord::kPhase | SlotWord::kFailed | SlotWord::kCancelled);
}
template <class T>
Error slot_error(const ResultSlot* slot) noexcept {
    if (slot_flags(slot) == 0) return Error{};
    const auto* r = static_cast<const Result<T>*>(slot->data);
    return r->has_value() ? Error{} : r->error();
}

/// What every end (Future, Promise, SharedFuture) is: one slot pointer, moved (never copied
/// here); moving onto a live end first lets its slot go through Derived::let_go().
template <class Derived>
class SlotEnd {
public:
    /// False once the end was moved from, consumed or reset.
    [[nodiscard]] bool valid() const noexcept { return m_slot != nullptr; }

protected:
    constexpr SlotEnd() noexcept = default;
    explicit SlotEnd(ResultSlot* s) noexcept : m_slot(s) {}
    SlotEnd(SlotEnd&& o) noexcept : m_slot(std::exchange(o.m_slot, nullptr)) {}
    SlotEnd& operator=(SlotEnd&& o) noexcept {
        if (this != &o) {
            static_cast<Derived*>(this)->let_go();
            m_slot = std::exchange(o.m_slot, nullptr);
        }
        return *this;
    }
    ~SlotEnd() = default;

    ResultSlot* m_slot = nullptr;
};

/// The reading calls Future and SharedFuture share: observers that never block, wait() and
/// result() (copies the stored Result out, leaving it in place).
template <class Derived, class T>
class ReadEnd : public SlotEnd<Derived> {
public:
    /// True when the result is in: get()/result()/wait() would not block. Never blocks.
    [[nodiscard]] bool done() const noexcept { return slot_flags(this->m_slot) != 0; }
    /// Done, and the pool cancelled the task (shutdown(cancel)): the result is Errc::closed.
    [[nodiscard]] bool cancelled() const noexcept { return (slot_flags(this->m_slot) & SlotWord::kCancelled) != 0; }
    /// Done, and the task (or the promise's writer) stored an error of its own: a failed
    /// Result returned by the task. Not set by pool signals (cancel: closed; dropped promise: broken).
    [[nodiscard]] bool failed() const noexcept { return (slot_flags(this->m_slot) & SlotWord::kFailed) != 0; }
    /// The stored error (Python's Future.exception() without waiting): Error{} (Errc::ok) when
    /// not done or the result is a value. Never blocks, never consumes.
    [[nodiscard]] Error error() const noexcept { return slot_error<T>(this->m_slot); }

    /// Waits for the result. Errc::timeout at the deadline (the end stays valid);
    /// Errc::invalid_argument when !valid().
    [[nodiscard]] Result<void> wait(Deadline deadline = Deadline::never()) const noexcept {
        if (this->m_slot == nullptr) return unexpected(Errc::invalid_argument);
        return slot_wait(this->m_slot, deadline);
    }
    /// Waits and copies the result out, leaving it in place (Python's Future.result()): may be
    /// called again, and done()/failed()/error() keep answering. Errc::timeout /
    /// invalid_argument as wait(). T must be copyable.
    [[nodiscard]] Result<T> result(Deadline deadline = Deadline::never()) const noexcept
        requires(std::is_void_v<T> || std::is_copy_constructible_v<T>)
    {
        if (this->m_slot == nullptr) return unexpected(Errc::invalid_argument);
        if (auto w = slot_wait(this->m_slot, deadline); !w) return unexpected(w.error());
        return *static_cast<const Result<T>*>(this->m_slot->data);
    }

protected:
    using SlotEnd<Derived>::SlotEnd;
};

}  // namespace detail

/// The reading end. Move-only, one pointer. Waiting from two threads at once is not supported.
template <class T>
class Future : public detail::ReadEnd<Future<T>, T> {
public:
    using value_type = T;

    constexpr Future() noexcept = default;
    Future(const Future&) = delete;
    Future& operator=(const Future&) = delete;
    Future(Future&&) noexcept = default;
    Future& operator=(Future&&) noexcept = default;
    /// Gives the slot back (at once when the result is in, else when the writer finishes).
    ~Future() { reset(); }

    // valid(), done(), cancelled(), failed(), error(), wait(d), result(d): detail::ReadEnd.
    /// True when get()/result() would not block (the same as done()). Stays true after
    /// result() (not after get(), which empties the Future).
    [[nodiscard]] bool ready() const noexcept { return this->done(); }
    /// std-style helper, a one-line forward: wait(Deadline::after(d)).
    template <class Rep, class Period>
    [[nodiscard]] Result<void> wait_for(std::chrono::duration<Rep, Period> d) const noexcept {
        return this->wait(Deadline::after(d));
    }
    /// std-style helper, a one-line forward: wait(Deadline::at(tp)).
    template <class Clock, class Dur>
    [[nodiscard]] Result<void> wait_until(std::chrono::time_point<Clock, Dur> tp) const noexcept {
        return this->wait(Deadline::at(tp));
    }

    /// Waits and takes the result: the task's value, or its error (Errc::closed when the pool
    /// cancelled it, Errc::broken when the promise was dropped, the task's own error when it
    /// returned a failed Result). Consumes the Future (valid() becomes false) unless it returns
    /// Errc::timeout (deadline passed) or Errc::invalid_argument (!valid()).
    [[nodiscard]] Result<T> get(Deadline deadline = Deadline::never()) noexcept {
        if (m_slot == nullptr) return unexpected(Errc::invalid_argument);
        if (auto w = detail::slot_wait(m_slot, deadline); !w) return unexpected(w.error());
        auto* stored = static_cast<Result<T>*>(m_slot->data);
        Result<T> out(std::move(*stored));
        m_slot->destroy(m_slot->data);
        detail::ResultSlot* s = std::exchange(m_slot, nullptr);
        // The slot is exclusively ours (ready + reader): release() marks it kFree and publishes
        // it ([slot.recycle] + [slot.push], or [slot.home.free]).
        s->owner->release(s);
        return out;
    }
    /// Python-style helper, a one-line forward: get(Deadline::after(d)).
    template <class Rep, class Period>
    [[nodiscard]] Result<T> get_for(std::chrono::duration<Rep, Period> d) noexcept { return get(Deadline::after(d)); }

    /// Moves this Future into a SharedFuture (this becomes empty). The slot stays in use until
    /// the last SharedFuture handle is gone.
    [[nodiscard]] SharedFuture<T> share() noexcept { return SharedFuture<T>(std::exchange(m_slot, nullptr)); }

    /// Drops the Future without taking the result.
    void reset() noexcept {
        if (m_slot != nullptr) detail::slot_drop(std::exchange(m_slot, nullptr));
    }

private:
    template <std::size_t, std::size_t>
    friend class ResultSlots;
    friend class detail::SlotEnd<Future>;
    using detail::SlotEnd<Future>::m_slot;
    explicit Future(detail::ResultSlot* s) noexcept : detail::ReadEnd<Future, T>(s) {}
    void let_go() noexcept { reset(); }
};

/// The writing end. Move-only, one pointer. Write once from any thread.
template <class T>
class Promise : public detail::SlotEnd<Promise<T>> {
public:
    constexpr Promise() noexcept = default;
    Promise(const Promise&) = delete;
    Promise& operator=(const Promise&) = delete;
    Promise(Promise&&) noexcept = default;
    Promise& operator=(Promise&&) noexcept = default;
    /// A promise never written stores Errc::broken, so its Future never waits forever.
    ~Promise() { abandon(); }

    // valid(): detail::SlotEnd.

    /// Stores the result (value or error) and wakes the Future. Errc::invalid_argument when
    /// already written or moved from.
    Result<void> set(Result<T>&& r) noexcept {
        if (m_slot == nullptr) return unexpected(Errc::invalid_argument);
        const std::uint32_t origin = r ? 0 : detail::SlotWord::kFailed;
        detail::slot_set<T>(std::exchange(m_slot, nullptr), std::move(r), origin);
        return ok();
    }
    /// Stores Errc::closed as "cancelled" (Future::cancelled() is true, failed() false).
    Result<void> cancel() noexcept {
        if (m_slot == nullptr) return unexpected(Errc::invalid_argument);
        detail::slot_set<T>(std::exchange(m_slot, nullptr), Result<T>(unexpected(Errc::closed)),
                            detail::SlotWord::kCancelled);
        return ok();
    }
    template <class U = T>
        requires(!std::is_void_v<U>)
    Result<void> set_value(U&& v) noexcept {
        return set(Result<T>(std::forward<U>(v)));
    }
    Result<void> set_value() noexcept
        requires std::is_void_v<T>
    {
        return set(Result<T>());
    }
    Result<void> set_error(Error e) noexcept { return set(Result<T>(unexpected(e))); }

private:
    template <std::size_t, std::size_t>
    friend class ResultSlots;
    friend class detail::SlotEnd<Promise>;
    using detail::SlotEnd<Promise>::m_slot;
    explicit Promise(detail::ResultSlot* s) noexcept : detail::SlotEnd<Promise>(s) {}
    void abandon() noexcept {
        if (m_slot != nullptr) detail::slot_set<T>(std::exchange(m_slot, nullptr), Result<T>(unexpected(Errc::broken)), 0);
    }
    void let_go() noexcept { abandon(); }
};

/// A copyable reading end that several threads may wait on and read at once (Python: one
/// Future object seen by many threads). Made by Future::share(). No heap: the handle count lives
/// in the slot header's link word (unused while the slot is handed out). Cost: one relaxed RMW
/// per copy and one acq_rel RMW per destroyed handle, on the slot's line; waiting threads share
/// the slot's futex word and the writer wakes them all. result() copies (T must be copyable);
/// there is no move-out get() here, since other handles may still read the value.
template <class T>
class SharedFuture : public detail::ReadEnd<SharedFuture<T>, T> {
public:
    using value_type = T;

    constexpr SharedFuture() noexcept = default;
    SharedFuture(const SharedFuture& o) noexcept : detail::ReadEnd<SharedFuture, T>(o.m_slot) { add_ref(); }
    SharedFuture& operator=(const SharedFuture& o) noexcept {
        if (this != &o) { release(); m_slot = o.m_slot; add_ref(); }
        return *this;
    }
    SharedFuture(SharedFuture&&) noexcept = default;
    SharedFuture& operator=(SharedFuture&&) noexcept = default;
    /// The last handle gives the slot back (at once when the result is in, else when the writer finishes).
    ~SharedFuture() { release(); }

    // valid(), done(), cancelled(), failed(), error(), wait(d), result(d): detail::ReadEnd;
    // any thread, any number at once.

private:
    friend class Future<T>;
    friend class detail::SlotEnd<SharedFuture>;
    using detail::SlotEnd<SharedFuture>::m_slot;
    explicit SharedFuture(detail::ResultSlot* s) noexcept : detail::ReadEnd<SharedFuture, T>(s) {
        // [slot.share] relaxed: the handle that carries the slot to other threads is published
        // by the user's own synchronisation (thread start, a queue, ...).
        if (m_slot != nullptr) m_slot->next.store(1, std::memory_order_relaxed);
    }
    void add_ref() noexcept {
        // [slot.share] relaxed: the copy is made from a live handle, so the count is >= 1.
        if (m_slot != nullptr) m_slot->next.fetch_add(1, std::memory_order_relaxed);
    }
    void release() noexcept {
        if (m_slot == nullptr) return;
        // [slot.unshare] acq_rel: every other handle's reads happen-before the last one drops the slot.
        if (m_slot->next.fetch_sub(1, std::memory_order_acq_rel) == 1) detail::slot_drop(m_slot);
        m_slot = nullptr;
    }
    void let_go() noexcept { release(); }
};

template <class T>
struct PromiseFuture {
    Promise<T> promise;
    Future<T> future;
};

/// `Slots` result slots of `SlotBytes` bytes. constexpr-constructible (constinit globals).
template <std::size_t Slots, std::size_t SlotBytes = 32>
class ResultSlots : public detail::SlotPoolBase {
    static_assert(Slots > 0, "ResultSlots needs at least one slot: use Slots >= 1, e.g. 64");
    static_assert(Slots < (std::size_t{1} << 24), "ResultSlots: at most 2^24 - 1 slots");
    static_assert(SlotBytes >= sizeof(Result<void>) && SlotBytes % alignof(std::max_align_t) == 0,
                  "ResultSlots: SlotBytes must be a multiple of alignof(std::max_align_t) (16), e.g. 32");

public:
    /// All zero (constinit: .bss); the slots' self-pointers are written by prepare() or the first make().
    constexpr ResultSlots() noexcept = default;
    ResultSlots(const ResultSlots&) = delete;
    ResultSlots& operator=(const ResultSlots&) = delete;
    /// Every Future and Promise of this pool must be gone first.
    ~ResultSlots() = default;

    /// Static RAM: sizeof (headers and inline result storage).
    static const std::size_t static_bytes;
    [[nodiscard]] static constexpr std::size_t capacity() noexcept { return Slots; }

    /// Writes the slots' self-pointers now (idempotent; the first make() does it otherwise).
    void prepare() noexcept { prepare(0); }
    /// As SlotPoolBase::acquire(), after prepare().
    [[nodiscard]] Result<detail::ResultSlot*> acquire(Deadline deadline) noexcept {
        prepare();
        return detail::SlotPoolBase::acquire(deadline);
    }

    template <class T>
    static constexpr bool fits = sizeof(Result<T>) <= SlotBytes && alignof(Result<T>) <= alignof(std::max_align_t);

    /// A connected Promise/Future pair. Errc::exhausted when every slot is in use (poll), or
    /// Errc::timeout when none frees before `deadline`.
    template <class T>
    [[nodiscard]] Result<PromiseFuture<T>> make(Deadline deadline = Deadline::poll()) noexcept {
        static_assert(fits<T>, "ResultSlots: Result<T> is larger than SlotBytes: raise the SlotBytes template argument");
        auto s = acquire(deadline);  // prepares the slots on first use
        if (!s) return unexpected(s.error());
        return PromiseFuture<T>{Promise<T>(*s), Future<T>(*s)};
    }

private:
    template <std::size_t, std::size_t, std::size_t, std::size_t, std::size_t, std::size_t>
    friend class ThreadPool;

    /// ThreadPool's binding: slots [0, homes) become the home slots of its queue cells.
    void prepare(std::uint32_t homes) noexcept {
        bind_slots(
            &m_entries[0].header, static_cast<std::uint32_t>(Slots),
            [this](std::uint32_t i) noexcept {
                m_entries[i].header.owner = this;
                m_entries[i].header.data = m_entries[i].bytes;
            },
            homes, sizeof(Entry));
    }
    /// A pair over cell `cell`'s home slot or a free-list slot (detail::SlotPool::take_for_cell),
    /// or Errc::exhausted when neither is free now. The caller owns the cell.
    template <class T>
    [[nodiscard]] Result<PromiseFuture<T>> make_for_cell(std::uint32_t cell) noexcept {
        detail::ResultSlot* s = take_for_cell(cell);
        if (s == nullptr) return unexpected(Errc::exhausted);
        return PromiseFuture<T>{Promise<T>(s), Future<T>(s)};
    }

    /// One slot: its header and its result bytes side by side, so the writer's result and
    /// state word and the reader's loads meet in one cache line (with the default 32 bytes on a
    /// 64-bit target, an entry is one line), and neighbouring slots written by two workers at
    /// once do not share a header line (bench/notes.md, "Futures path: one line per result").
    struct Entry {
        detail::ResultSlot header;
        alignas(std::max_align_t) std::byte bytes[SlotBytes] = {};
    };
    // bind_slots() steps from header to header by sizeof(Entry): the header must start its entry.
    static_assert(std::is_standard_layout_v<Entry> && offsetof(Entry, header) == 0);
    alignas(platform::kCacheLine) Entry m_entries[Slots] = {};
};

template <std::size_t Slots, std::size_t SlotBytes>
constexpr std::size_t ResultSlots<Slots, SlotBytes>::static_bytes = sizeof(ResultSlots<Slots, SlotBytes>);

}  // namespace staticrt
