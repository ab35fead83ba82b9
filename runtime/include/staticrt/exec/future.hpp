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

#include "staticrt/detail/late_bind.hpp"
#include "staticrt/platform/arch.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"

namespace staticrt {

template <class T>
class Future;
template <class T>
class Promise;
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

/// The state word of one slot (the futex word a Future waits on).
struct SlotWord {
    static constexpr std::uint32_t kFree = 0;      ///< in the free list
    static constexpr std::uint32_t kPending = 1;   ///< handed out, no result yet
    static constexpr std::uint32_t kReady = 2;     ///< a Result<T> is stored
    static constexpr std::uint32_t kPhase = 3;     ///< mask of the phase bits
    static constexpr std::uint32_t kWaiter = 4;    ///< a Future sleeps (or is about to) on the word
    static constexpr std::uint32_t kDropped = 8;   ///< the Future was destroyed before the result came
    static constexpr std::uint32_t kFailed = 16;   ///< the writer stored an error of its own (set/set_error)
    static constexpr std::uint32_t kCancelled = 32;  ///< the pool cancelled the task (Errc::closed)
};

class SlotPoolBase;

/// Header of one result slot. The stored Result<T> lives at `data`.
struct ResultSlot {
    std::atomic<std::uint32_t> state{SlotWord::kFree};
    /// In the free list: index + 1 of the next free slot, 0 = end. Handed out and shared: the
    /// number of SharedFuture handles (a stale free-list reader is harmless: the tagged head
    /// CAS in try_pop() fails).
    std::atomic<std::uint32_t> next{0};
    SlotPoolBase* owner = nullptr;
    void (*destroy)(void*) noexcept = nullptr;  ///< destroys the stored Result<T>; set by the writer
    void* data = nullptr;
};

/// The capacity-erased part of ResultSlots: a lock-free free list of slot indices (Treiber
/// stack with a 32-bit ABA tag) of recycled slots, a bump index over never-used ones (so the
/// constructor stays constexpr), plus a futex word for callers waiting for a free slot.
class SlotPoolBase {
public:
    SlotPoolBase(const SlotPoolBase&) = delete;
    SlotPoolBase& operator=(const SlotPoolBase&) = delete;

    /// Takes a free slot; Errc::exhausted (poll deadline) or Errc::timeout when none frees in time.
    [[nodiscard]] Result<ResultSlot*> acquire(Deadline deadline) noexcept;
    /// Returns a slot to the free list and wakes callers waiting for one.
    void release(ResultSlot* slot) noexcept;
    [[nodiscard]] std::size_t capacity() const noexcept { return m_count; }

protected:
    /// Zero-initialised (a constinit pool lands in .bss); ResultSlots binds the slots on first use.
    constexpr SlotPoolBase() noexcept = default;
    ~SlotPoolBase() = default;
    /// Writes the slot table once (later calls return at once); init(i) sets slot i's pointers.
    template <class Init>
    void bind_slots(ResultSlot* slots, std::uint32_t count, Init&& init) noexcept {
        m_bind.once([&]() noexcept {
            m_slots = slots;
            m_count = count;
            for (std::uint32_t i = 0; i < count; ++i) init(i);
        });
    }

private:
    [[nodiscard]] ResultSlot* try_pop() noexcept;

    alignas(platform::kCacheLine) std::atomic<std::uint64_t> m_head{0};  ///< (tag << 32) | (index + 1) of recycled slots
    std::atomic<std::uint32_t> m_fresh{0};  ///< slots [m_fresh, m_count) were never handed out
    LateBind m_bind;
    ResultSlot* m_slots = nullptr;
    std::uint32_t m_count = 0;
    alignas(platform::kCacheLine) std::atomic<std::uint32_t> m_waiters{0};
    std::atomic<std::uint32_t> m_epoch{0};
};

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
        slot->state.store(SlotWord::kFree, std::memory_order_relaxed);  // [slot.recycle]
        slot->owner->release(slot);
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

}  // namespace detail

/// The reading end. Move-only, one pointer. Waiting from two threads at once is not supported.
template <class T>
class Future {
public:
    using value_type = T;

    constexpr Future() noexcept = default;
    Future(const Future&) = delete;
    Future& operator=(const Future&) = delete;
    Future(Future&& o) noexcept : m_slot(std::exchange(o.m_slot, nullptr)) {}
    Future& operator=(Future&& o) noexcept {
        if (this != &o) { reset(); m_slot = std::exchange(o.m_slot, nullptr); }
        return *this;
    }
    /// Gives the slot back (at once when the result is in, else when the writer finishes).
    ~Future() { reset(); }

