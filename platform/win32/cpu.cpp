// SPDX-License-Identifier: MIT
// Win32 CPU counts, topology, processor groups, affinity and pinning.
//
// Flat CPU index: Windows numbers logical CPUs per processor group (at most 64 per group). The
// flat index of (group g, bit b) is the sum of the active processor counts of groups 0..g-1
// plus b; to_group() is the inverse. On machines with <= 64 logical CPUs there is one group and
// the flat index is the bit number.
//
// The machine's layout (groups, cores, packages) is read once, on first use, with
// GetLogicalProcessorInformationEx into a fixed static buffer (no heap), and kept in a static
// table. The first caller builds it; concurrent first callers yield until it is published.
// Processors hot-added later are not seen (a restart picks them up).
#include "win32_detail.hpp"

#include <atomic>
#include <cstddef>

#include "staticrt/platform/cpu.hpp"

namespace staticrt::platform {
namespace {

static_assert(sizeof(KAFFINITY) == sizeof(std::uint64_t),
              "the Win32 CPU code needs 64-bit Windows (64 CPUs per processor group, 64-bit KAFFINITY)");
static_assert(kMaxCpus % 64 == 0, "kMaxCpus must be a whole number of 64-CPU groups");

constexpr std::size_t kMaxGroups = 64;  // Windows allows far fewer; CPUs past kMaxCpus are ignored

struct MachineInfo {
    std::uint32_t logical = 0;                      // flat CPUs 0..logical-1 exist (<= kMaxCpus)
    std::uint32_t physical = 0;                     // physical cores seen (>= 1 once built)
    std::uint32_t groups = 0;                       // active processor groups
    std::uint32_t group_first[kMaxGroups] = {};     // flat index of bit 0 of each group
    std::uint32_t group_active[kMaxGroups] = {};    // active processors in each group (<= 64)
    CpuTopology topology[kMaxCpus] = {};
    std::uint32_t cores_in_package[kMaxCpus] = {};  // build scratch: next core id per package
};

MachineInfo g_info;
// The scratch buffer for GetLogicalProcessorInformationEx: one RelationProcessorCore entry is 48
// bytes, so 96 KiB holds every core of a kMaxCpus machine. Only the building thread touches it.
alignas(16) unsigned char g_glpi_buffer[96 * 1024];
std::atomic<std::uint32_t> g_state{0};
constexpr std::uint32_t kUnbuilt = 0, kBuilding = 1, kBuilt = 2;

std::uint32_t flat_index(const MachineInfo& m, WORD group, unsigned bit) noexcept {
    if (group >= m.groups || bit >= m.group_active[group]) return static_cast<std::uint32_t>(kMaxCpus);
    const std::uint32_t flat = m.group_first[group] + bit;
    return flat < m.logical ? flat : static_cast<std::uint32_t>(kMaxCpus);
}

// Calls f(flat) for every CPU of `ga` that has a flat index.
template <class F>
void for_each_cpu(const MachineInfo& m, const GROUP_AFFINITY& ga, F&& f) noexcept {
    const std::uint64_t mask = static_cast<std::uint64_t>(ga.Mask);
    for (unsigned b = 0; b < 64; ++b) {
        if (((mask >> b) & 1u) == 0) continue;
        const std::uint32_t flat = flat_index(m, ga.Group, b);
        if (flat < kMaxCpus) f(flat);
    }
}

// Fills g_glpi_buffer with one relation; the number of bytes, 0 on failure.
DWORD query(LOGICAL_PROCESSOR_RELATIONSHIP relation) noexcept {
    DWORD len = static_cast<DWORD>(sizeof g_glpi_buffer);
    auto* p = reinterpret_cast<PSYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX>(g_glpi_buffer);
    return ::GetLogicalProcessorInformationEx(relation, p, &len) ? len : 0;
}

template <class F>
void for_each_entry(DWORD len, F&& f) noexcept {
    DWORD off = 0;
    while (off + offsetof(SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX, Processor) <= len) {
        const auto* e = reinterpret_cast<const SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX*>(g_glpi_buffer + off);
        if (e->Size == 0 || off + e->Size > len) break;
        f(*e);
        off += e->Size;
    }
}

void build(MachineInfo& m) noexcept {
    // Groups and the flat numbering.
    WORD groups = ::GetActiveProcessorGroupCount();
    if (groups == 0) groups = 1;
    if (groups > kMaxGroups) groups = static_cast<WORD>(kMaxGroups);
    std::uint32_t next = 0;
    m.groups = groups;
    for (WORD g = 0; g < groups; ++g) {
        DWORD active = ::GetActiveProcessorCount(g);
        if (active > 64) active = 64;
        if (g == 0 && active == 0) active = 1;
        m.group_first[g] = next;
        m.group_active[g] = next + active > kMaxCpus ? static_cast<std::uint32_t>(kMaxCpus) - next : active;
        next += m.group_active[g];
    }
    m.logical = next > 0 ? next : 1;

    // Default topology, used for any CPU the queries below do not describe: its own core, package 0.
    for (std::uint32_t i = 0; i < m.logical; ++i) m.topology[i] = CpuTopology{0, i, 0, i};
    std::uint32_t cores = 0;

    // Packages first (so each core knows its package), then cores in the order Windows lists them.
    std::uint32_t package = 0;
    for_each_entry(query(RelationProcessorPackage), [&](const SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX& e) {
        if (e.Relationship != RelationProcessorPackage) return;
        const GROUP_AFFINITY* masks = e.Processor.GroupMask;
        for (WORD i = 0; i < e.Processor.GroupCount; ++i)
            for_each_cpu(m, masks[i], [&](std::uint32_t cpu) { m.topology[cpu].package = package; });
        ++package;
    });
    for_each_entry(query(RelationProcessorCore), [&](const SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX& e) {
        if (e.Relationship != RelationProcessorCore) return;
        std::uint32_t smt = 0;
        std::uint32_t pkg = static_cast<std::uint32_t>(kMaxCpus);
        std::uint32_t core_in_pkg = 0;
        const GROUP_AFFINITY* masks = e.Processor.GroupMask;
        for (WORD i = 0; i < e.Processor.GroupCount; ++i) {
            for_each_cpu(m, masks[i], [&](std::uint32_t cpu) {
                CpuTopology& t = m.topology[cpu];
                if (pkg == kMaxCpus) {  // first hardware thread of the core: allocate the core id
                    pkg = t.package < kMaxCpus ? t.package : 0;
                    core_in_pkg = m.cores_in_package[pkg]++;
                }
                t.package = pkg;
                t.core = core_in_pkg;
                t.smt_index = smt++;
                t.core_index = cores;
            });
        }
        if (smt > 0) ++cores;
    });
    // Cores the query did not report (or a failed query) keep their default: one core per CPU.
    if (cores == 0) cores = m.logical;
    m.physical = cores;
}

const MachineInfo& machine() noexcept {
    // [cpu.ready] acquire: pairs with [cpu.publish]; makes the whole table visible.
    if (g_state.load(std::memory_order_acquire) == kBuilt) return g_info;
    std::uint32_t expected = kUnbuilt;
    // [cpu.claim] relaxed: only elects the builder; the table is published by [cpu.publish].
    if (g_state.compare_exchange_strong(expected, kBuilding, std::memory_order_relaxed, std::memory_order_relaxed)) {
        build(g_info);
        // [cpu.publish] release: pairs with [cpu.ready]/[cpu.wait]; the table is complete.
        g_state.store(kBuilt, std::memory_order_release);
        return g_info;
    }
    // [cpu.wait] acquire: pairs with [cpu.publish]. Building takes microseconds: yield until done.
    while (g_state.load(std::memory_order_acquire) != kBuilt) ::SwitchToThread();
    return g_info;
}

}  // namespace

std::size_t logical_cpu_count() noexcept { return machine().logical; }

std::size_t physical_cpu_count() noexcept { return machine().physical; }

Result<CpuSet> process_affinity() noexcept {
    const MachineInfo& m = machine();
    HANDLE self = ::GetCurrentProcess();
    DWORD_PTR process_mask = 0, system_mask = 0;
    if (!::GetProcessAffinityMask(self, &process_mask, &system_mask)) return unexpected(win32::last_error());

    USHORT groups[kMaxGroups] = {};
    USHORT count = static_cast<USHORT>(kMaxGroups);
    if (!::GetProcessGroupAffinity(self, &count, groups) || count == 0) {
        // Not available (old systems, emulators): the process lives in the current thread's group.
        GROUP_AFFINITY ga{};
        count = 1;
        groups[0] = ::GetThreadGroupAffinity(::GetCurrentThread(), &ga) ? ga.Group : 0;
    }
    CpuSet set;
    for (USHORT i = 0; i < count && i < kMaxGroups; ++i) {
        GROUP_AFFINITY ga{};
        ga.Group = groups[i];
        // One group: GetProcessAffinityMask is that group's mask. Several groups (a process whose
        // threads span groups): Windows reports 0 there and has no per-group process mask, so
        // every active CPU of each of the process's groups is usable.
        ga.Mask = (count == 1 && process_mask != 0) ? static_cast<KAFFINITY>(process_mask) : ~KAFFINITY{0};
        for_each_cpu(m, ga, [&](std::uint32_t cpu) { (void)set.add(cpu); });
    }
    if (set.empty()) return unexpected(Errc::os_error);
    return set;
}

Result<CpuSet> physical_core_cpus() noexcept {
    const MachineInfo& m = machine();
    auto allowed = process_affinity();
    if (!allowed) return unexpected(allowed.error());
    CpuSet seen_cores;  // by core_index
    CpuSet out;
    for (std::size_t cpu = allowed->first(); cpu < kMaxCpus; cpu = allowed->next(cpu + 1)) {
        if (cpu >= m.logical) break;
        const std::size_t core = m.topology[cpu].core_index;
        if (seen_cores.contains(core)) continue;
        (void)seen_cores.add(core);
        (void)out.add(cpu);
    }
    return out;
}

Result<CpuTopology> topology(std::size_t cpu) noexcept {
    const MachineInfo& m = machine();
    if (cpu >= m.logical) return unexpected(Errc::no_such_cpu);
    return m.topology[cpu];
}

Result<GroupAffinity> to_group(std::size_t cpu) noexcept {
    const MachineInfo& m = machine();
    if (cpu >= m.logical) return unexpected(Errc::no_such_cpu);
    for (std::uint32_t g = 0; g < m.groups; ++g) {
        if (cpu >= m.group_first[g] && cpu < m.group_first[g] + m.group_active[g]) {
            return GroupAffinity{static_cast<std::uint16_t>(g), std::uint64_t{1} << (cpu - m.group_first[g])};
        }
    }
    return unexpected(Errc::no_such_cpu);
}

Result<void> pin_current_thread(const CpuSet& cpus) noexcept {
    return win32::pin_native_thread(::GetCurrentThread(), cpus);
}

Result<std::size_t> current_cpu() noexcept {
    const MachineInfo& m = machine();
    PROCESSOR_NUMBER pn{};
    ::GetCurrentProcessorNumberEx(&pn);
    const std::uint32_t flat = flat_index(m, pn.Group, pn.Number);
    if (flat >= kMaxCpus) return unexpected(Errc::os_error);  // a CPU past kMaxCpus or hot-added later
    return static_cast<std::size_t>(flat);
}

Result<CpuSet> current_thread_affinity() noexcept {
    const MachineInfo& m = machine();
    GROUP_AFFINITY ga{};
    if (!::GetThreadGroupAffinity(::GetCurrentThread(), &ga)) return unexpected(win32::last_error());
    CpuSet set;
    for_each_cpu(m, ga, [&](std::uint32_t cpu) { (void)set.add(cpu); });
    if (set.empty()) return unexpected(Errc::os_error);
    return set;
}

namespace win32 {

Result<GROUP_AFFINITY> group_affinity_of(const CpuSet& cpus) noexcept {
    if (cpus.empty()) return unexpected(Errc::invalid_argument);
    auto allowed = process_affinity();
    if (!allowed) return unexpected(allowed.error());
    if ((cpus & *allowed) != cpus) return unexpected(Errc::no_such_cpu);
    GROUP_AFFINITY ga{};
    bool first = true;
    for (std::size_t cpu = cpus.first(); cpu < kMaxCpus; cpu = cpus.next(cpu + 1)) {
        auto g = to_group(cpu);
        if (!g) return unexpected(g.error());
        if (first) {
            ga.Group = g->group;
            first = false;
        } else if (ga.Group != g->group) {
            return unexpected(Errc::invalid_argument);  // a thread runs in one processor group at a time
        }
        ga.Mask |= static_cast<KAFFINITY>(g->mask);
    }
    return ga;
}

Result<void> pin_native_thread(HANDLE thread, const CpuSet& cpus) noexcept {
    auto ga = group_affinity_of(cpus);
    if (!ga) return unexpected(ga.error());
    if (!::SetThreadGroupAffinity(thread, &*ga, nullptr)) return unexpected(last_error());
    return ok();
}

}  // namespace win32
}  // namespace staticrt::platform
