// SPDX-License-Identifier: MIT
// staticrt/platform/result.hpp — errors as values: Errc, Error and Result<T>.
//
// Every call that can fail returns a [[nodiscard]] Result<T>: either a T or an Error
// (an Errc plus, for Errc::os_error, the errno / GetLastError value). No exceptions,
// no heap, usable under -fno-exceptions -fno-rtti. Reading value() of an error, or
// error() of a value, is a contract violation and traps with a message.
//
//   Result<int> r = platform::current_cpu();
//   if (!r) { std::printf("%s\n", to_string(r.error().code)); return; }
//   use(*r);
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

namespace staticrt {

/// The closed set of failures a staticrt call can report.
enum class Errc : std::uint8_t {
    ok = 0,            ///< never stored in an Error; the value of a default Error
    timeout,           ///< a Deadline passed before the call could complete
    would_block,       ///< a non-blocking call could not complete now
    full,              ///< a bounded container has no room
    empty,             ///< a container has nothing to take
    closed,            ///< the object was closed / shut down
    not_owner,         ///< the calling thread does not hold the lock it must hold
    over_release,      ///< a bounded count would exceed its bound
    owner_died,        ///< a robust lock's previous owner died holding it
    invalid_argument,  ///< a run-time argument is out of range
    no_such_cpu,       ///< a CPU index outside the machine or the process affinity
    exhausted,         ///< a fixed pool of slots/resources is used up
    process_died,      ///< a child process died while it held work
    os_error,          ///< the OS refused; Error::os_code holds errno / GetLastError
    broken,            ///< a barrier (or similar) is in the broken state
    permission_denied, ///< the OS forbids what was asked (e.g. a real-time priority)
    not_supported,     ///< this platform cannot do what was asked
    corrupted,         ///< shared state read from another process failed validation
    process_stalled,   ///< a worker process made no progress within its stall timeout
    no_space,          ///< the OS has no room for the resource (e.g. a full /dev/shm: ENOSPC)
    task_failed,       ///< a task failed with an error of its own; Error::os_code holds its code
};

/// A short, static, human-readable name of an Errc ("timeout", "no_such_cpu", ...).
[[nodiscard]] const char* to_string(Errc code) noexcept;

/// An error value: what failed, and the OS's own code where there is one.
struct Error {
    Errc code = Errc::ok;
    int os_code = 0;  ///< errno on POSIX, GetLastError() on Windows; 0 when not from the OS

    constexpr Error() noexcept = default;
    constexpr Error(Errc c, int os = 0) noexcept : code(c), os_code(os) {}  // NOLINT: implicit by design

    friend constexpr bool operator==(const Error& a, Errc b) noexcept { return a.code == b; }
    friend constexpr bool operator==(const Error& a, const Error& b) noexcept {
        return a.code == b.code && a.os_code == b.os_code;
    }
};

namespace detail {
/// Prints "staticrt: contract violation: <what>" to stderr and aborts. Never returns.
[[noreturn]] void contract_violation(const char* what) noexcept;
}  // namespace detail

/// Tag to build an error Result: `return unexpected(Errc::timeout);`
struct Unexpected {
    Error error;
};
[[nodiscard]] constexpr Unexpected unexpected(Errc code, int os_code = 0) noexcept {
    return Unexpected{Error{code, os_code}};
}
[[nodiscard]] constexpr Unexpected unexpected(Error e) noexcept { return Unexpected{e}; }

/// Either a T or an Error. Move-only T is supported.
template <class T>
class [[nodiscard]] Result {
    static_assert(!std::is_reference_v<T>, "Result<T&> is not supported; use Result<T*>");

public:
    Result(const T& v) noexcept(std::is_nothrow_copy_constructible_v<T>) : m_has(true) {  // NOLINT
        ::new (storage()) T(v);
    }
    Result(T&& v) noexcept(std::is_nothrow_move_constructible_v<T>) : m_has(true) {  // NOLINT
        ::new (storage()) T(std::move(v));
    }
    Result(Unexpected u) noexcept : m_has(false) { ::new (storage()) Error(u.error); }  // NOLINT

