// SPDX-License-Identifier: MIT
// Internal to platform/posix (not installed): the CPU topology table cpu.cpp builds from sysfs,
// exposed so tests/host can build it from a fake sysfs tree (SMT siblings, offline CPUs, ARM
// clusters with repeated core ids, missing files) that this machine does not have.
#pragma once

#include <cstddef>
#include <cstdint>

#include "staticrt/platform/cpu.hpp"

namespace staticrt::platform::posix_detail {

struct CpuEntry {
    std::uint32_t package;
    std::uint32_t core;
    std::uint32_t smt_index;
    std::uint32_t core_index;
    std::uint32_t core_first;  ///< lowest online CPU of the same core
};

struct TopologyTable {
    CpuSet online;               ///< CPUs online when the table was built
    CpuSet primaries;            ///< the first CPU of every core
    std::size_t logical = 1;     ///< online CPUs (may exceed kMaxCpus)
    std::size_t physical = 1;    ///< distinct cores
    std::size_t configured = 1;  ///< highest possible CPU + 1
    CpuEntry cpu[kMaxCpus];
};

/// Parses a kernel cpulist ("0-3,8,10-11\n"). `max_plus_one`: highest CPU + 1; `total`: CPUs
/// listed (both count CPUs beyond kMaxCpus). False when the text is not a cpulist.
bool parse_cpulist(const char* text, CpuSet& set, std::size_t& max_plus_one, std::size_t& total) noexcept;

/// Fills `t` from the sysfs CPU directory at `root` (normally "/sys/devices/system/cpu").
void build_topology_table(TopologyTable& t, const char* root) noexcept;

}  // namespace staticrt::platform::posix_detail
