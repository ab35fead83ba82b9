// SPDX-License-Identifier: MIT
// staticrt/footprint.hpp — the static RAM of a configuration, as a compile-time value.
//
// footprint<T...> adds up what the objects of types T... cost, split by where the memory is:
//   static_bytes   in the objects themselves: .bss for a constinit global (worker and thread
//                  stacks on POSIX, task rings, queue cells, result slots included) — sizeof,
//                  or T::static_bytes where a type defines it;
//   shared_bytes   shared-memory segments the objects create (T::shared_bytes: ProcessPool,
//                  SharedSegment, SharedValue, SharedArray), mapped pages rather than .bss;
//   os_stack_bytes thread stacks the OS reserves outside the objects (T::os_stack_bytes:
//                  Windows only, where Thread and ThreadPool keep no stack in the object).
// An array type T[N] counts N objects. A system states its budget once:
//
//   constinit staticrt::ThreadPool<4> g_pool;
//   constinit staticrt::MpmcQueue<Sample, 256> g_samples;
//   using System = staticrt::footprint<decltype(g_pool), decltype(g_samples)>;
//   static_assert(staticrt::within_budget<System, 512 * 1024>);   // bytes, all kinds together
//
// Exceeding it fails to compile with "staticrt: the system's static RAM exceeds its budget",
// and the compiler's note shows RamBudget<used, budget>. Pure compile-time; nothing here runs.
#pragma once

#include <cstddef>
#include <type_traits>

namespace staticrt {

/// Bytes of one object or of a system, by kind.
struct Footprint {
    std::size_t static_bytes = 0;    ///< in the objects (.bss when constinit globals)
    std::size_t shared_bytes = 0;    ///< shared-memory segments they create
    std::size_t os_stack_bytes = 0;  ///< stacks the OS reserves for their threads (Windows)
    [[nodiscard]] constexpr std::size_t total() const noexcept { return static_bytes + shared_bytes + os_stack_bytes; }
    friend constexpr Footprint operator+(Footprint a, Footprint b) noexcept {
        return {a.static_bytes + b.static_bytes, a.shared_bytes + b.shared_bytes, a.os_stack_bytes + b.os_stack_bytes};
    }
};

namespace detail {
template <class T>
constexpr std::size_t static_bytes_of() noexcept {
    if constexpr (requires { T::static_bytes; }) return T::static_bytes;
    else return sizeof(T);
}
template <class T>
constexpr std::size_t shared_bytes_of() noexcept {
    if constexpr (requires { T::shared_bytes; }) return T::shared_bytes;
    else return 0;
}
template <class T>
constexpr std::size_t os_stack_bytes_of() noexcept {
    if constexpr (requires { T::os_stack_bytes; }) return T::os_stack_bytes;
    else return 0;
}
template <class T>
struct FootprintOf {
    static constexpr Footprint value{static_bytes_of<T>(), shared_bytes_of<T>(), os_stack_bytes_of<T>()};
};
template <class T, std::size_t N>
struct FootprintOf<T[N]> {
    static constexpr Footprint value{FootprintOf<T>::value.static_bytes * N, FootprintOf<T>::value.shared_bytes * N,
                                     FootprintOf<T>::value.os_stack_bytes * N};
};

/// Instantiated with both numbers, so the compiler's note shows used and budget bytes.
template <std::size_t Used, std::size_t Budget>
struct RamBudget {
    static_assert(Used <= Budget,
                  "staticrt: the system's static RAM exceeds its budget (see RamBudget<used, budget> in the note; "
                  "shrink a stack, a queue or a pool, or raise the budget)");
    static constexpr bool value = Used <= Budget;
};
}  // namespace detail

/// The footprint of one object of type T (cv-qualifiers ignored; T[N]: N objects).
template <class T>
inline constexpr Footprint footprint_of = detail::FootprintOf<std::remove_cv_t<T>>::value;

/// The footprint of a system: one object of each type listed (repeat a type, or use T[N], for more).
template <class... T>
struct footprint {
    static constexpr Footprint value = (Footprint{} + ... + footprint_of<T>);
    static constexpr std::size_t static_bytes = value.static_bytes;
    static constexpr std::size_t shared_bytes = value.shared_bytes;
    static constexpr std::size_t os_stack_bytes = value.os_stack_bytes;
    static constexpr std::size_t total_bytes = value.total();
};

/// True when the system's total (static + shared + OS stacks) fits in Budget bytes; a system
/// over budget is a compile-time error naming both numbers. Use: static_assert(within_budget<...>).
template <class System, std::size_t Budget>
inline constexpr bool within_budget = detail::RamBudget<System::total_bytes, Budget>::value;

}  // namespace staticrt
