// SPDX-License-Identifier: MIT
// staticrt/queue/detail/queue_front.hpp — the public calls SpscRing and MpmcRing share.
//
// QueueFront<Derived, T, N> writes the copy/move overloads of try_push()/push(), the two pop()
// forms (a Result<T> built from raw storage, or into an existing object), try_pop() /
// try_pop_n() and the capacity observers once, on top of the core's try_emplace(), emplace(),
// pop_into<Construct>(), take_one() and its m_not_full event.
// destroy_remaining() is the destructor both cores run: it destroys the elements still inside.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <utility>

#include "staticrt/platform/result.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/queue/detail/slot.hpp"

namespace staticrt::detail {

/// After a batch call moved `n` elements: wakes one waiter of `ev` for one element, all for more.
template <class Event>
void notify_batch(Event& ev, std::size_t n) noexcept {
    if (n == 1) ev.notify_one();
    else if (n > 1) ev.notify_all();
}

/// True when a blocking push hands its out-of-line wait a copy of the element instead of a
/// reference to the caller's: an argument of type T, trivially copyable, at most 16 bytes (two
/// registers on x86-64 and aarch64, four on armhf). A reference passed to the wait makes the
/// caller keep its object in memory on the fast path too, and the cell then reloads it from
/// there: for a 16-byte element built by two 8-byte stores, a 16-byte load the CPU cannot forward
/// from them (a push cost 11.6 ns against 4.0 ns for emplace(); bench/notes.md, "A 16-byte element").
template <class T, class A>
inline constexpr bool kWaitByValue =
    std::is_same_v<std::remove_cvref_t<A>, T> && std::is_trivially_copyable_v<T> && sizeof(T) <= 16;

/// One argument of a blocking push as its out-of-line wait takes it: a copy under kWaitByValue,
/// else the forwarded reference: `emplace_wait(d, wait_arg<T>(std::forward<Args>(args))...)`.
template <class T, class A>
[[nodiscard]] constexpr decltype(auto) wait_arg(A&& a) noexcept {
    if constexpr (kWaitByValue<T, A>) return T(std::as_const(a));
    else return std::forward<A>(a);
}

template <class Derived, class T, std::size_t N>
class QueueFront {
public:
    using value_type = T;
    static constexpr std::size_t kCapacity = N;

    /// false: full, or closed.
    [[nodiscard]] bool try_push(const T& v) noexcept { return self().try_emplace(v); }
    [[nodiscard]] bool try_push(T&& v) noexcept { return self().try_emplace(std::move(v)); }
    /// Waits for room until the deadline. Errc::timeout, Errc::closed.
    [[nodiscard]] Result<void> push(const T& v, Deadline d = Deadline::never()) noexcept { return self().emplace(d, v); }
    [[nodiscard]] Result<void> push(T&& v, Deadline d = Deadline::never()) noexcept {
        return self().emplace(d, std::move(v));
    }
    /// Waits for an element until the deadline. Errc::timeout; Errc::closed once the queue is
    /// closed and drained.
    [[nodiscard]] Result<T> pop(Deadline d = Deadline::never()) noexcept {
        Raw<T> out;
        const Result<void> r = self().template pop_into<true>(static_cast<T*>(out.raw()), d);
        if (!r) return unexpected(r.error());
        Result<T> res(std::move(*out.obj()));
        out.obj()->~T();
        return res;
    }
    /// As pop(), into an existing object (no Result<T> move).
    [[nodiscard]] Result<void> pop(T& out, Deadline d = Deadline::never()) noexcept {
        return self().template pop_into<false>(&out, d);
    }
    /// Consumer side. false: empty (a closed queue still hands out what it holds).
    [[nodiscard]] bool try_pop(T& out) noexcept {
        if (!self().take_one(out)) return false;
        self().m_not_full.notify_one();
        return true;
    }
    /// Consumer side. Moves up to out.size() elements into `out`; returns how many.
    [[nodiscard]] std::size_t try_pop_n(std::span<T> out) noexcept {
        std::size_t n = 0;
        while (n < out.size() && self().take_one(out[n])) ++n;
        notify_batch(self().m_not_full, n);
        return n;
    }
    [[nodiscard]] bool empty_approx() const noexcept { return static_cast<const Derived&>(*this).size_approx() == 0; }
    [[nodiscard]] static constexpr std::size_t capacity() noexcept { return N; }

protected:
    constexpr QueueFront() noexcept = default;
    ~QueueFront() = default;

private:
    Derived& self() noexcept { return static_cast<Derived&>(*this); }
};

/// Destroys the full cells from position `head` on (the destructor of a queue; no thread uses it).
template <class T, std::size_t N, class P>
void destroy_remaining(Slot<T, P> (&slots)[N], std::uint32_t head) noexcept {
    if constexpr (!std::is_trivially_destructible_v<T>) {
        for (std::uint32_t h = head;; ++h) {
            Slot<T, P>& s = slots[CellMap<N>::index(h)];
            // [queue.destroy] acquire: the element's construction is visible ([spsc.publish] /
            // [mpmc.publish]); relaxed store: no thread uses the queue any more.
            if (s.seq.load(std::memory_order_acquire) != SeqOf<N>::full(h)) break;
            s.destroy();
            s.seq.store(SeqOf<N>::next_lap(h), std::memory_order_relaxed);
        }
    }
}

}  // namespace staticrt::detail
