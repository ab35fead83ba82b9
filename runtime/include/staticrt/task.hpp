// SPDX-License-Identifier: MIT
// staticrt/task.hpp — Task<Bytes, Signature>: a move-only, type-erased callable stored inline.
//
// A Task owns one callable (a lambda, a function object, a function pointer) in a Bytes-sized,
// max-aligned buffer inside the Task itself: no heap, ever. A callable that is larger than the
// slot, over-aligned, or not nothrow-move-constructible is rejected at compile time; the
// diagnostic names the callable's size and the slot's size. Invoking an empty Task is a
// contract violation (trap). A Task is not thread-safe: one thread uses it at a time; moving it
// to another thread (through a queue) carries the usual happens-before of that queue.
//
//   staticrt::Task<32> t = [x = 42] { std::printf("%d\n", x); };
//   if (t) t();                                    // prints 42
//   staticrt::Task<16, int(int)> twice = [](int v) { return 2 * v; };
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

#include "staticrt/platform/result.hpp"

namespace staticrt {

namespace detail {

/// Instantiated with the callable's size, alignment and nothrow-movability next to the slot's
/// size and alignment, so the numbers appear in the compiler's "in instantiation of
/// TaskCallableFits<48, 32, 8, 16, true>" note next to the message of the check that failed.
template <std::size_t CallableBytes, std::size_t SlotBytes, std::size_t CallableAlign, std::size_t SlotAlign,
          bool NothrowMovable>
struct TaskCallableFits {
    static_assert(CallableBytes <= SlotBytes,
                  "Task: the callable is larger than the Task's slot (TaskCallableFits<callable bytes, slot "
                  "bytes, ...>); capture less (e.g. a pointer to the data) or use a larger Task<Bytes>");
    static_assert(CallableAlign <= SlotAlign,
                  "Task: the callable is over-aligned (TaskCallableFits<..., callable alignment, slot "
                  "alignment, ...>); Task stores callables with at most alignof(std::max_align_t)");
    static_assert(NothrowMovable,
                  "Task: the callable must be nothrow move-constructible (Task relocates it when the Task "
                  "moves); give it a noexcept move constructor or capture by pointer");
    static constexpr bool value = true;
};

/// The per-callable-type operations. One static instance per (callable, signature).
template <class R, class... Args>
struct TaskOps {
    R (*invoke)(void* self, Args&&... args);
    void (*relocate)(void* dst, void* src) noexcept;  ///< move-construct into dst, destroy src
    void (*destroy)(void* self) noexcept;
};

template <class F, class R, class... Args>
struct TaskOpsFor {
    static R invoke(void* self, Args&&... args) {
        if constexpr (std::is_void_v<R>) {
            (*static_cast<F*>(self))(std::forward<Args>(args)...);
        } else {
            return (*static_cast<F*>(self))(std::forward<Args>(args)...);
        }
    }
    static void relocate(void* dst, void* src) noexcept {
        F* from = static_cast<F*>(src);
        ::new (dst) F(std::move(*from));
        from->~F();
    }
    static void destroy(void* self) noexcept { static_cast<F*>(self)->~F(); }
    static constexpr TaskOps<R, Args...> kOps{&invoke, &relocate, &destroy};
};

}  // namespace detail

template <std::size_t Bytes, class Signature = void()>
class Task;

namespace detail {
template <class T>
inline constexpr bool kIsTask = false;
template <std::size_t B, class S>
inline constexpr bool kIsTask<Task<B, S>> = true;
}  // namespace detail

/// A move-only callable of signature R(Args...) held inline in Bytes bytes.
template <std::size_t Bytes, class R, class... Args>
class Task<Bytes, R(Args...)> {
    static_assert(Bytes > 0, "Task<Bytes>: Bytes must be > 0, e.g. Task<64>");

public:
    static constexpr std::size_t kCapacity = Bytes;
    static constexpr std::size_t kAlignment = alignof(std::max_align_t);

    /// True when a callable of type F can be stored (size, alignment, nothrow move).
    template <class F>
    static constexpr bool fits = sizeof(F) <= Bytes && alignof(F) <= kAlignment &&
                                 std::is_nothrow_move_constructible_v<F>;

    // ---- lifetime
    constexpr Task() noexcept : m_storage{} {}  // zeroed: a constinit owner stays in .bss
    constexpr Task(std::nullptr_t) noexcept : m_storage{} {}  // NOLINT: implicit like std::function

    /// Stores a decayed copy of f. Compile-time error when it does not fit (see fits<F>).
    template <class F, class D = std::decay_t<F>>
        requires(!detail::kIsTask<D> && !std::is_same_v<D, std::nullptr_t> &&
                 std::is_invocable_r_v<R, D&, Args...>)
    Task(F&& f) noexcept(std::is_nothrow_constructible_v<D, F&&>) {  // NOLINT: implicit like std::function
        static_assert(detail::TaskCallableFits<sizeof(D), Bytes, alignof(D), kAlignment,
                                               std::is_nothrow_move_constructible_v<D>>::value);
        if constexpr (fits<D>) {
            ::new (static_cast<void*>(m_storage)) D(std::forward<F>(f));
            m_ops = &detail::TaskOpsFor<D, R, Args...>::kOps;
        }
    }

    Task(const Task&) = delete;
    Task& operator=(const Task&) = delete;

    Task(Task&& other) noexcept { take(other); }
    Task& operator=(Task&& other) noexcept {
        if (this != &other) {
            reset();
            take(other);
        }
        return *this;
    }

    /// Takes the callable of a smaller (or equal) Task of the same signature.
    template <std::size_t OtherBytes>
        requires(OtherBytes < Bytes)
    Task(Task<OtherBytes, R(Args...)>&& other) noexcept {  // NOLINT: widening is always safe
        if (other.m_ops != nullptr) {
            other.m_ops->relocate(m_storage, other.m_storage);
            m_ops = other.m_ops;
            other.m_ops = nullptr;
        }
    }

    /// Replaces the callable.
    template <class F, class D = std::decay_t<F>>
        requires(!detail::kIsTask<D> && !std::is_same_v<D, std::nullptr_t> &&
                 std::is_invocable_r_v<R, D&, Args...>)
    Task& operator=(F&& f) noexcept(std::is_nothrow_constructible_v<D, F&&>) {
        *this = Task(std::forward<F>(f));
        return *this;
    }
    Task& operator=(std::nullptr_t) noexcept {
        reset();
        return *this;
    }

    ~Task() { reset(); }

    // ---- calls
    /// Invokes the callable. A contract violation (trap) when the Task is empty.
    R operator()(Args... args) {
        if (m_ops == nullptr) detail::contract_violation("Task: invoked an empty Task");
        return m_ops->invoke(m_storage, std::forward<Args>(args)...);
    }

    /// Destroys the callable; the Task becomes empty.
    void reset() noexcept {
        if (m_ops != nullptr) {
            m_ops->destroy(m_storage);
            m_ops = nullptr;
        }
    }

    // ---- observers
    [[nodiscard]] constexpr explicit operator bool() const noexcept { return m_ops != nullptr; }
    [[nodiscard]] constexpr bool empty() const noexcept { return m_ops == nullptr; }

private:
    template <std::size_t, class>
    friend class Task;

    void take(Task& other) noexcept {
        if (other.m_ops != nullptr) {
            other.m_ops->relocate(m_storage, other.m_storage);
            m_ops = other.m_ops;
            other.m_ops = nullptr;
        }
    }

    alignas(std::max_align_t) unsigned char m_storage[Bytes];
    const detail::TaskOps<R, Args...>* m_ops = nullptr;
};

}  // namespace staticrt
