// SPDX-License-Identifier: MIT
// staticrt/platform/arch.hpp — per-CPU constants: cache-line size and the spin-wait hint.
//
// kCacheLine is the destructive-interference size used to keep fields written by different
// threads apart (alignas(kCacheLine)). cpu_relax() is the pause/yield instruction a spin loop
// issues between polls; it never enters the kernel.
//
//   while (!flag.load(std::memory_order_acquire)) platform::cpu_relax();
#pragma once

#include <cstddef>

#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <intrin.h>  // _mm_pause
#endif

namespace staticrt::platform {

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
/// x86: 64-byte lines, but the adjacent-line prefetcher pulls pairs: 128 keeps writers apart.
inline constexpr std::size_t kCacheLine = 128;
#elif defined(__aarch64__)
inline constexpr std::size_t kCacheLine = 128;  // some cores (e.g. Apple, Neoverse V) use 128
#else
inline constexpr std::size_t kCacheLine = 64;
#endif

/// Spin-wait hint; a few cycles, no syscall.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(_M_X64) || defined(_M_IX86)
    _mm_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#elif defined(__arm__)
    asm volatile("" ::: "memory");  // ARMv7 "yield" is a no-op on most cores; a compiler barrier suffices
#else
    // other architectures: a compiler barrier only
#endif
}

}  // namespace staticrt::platform