    /// True until get() returned a result (or the Future was moved from / reset / shared).
    [[nodiscard]] bool valid() const noexcept { return m_slot != nullptr; }
    /// True when get()/result() would not block. Never blocks. Stays true after result() (not
    /// after get(), which empties the Future).
    [[nodiscard]] bool ready() const noexcept { return detail::slot_flags(m_slot) != 0; }
    /// Python's Future.done(): the same as ready().
    [[nodiscard]] bool done() const noexcept { return ready(); }
    /// Done, and the pool cancelled the task (shutdown(cancel)): the result is Errc::closed.
    [[nodiscard]] bool cancelled() const noexcept { return (detail::slot_flags(m_slot) & detail::SlotWord::kCancelled) != 0; }
    /// Done, and the task (or the promise's writer) stored an error of its own: a failed
    /// Result returned by the task. Not set by pool signals (cancel: closed; dropped promise: broken).
    [[nodiscard]] bool failed() const noexcept { return (detail::slot_flags(m_slot) & detail::SlotWord::kFailed) != 0; }
    /// The stored error (Python's Future.exception() without waiting): Error{} (Errc::ok) when
    /// not done or the result is a value. Never blocks, never consumes.
    [[nodiscard]] Error error() const noexcept { return detail::slot_error<T>(m_slot); }

    /// Waits for the result. Errc::timeout at the deadline (the Future stays valid);
    /// Errc::invalid_argument when !valid().
    [[nodiscard]] Result<void> wait(Deadline deadline = Deadline::never()) const noexcept {
        if (m_slot == nullptr) return Errc::invalid_argument;
        return detail::slot_wait(m_slot, deadline);
    }
    /// std-style helper, a one-line forward: wait(Deadline::after(d)).
    template <class Rep, class Period>
    [[nodiscard]] Result<void> wait_for(std::chrono::duration<Rep, Period> d) const noexcept {
        return wait(Deadline::after(d));
    }
    /// std-style helper, a one-line forward: wait(Deadline::at(tp)).
    template <class Clock, class Dur>
    [[nodiscard]] Result<void> wait_until(std::chrono::time_point<Clock, Dur> tp) const noexcept {
        return wait(Deadline::at(tp));
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
        // [slot.recycle] relaxed: the slot is exclusively ours (ready + reader); the free list's
        // release push publishes the reset state to the next owner.
        s->state.store(detail::SlotWord::kFree, std::memory_order_relaxed);
        s->owner->release(s);
        return out;
    }
    /// Python-style helper, a one-line forward: get(Deadline::after(d)).
    template <class Rep, class Period>
    [[nodiscard]] Result<T> get_for(std::chrono::duration<Rep, Period> d) noexcept { return get(Deadline::after(d)); }

    /// Waits and copies the result out, leaving it in place (Python's Future.result()): may be
    /// called again, and done()/failed()/error() keep answering. Errc::timeout / invalid_argument
    /// as get(). T must be copyable; get() is the faster one-shot move-out.
    [[nodiscard]] Result<T> result(Deadline deadline = Deadline::never()) const noexcept
        requires(std::is_void_v<T> || std::is_copy_constructible_v<T>)
    {
        if (m_slot == nullptr) return unexpected(Errc::invalid_argument);
        if (auto w = detail::slot_wait(m_slot, deadline); !w) return unexpected(w.error());
        return *static_cast<const Result<T>*>(m_slot->data);
    }

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
    explicit Future(detail::ResultSlot* s) noexcept : m_slot(s) {}

    detail::ResultSlot* m_slot = nullptr;
};

/// The writing end. Move-only, one pointer. Write once from any thread.
template <class T>
class Promise {
public:
    constexpr Promise() noexcept = default;
    Promise(const Promise&) = delete;
    Promise& operator=(const Promise&) = delete;
    Promise(Promise&& o) noexcept : m_slot(std::exchange(o.m_slot, nullptr)) {}
    Promise& operator=(Promise&& o) noexcept {
        if (this != &o) { abandon(); m_slot = std::exchange(o.m_slot, nullptr); }
        return *this;
    }
    /// A promise never written stores Errc::broken, so its Future never waits forever.
    ~Promise() { abandon(); }

    [[nodiscard]] bool valid() const noexcept { return m_slot != nullptr; }

