// SPDX-License-Identifier: MIT
// staticrt/sync/count.hpp — SyncCount / PartyCount: compile-time-checked counts, and the run-time check.
//
// Semaphore, BoundedSemaphore, Latch and Barrier take a count in two ways, decided once for all
// of them (docs/sync.md, "Counts: compile time and run time"):
//
//  - a constant, in the constructor: `constinit staticrt::BoundedSemaphore g{8};`. The parameter
//    is a SyncCount (Barrier: a PartyCount, at least 1) whose constructor is consteval, so a
//    bad constant is a compile error whose text names the rule (`sync_count_must_not_be_negative`,
//    `sync_count_is_too_large`, `barrier_parties_must_be_positive`). A run-time value in the
//    constructor does not compile either ("is not a constant expression", in SyncCount's
//    constructor): no constructor traps on a count.
//    (A static_assert cannot test a function argument; calling a deliberately non-constexpr
//    function from a consteval one is how the check fails the build with a readable name.)
//  - a run-time value, through the primitive's `init(std::int64_t)`, called on a
//    default-constructed object before it is shared: it returns Errc::invalid_argument for a
//    negative or too-large count (Barrier: also for 0 parties) and changes nothing. There is no
//    `create()` returning Result<Semaphore>: the primitives are neither copyable nor movable
//    (threads sleep on their address), so they cannot travel in a Result.
//
//   constinit staticrt::Semaphore g_free{4};                  // checked at compile time
//   staticrt::Semaphore s;  if (auto r = s.init(user_value); !r) return r;   // invalid_argument
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

namespace staticrt {

namespace detail {
/// Not constexpr on purpose: reaching it in a constant expression is the compile-time error
/// "call to non-constexpr function sync_count_must_not_be_negative".
[[noreturn]] void sync_count_must_not_be_negative() noexcept;
/// Not constexpr on purpose (see above).
[[noreturn]] void sync_count_is_too_large() noexcept;
/// Not constexpr on purpose (see above): a Barrier of 0 parties.
[[noreturn]] void barrier_parties_must_be_positive() noexcept;
}  // namespace detail

/// A count Min .. kMax known at compile time: SyncCount (from 0), PartyCount (from 1).
template <std::uint32_t Min>
class BasicSyncCount {
public:
    static constexpr std::uint32_t kMin = Min;
    static constexpr std::uint32_t kMax = 0x7fffffffu;

    /// An integer constant: below Min or above kMax is a compile-time error; a run-time value does
    /// not compile (use the primitive's init(std::int64_t), which returns Errc::invalid_argument).
    template <class T>
        requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
    consteval BasicSyncCount(T v) noexcept  // NOLINT: implicit by design
        : m_value(from(v)) {}

    [[nodiscard]] constexpr std::uint32_t value() const noexcept { return m_value; }

    /// The run-time check behind every init(): Min .. kMax, else the caller returns
    /// Errc::invalid_argument.
    [[nodiscard]] static constexpr bool in_range(std::int64_t v) noexcept {
        return v >= static_cast<std::int64_t>(Min) && v <= static_cast<std::int64_t>(kMax);
    }

private:
    template <class T>
    static consteval std::uint32_t from(T v) noexcept {
        if (std::cmp_less(v, 0)) detail::sync_count_must_not_be_negative();
        if (std::cmp_less(v, Min)) detail::barrier_parties_must_be_positive();
        if (std::cmp_greater(v, kMax)) detail::sync_count_is_too_large();
        return static_cast<std::uint32_t>(v);
    }

    std::uint32_t m_value;
};

/// The initial count of a Semaphore, BoundedSemaphore or Latch: 0 .. 2^31-1, a constant.
using SyncCount = BasicSyncCount<0>;
/// The parties of a Barrier: 1 .. 2^31-1, a constant.
using PartyCount = BasicSyncCount<1>;

}  // namespace staticrt
