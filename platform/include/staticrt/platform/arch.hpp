// SPDX-License-Identifier: MIT
// staticrt/platform/arch.hpp — per-CPU constants: cache-line size and the spin-wait hint.
//
// kCacheLine is the destructive-interference size used to keep fields written by different
// threads apart (alignas(kCacheLine)). cpu_relax() is the pause/yield instruction a spin loop
// issues between polls; it never enters the kernel. prefetch_for_write() asks for a line in the
// state a write needs, ahead of a load that an atomic read-modify-write of the same word follows.
//
//   while (!flag.load(std::memory_order_acquire)) platform::cpu_relax();
#pragma once

#include <cstddef>

#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <intrin.h>  // _mm_pause, _m_prefetchw
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

/// Hint: bring the cache line holding `p` into this core's cache in the exclusive state a write
/// needs. A lock-free structure that loads a word and then CASes it (or fetch_ands it) otherwise
/// moves a line that another core wrote last twice: shared for the load, exclusive for the RMW,
/// and the locked RMW stalls the core for the second transfer (bench/notes.md, "ScqQueue: the
/// entry's line fetched for writing"). Only a hint: no effect on what any thread reads, no
/// ordering; a bad or unmapped address does not fault.
inline void prefetch_for_write(const void* p) noexcept {
#if defined(__x86_64__) || defined(__i386__)
    // PREFETCHW (0F 0D /1): CPUID PRFCHW on Intel from Broadwell and on AMD since the K6-2;
    // earlier Intel cores execute the opcode as a NOP. Written out because GCC emits it for
    // __builtin_prefetch(p, 1) only under -mprfchw (else a read prefetch, which does not help).
    asm volatile("prefetchw %0" : : "m"(*static_cast<const char*>(p)));
#elif defined(_M_X64) || defined(_M_IX86)
    _m_prefetchw(p);
#elif defined(__aarch64__) || defined(__arm__)
    __builtin_prefetch(p, 1, 3);  // AArch64 PRFM PSTL1KEEP; ARMv7 PLDW (PLD without the MP extensions)
#else
    (void)p;
#endif
}

}  // namespace staticrt::platform