    /// Stores the result (value or error) and wakes the Future. Errc::invalid_argument when
    /// already written or moved from.
    Result<void> set(Result<T>&& r) noexcept {
        if (m_slot == nullptr) return Errc::invalid_argument;
        const std::uint32_t origin = r ? 0 : detail::SlotWord::kFailed;
        detail::slot_set<T>(std::exchange(m_slot, nullptr), std::move(r), origin);
        return ok();
    }
    /// Stores Errc::closed as "cancelled" (Future::cancelled() is true, failed() false).
    Result<void> cancel() noexcept {
        if (m_slot == nullptr) return Errc::invalid_argument;
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
    explicit Promise(detail::ResultSlot* s) noexcept : m_slot(s) {}
    void abandon() noexcept {
        if (m_slot != nullptr) detail::slot_set<T>(std::exchange(m_slot, nullptr), Result<T>(unexpected(Errc::broken)), 0);
    }

    detail::ResultSlot* m_slot = nullptr;
};

/// A copyable reading end that several threads may wait on and read at once (Python: one
/// Future object seen by many threads). Made by Future::share(). No heap: the handle count lives
/// in the slot header's link word (unused while the slot is handed out). Cost: one relaxed RMW
/// per copy and one acq_rel RMW per destroyed handle, on the slot's line; waiting threads share
/// the slot's futex word and the writer wakes them all. result() copies (T must be copyable);
/// there is no move-out get() here, since other handles may still read the value.
template <class T>
class SharedFuture {
public:
    using value_type = T;

    constexpr SharedFuture() noexcept = default;
    SharedFuture(const SharedFuture& o) noexcept : m_slot(o.m_slot) { add_ref(); }
    SharedFuture& operator=(const SharedFuture& o) noexcept {
        if (this != &o) { release(); m_slot = o.m_slot; add_ref(); }
        return *this;
    }
    SharedFuture(SharedFuture&& o) noexcept : m_slot(std::exchange(o.m_slot, nullptr)) {}
    SharedFuture& operator=(SharedFuture&& o) noexcept {
        if (this != &o) { release(); m_slot = std::exchange(o.m_slot, nullptr); }
        return *this;
    }
    /// The last handle gives the slot back (at once when the result is in, else when the writer finishes).
    ~SharedFuture() { release(); }

    [[nodiscard]] bool valid() const noexcept { return m_slot != nullptr; }
    [[nodiscard]] bool done() const noexcept { return detail::slot_flags(m_slot) != 0; }
    [[nodiscard]] bool cancelled() const noexcept { return (detail::slot_flags(m_slot) & detail::SlotWord::kCancelled) != 0; }
    [[nodiscard]] bool failed() const noexcept { return (detail::slot_flags(m_slot) & detail::SlotWord::kFailed) != 0; }
    [[nodiscard]] Error error() const noexcept { return detail::slot_error<T>(m_slot); }

    /// Any thread, any number at once. Errc::timeout; Errc::invalid_argument when !valid().
    [[nodiscard]] Result<void> wait(Deadline deadline = Deadline::never()) const noexcept {
        if (m_slot == nullptr) return Errc::invalid_argument;
        return detail::slot_wait(m_slot, deadline);
    }
    /// Any thread, any number at once: waits and copies the stored result.
    [[nodiscard]] Result<T> result(Deadline deadline = Deadline::never()) const noexcept
        requires(std::is_void_v<T> || std::is_copy_constructible_v<T>)
    {
        if (m_slot == nullptr) return unexpected(Errc::invalid_argument);
        if (auto w = detail::slot_wait(m_slot, deadline); !w) return unexpected(w.error());
        return *static_cast<const Result<T>*>(m_slot->data);
    }

private:
    friend class Future<T>;
    explicit SharedFuture(detail::ResultSlot* s) noexcept : m_slot(s) {
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

    detail::ResultSlot* m_slot = nullptr;
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
    void prepare() noexcept {
        bind_slots(m_headers, static_cast<std::uint32_t>(Slots), [this](std::uint32_t i) noexcept {
            m_headers[i].owner = this;
            m_headers[i].data = m_storage[i];
        });
    }
    /// As SlotPoolBase::acquire(), after prepare().
    [[nodiscard]] Result<detail::ResultSlot*> acquire(Deadline deadline) noexcept {
        prepare();
        return SlotPoolBase::acquire(deadline);
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
    detail::ResultSlot m_headers[Slots];
    alignas(std::max_align_t) std::byte m_storage[Slots][SlotBytes] = {};
};

template <std::size_t Slots, std::size_t SlotBytes>
constexpr std::size_t ResultSlots<Slots, SlotBytes>::static_bytes = sizeof(ResultSlots<Slots, SlotBytes>);

}  // namespace staticrt