    Result(const Result& o) noexcept(std::is_nothrow_copy_constructible_v<T>) : m_has(o.m_has) {
        if (m_has) ::new (storage()) T(*o.ptr());
        else ::new (storage()) Error(*o.err());
    }
    Result(Result&& o) noexcept(std::is_nothrow_move_constructible_v<T>) : m_has(o.m_has) {
        if (m_has) ::new (storage()) T(std::move(*o.ptr()));
        else ::new (storage()) Error(*o.err());
    }
    Result& operator=(const Result& o) noexcept(std::is_nothrow_copy_constructible_v<T>) {
        if (this != &o) {
            reset();
            m_has = o.m_has;
            if (m_has) ::new (storage()) T(*o.ptr());
            else ::new (storage()) Error(*o.err());
        }
        return *this;
    }
    Result& operator=(Result&& o) noexcept(std::is_nothrow_move_constructible_v<T>) {
        if (this != &o) {
            reset();
            m_has = o.m_has;
            if (m_has) ::new (storage()) T(std::move(*o.ptr()));
            else ::new (storage()) Error(*o.err());
        }
        return *this;
    }
    ~Result() { reset(); }

    [[nodiscard]] constexpr bool has_value() const noexcept { return m_has; }
    constexpr explicit operator bool() const noexcept { return m_has; }

    [[nodiscard]] T& value() & noexcept { check_value(); return *ptr(); }
    [[nodiscard]] const T& value() const& noexcept { check_value(); return *ptr(); }
    [[nodiscard]] T&& value() && noexcept { check_value(); return std::move(*ptr()); }
    [[nodiscard]] T& operator*() & noexcept { return value(); }
    [[nodiscard]] const T& operator*() const& noexcept { return value(); }
    [[nodiscard]] T&& operator*() && noexcept { return std::move(*this).value(); }
    [[nodiscard]] T* operator->() noexcept { return &value(); }
    [[nodiscard]] const T* operator->() const noexcept { return &value(); }

    template <class U>
    [[nodiscard]] T value_or(U&& fallback) const& noexcept {
        return m_has ? *ptr() : static_cast<T>(std::forward<U>(fallback));
    }

    /// The error; a contract violation when this holds a value.
    [[nodiscard]] Error error() const noexcept {
        if (m_has) detail::contract_violation("Result::error() called on a value");
        return *err();
    }
    /// Errc::ok for a value, otherwise the error's code. Never traps.
    [[nodiscard]] Errc code() const noexcept { return m_has ? Errc::ok : err()->code; }

private:
    // Raw storage with explicit placement-new, not an anonymous union: g++ 12 at -O2 copied a
    // Result<T> through the Error member of such a union (its padding bytes lost the value's
    // bytes), see tests/target/test_result.cpp.
    static constexpr std::size_t kSize = sizeof(T) > sizeof(Error) ? sizeof(T) : sizeof(Error);
    static constexpr std::size_t kAlign = alignof(T) > alignof(Error) ? alignof(T) : alignof(Error);

    void* storage() noexcept { return static_cast<void*>(m_storage); }
    T* ptr() noexcept { return std::launder(static_cast<T*>(storage())); }
    const T* ptr() const noexcept { return std::launder(static_cast<const T*>(static_cast<const void*>(m_storage))); }
    const Error* err() const noexcept {
        return std::launder(static_cast<const Error*>(static_cast<const void*>(m_storage)));
    }
    void check_value() const noexcept {
        if (!m_has) detail::contract_violation("Result::value() called on an error");
    }
    void reset() noexcept {
        if (m_has) ptr()->~T();
    }

    alignas(kAlign) unsigned char m_storage[kSize];
    bool m_has;
};

/// Success or an Error.
template <>
class [[nodiscard]] Result<void> {
public:
    constexpr Result() noexcept = default;
    constexpr Result(Unexpected u) noexcept : m_error(u.error) {}  // NOLINT

    [[nodiscard]] constexpr bool has_value() const noexcept { return m_error.code == Errc::ok; }
    constexpr explicit operator bool() const noexcept { return has_value(); }
    void value() const noexcept {
        if (!has_value()) detail::contract_violation("Result<void>::value() called on an error");
    }
    [[nodiscard]] Error error() const noexcept {
        if (has_value()) detail::contract_violation("Result<void>::error() called on a success");
        return m_error;
    }
    [[nodiscard]] constexpr Errc code() const noexcept { return m_error.code; }

private:
    Error m_error{};
};

/// Shorthand for a successful Result<void>.
[[nodiscard]] constexpr Result<void> ok() noexcept { return Result<void>{}; }

}  // namespace staticrt
