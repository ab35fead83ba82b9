// SPDX-License-Identifier: MIT
// staticrt/sync/count.hpp — SyncCount: a count that cannot be negative, checked at compile time.
//
// Semaphore, BoundedSemaphore, Latch and Barrier take their initial count as a SyncCount so that
// `constinit staticrt::BoundedSemaphore g{8}` works while `BoundedSemaphore s{-1}` fails to compile.
// A signed integer is accepted only as a constant expression (consteval); a run-time signed value
// goes through the primitive's `init(std::int64_t)`, which returns Errc::invalid_argument for a
// negative or too large value. An unsigned run-time value is accepted; one above kMax traps.
//
//   constinit staticrt::Semaphore g_free{4};          // ok: checked at compile time
//   staticrt::Semaphore s;  if (!s.init(user_value)) { /* invalid_argument */ }
#pragma once

#include <cstdint>
#include <type_traits>

namespace staticrt {

namespace detail {
/// Not constexpr on purpose: reaching it in a constant expression is the compile-time error
/// "call to non-constexpr function sync_count_must_not_be_negative".
[[noreturn]] void sync_count_must_not_be_negative() noexcept;
/// Not constexpr on purpose (see above); traps at run time.
[[noreturn]] void sync_count_is_too_large() noexcept;
}  // namespace detail

/// A non-negative count (0 .. kMax).
class SyncCount {
public:
    static constexpr std::uint32_t kMax = 0x7fffffffu;

    /// A signed constant: negative values are a compile-time error.
    template <class T>
        requires(std::is_integral_v<T> && std::is_signed_v<T>)
    consteval SyncCount(T v) noexcept  // NOLINT: implicit by design
        : m_value(from_signed(v)) {}

    /// An unsigned value (run time allowed); above kMax is a contract violation.
    template <class T>
        requires(std::is_integral_v<T> && std::is_unsigned_v<T> && !std::is_same_v<T, bool>)
    constexpr SyncCount(T v) noexcept  // NOLINT: implicit by design
        : m_value(from_unsigned(v)) {}

    [[nodiscard]] constexpr std::uint32_t value() const noexcept { return m_value; }

private:
    template <class T>
    static consteval std::uint32_t from_signed(T v) noexcept {
        if (v < 0) detail::sync_count_must_not_be_negative();
        if (static_cast<unsigned long long>(v) > kMax) detail::sync_count_is_too_large();
        return static_cast<std::uint32_t>(v);
    }
    template <class T>
    static constexpr std::uint32_t from_unsigned(T v) noexcept {
        if (static_cast<unsigned long long>(v) > kMax) detail::sync_count_is_too_large();
        return static_cast<std::uint32_t>(v);
    }

    std::uint32_t m_value;
};

}  // namespace staticrt
