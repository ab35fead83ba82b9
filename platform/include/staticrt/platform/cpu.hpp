// SPDX-License-Identifier: MIT
// staticrt/platform/cpu.hpp — CPU counts, topology, CpuSet, pinning, current CPU.
//
// CPUs are numbered by one flat logical index 0..kMaxCpus-1. On Windows the index maps to a
// processor group and a bit in that group's 64-bit mask (to_group()); on Linux it is the
// kernel's CPU number. Everything honours the process affinity mask: a process started under
// `taskset -c 1` sees process_affinity() == {1}, and pinning outside it is Errc::no_such_cpu.
//
//   auto cpus = platform::process_affinity();          // the CPUs this process may use
//   if (cpus) (void)platform::pin_current_thread(CpuSet::single(cpus->first()));
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

#include "staticrt/platform/result.hpp"

namespace staticrt::platform {

/// The largest number of logical CPUs staticrt can address.
inline constexpr std::size_t kMaxCpus = 1024;

/// A fixed-size set of logical CPU indices (128 bytes, no heap, constexpr).
class CpuSet {
public:
    constexpr CpuSet() noexcept = default;
    [[nodiscard]] static constexpr CpuSet single(std::size_t cpu) noexcept { CpuSet s; s.add(cpu); return s; }
    /// CPUs [first, last).
    [[nodiscard]] static constexpr CpuSet range(std::size_t first, std::size_t last) noexcept {
        CpuSet s; for (std::size_t i = first; i < last && i < kMaxCpus; ++i) s.add(i); return s;
    }

    /// Adds cpu; false (and no change) when cpu >= kMaxCpus.
    constexpr bool add(std::size_t cpu) noexcept {
        if (cpu >= kMaxCpus) return false;
        m_bits[cpu / 64] |= std::uint64_t{1} << (cpu % 64);
        return true;
    }
    constexpr void remove(std::size_t cpu) noexcept {
        if (cpu < kMaxCpus) m_bits[cpu / 64] &= ~(std::uint64_t{1} << (cpu % 64));
    }
    [[nodiscard]] constexpr bool contains(std::size_t cpu) const noexcept {
        return cpu < kMaxCpus && ((m_bits[cpu / 64] >> (cpu % 64)) & 1u) != 0;
    }
    [[nodiscard]] constexpr std::size_t count() const noexcept {
        std::size_t n = 0;
        for (auto w : m_bits) n += static_cast<std::size_t>(std::popcount(w));
        return n;
    }
    [[nodiscard]] constexpr bool empty() const noexcept { return count() == 0; }
    /// The lowest CPU in the set, or kMaxCpus when empty.
    [[nodiscard]] constexpr std::size_t first() const noexcept { return next(0); }
    /// The lowest CPU >= from in the set, or kMaxCpus when none.
    [[nodiscard]] constexpr std::size_t next(std::size_t from) const noexcept {
        for (std::size_t i = from; i < kMaxCpus; ++i) if (contains(i)) return i;
        return kMaxCpus;
    }
    /// The n-th CPU (0-based) in ascending order, or kMaxCpus when n >= count().
    [[nodiscard]] constexpr std::size_t nth(std::size_t n) const noexcept {
        for (std::size_t i = 0; i < kMaxCpus; ++i) if (contains(i) && n-- == 0) return i;
        return kMaxCpus;
    }
    /// The raw 64-bit word w (CPUs 64w .. 64w+63).
    [[nodiscard]] constexpr std::uint64_t word(std::size_t w) const noexcept { return w < kWords ? m_bits[w] : 0; }
    constexpr void set_word(std::size_t w, std::uint64_t bits) noexcept { if (w < kWords) m_bits[w] = bits; }

    friend constexpr CpuSet operator&(const CpuSet& a, const CpuSet& b) noexcept {
        CpuSet r; for (std::size_t i = 0; i < kWords; ++i) r.m_bits[i] = a.m_bits[i] & b.m_bits[i]; return r;
    }
    friend constexpr CpuSet operator|(const CpuSet& a, const CpuSet& b) noexcept {
        CpuSet r; for (std::size_t i = 0; i < kWords; ++i) r.m_bits[i] = a.m_bits[i] | b.m_bits[i]; return r;
    }
    friend constexpr bool operator==(const CpuSet&, const CpuSet&) noexcept = default;

    static constexpr std::size_t kWords = kMaxCpus / 64;

private:
    std::uint64_t m_bits[kWords] = {};
};

/// Where a logical CPU sits.
struct CpuTopology {
    std::uint32_t package = 0;    ///< socket / physical package id
    std::uint32_t core = 0;       ///< physical core id, unique within the package
    std::uint32_t smt_index = 0;  ///< 0 for the first hardware thread of the core, 1 for its sibling, ...
    std::uint32_t core_index = 0; ///< dense index of the physical core over the whole machine
};

/// A CPU index as a Windows processor group and a bit within the group's 64-bit mask.
struct GroupAffinity {
    std::uint16_t group = 0;
    std::uint64_t mask = 0;
};

/// Logical CPUs the machine has online (like os.cpu_count()). At least 1.
[[nodiscard]] std::size_t logical_cpu_count() noexcept;
/// Physical cores the machine has (SMT siblings counted once). At least 1.
[[nodiscard]] std::size_t physical_cpu_count() noexcept;
/// The CPUs this process may run on (sched_getaffinity / process + group affinity).
[[nodiscard]] Result<CpuSet> process_affinity() noexcept;
/// One CPU per physical core within process_affinity() (the first hardware thread of each core).
[[nodiscard]] Result<CpuSet> physical_core_cpus() noexcept;
/// Topology of one logical CPU; Errc::no_such_cpu when it does not exist.
[[nodiscard]] Result<CpuTopology> topology(std::size_t cpu) noexcept;
/// Maps a flat CPU index to group + mask; Errc::no_such_cpu when it does not exist.
[[nodiscard]] Result<GroupAffinity> to_group(std::size_t cpu) noexcept;
/// Pins the calling thread to `cpus`. Errc::no_such_cpu when a CPU in the set does not exist or
/// is outside the process affinity; Errc::invalid_argument when the set is empty.
[[nodiscard]] Result<void> pin_current_thread(const CpuSet& cpus) noexcept;
/// The CPU the calling thread runs on right now (may change at once unless pinned).
[[nodiscard]] Result<std::size_t> current_cpu() noexcept;
/// The CPUs the calling thread may run on now (its own affinity, narrowed by pin_current_thread();
/// process_affinity() is the process's). On Windows: the thread's group affinity.
[[nodiscard]] Result<CpuSet> current_thread_affinity() noexcept;

}  // namespace staticrt::platform

namespace staticrt {
using platform::CpuSet;
}  // namespace staticrt
