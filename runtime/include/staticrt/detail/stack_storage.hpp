// SPDX-License-Identifier: MIT
// staticrt/detail/stack_storage.hpp — thread stacks kept inside Thread / ThreadPool objects.
//
// StackStorage<Bytes> is Bytes of zero-initialised, 64-byte aligned memory (so a constinit
// owner lands in .bss, not .data); StackStorage<0> is empty. Owners ask for
// kInObjectStackBytes<Bytes>, which is 0 where the OS provides thread stacks itself
// (platform::kThreadUsesCallerStack false: Windows), so no dead weight is kept there.
#pragma once

#include <cstddef>

#include "staticrt/platform/thread.hpp"

namespace staticrt::detail {

/// Bytes of stack an object keeps for `Bytes` requested: Bytes, or 0 where the OS provides stacks.
template <std::size_t Bytes>
inline constexpr std::size_t kInObjectStackBytes = platform::kThreadUsesCallerStack ? Bytes : 0;

template <std::size_t Bytes>
struct StackStorage {
    /// The first byte (nullptr where empty: the OS reserves the stack).
    [[nodiscard]] constexpr std::byte* base() noexcept { return m_bytes; }
    alignas(64) std::byte m_bytes[Bytes] = {};  // written only by the threads that run on it
};

template <>
struct StackStorage<0> {
    [[nodiscard]] constexpr std::byte* base() noexcept { return nullptr; }
};

}  // namespace staticrt::detail
