// SPDX-License-Identifier: MIT
// Linux CPU counts, topology, affinity and pinning. No heap: sysfs files are read with
// open/read into stack buffers (fopen and opendir allocate), affinity masks are fixed arrays
// handed to the raw syscalls (CPU_ALLOC allocates).
//
// Topology comes from /sys/devices/system/cpu/cpuN/topology and is read once, on first use,
// into a static table (CPU hot-plug after that is not seen). A core is the group of CPUs in
// one thread_siblings_list; where that file is missing, CPUs with the same
// (physical_package_id, core_id) form a core. Grouping by the sibling list and not by the
// pair alone matters on some ARM device-tree systems, where core_id restarts in each cluster
// of one package. Without sysfs at all every online CPU is its own core in package 0.
//
// The process affinity is the calling process's mask as it was when the library was loaded
// (a constructor snapshots it before main): on Linux sched_getaffinity() answers for one
// thread only, so asking later would report a thread's own pinning as the process's.
#include "staticrt/platform/cpu.hpp"

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "staticrt/platform/wait.hpp"
#include "sysfs_topology.hpp"

namespace staticrt::platform {
namespace posix_detail {
namespace {

// ------------------------------------------------------------------ sysfs reading (no heap)

/// Reads up to size-1 bytes of a small file into buf, NUL-terminated. -1 when it cannot be read.
long read_small_file(const char* path, char* buf, std::size_t size) noexcept {
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    std::size_t got = 0;
    while (got + 1 < size) {
        const ssize_t n = ::read(fd, buf + got, size - 1 - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            ::close(fd);
            return -1;
        }
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    buf[got] = '\0';
    return static_cast<long>(got);
}

/// Appends s to the path being built at out[pos]; returns the new position.
std::size_t append(char* out, std::size_t cap, std::size_t pos, const char* s) noexcept {
    while (*s != '\0' && pos + 1 < cap) out[pos++] = *s++;
    out[pos] = '\0';
    return pos;
}

std::size_t append_uint(char* out, std::size_t cap, std::size_t pos, std::size_t v) noexcept {
    char digits[24];
    std::size_t n = 0;
    do {
        digits[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0 && pos + 1 < cap) out[pos++] = digits[--n];
    out[pos] = '\0';
    return pos;
}

/// "<root>/cpu<N>/topology/<leaf>"
void topology_path(char* out, std::size_t cap, const char* root, std::size_t cpu, const char* leaf) noexcept {
    std::size_t pos = append(out, cap, 0, root);
    pos = append(out, cap, pos, "/cpu");
    pos = append_uint(out, cap, pos, cpu);
    pos = append(out, cap, pos, "/topology/");
    (void)append(out, cap, pos, leaf);
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// Parses an unsigned decimal at *p, advancing p. False when there is none.
bool parse_uint(const char*& p, std::size_t& out) noexcept {
    if (!is_digit(*p)) return false;
    std::size_t v = 0;
    while (is_digit(*p)) {
        const std::size_t d = static_cast<std::size_t>(*p - '0');
        v = v > (SIZE_MAX - d) / 10 ? SIZE_MAX : v * 10 + d;  // saturate: such a CPU does not exist
        ++p;
    }
    out = v;
    return true;
}

/// Parses a kernel cpulist ("0-3,8,10-11\n") into set. `max_plus_one` gets the highest CPU + 1
/// and `total` the number of CPUs listed, both counting CPUs beyond kMaxCpus too.
/// False when the text is not a cpulist.
bool parse_cpulist_impl(const char* p, CpuSet& set, std::size_t& max_plus_one, std::size_t& total) noexcept {
    set = CpuSet{};
    max_plus_one = 0;
    total = 0;
    while (*p == ' ') ++p;
    if (*p == '\n' || *p == '\0') return true;  // an empty list is valid
    for (;;) {
        std::size_t lo = 0, hi = 0;
        if (!parse_uint(p, lo)) return false;
        hi = lo;
        if (*p == '-') {
            ++p;
            if (!parse_uint(p, hi) || hi < lo) return false;
        }
        for (std::size_t c = lo; c <= hi && c < kMaxCpus; ++c) set.add(c);
        total += hi - lo + 1;
        if (hi != SIZE_MAX && hi + 1 > max_plus_one) max_plus_one = hi + 1;
        if (*p == ',') {
            ++p;
            continue;
        }
        return *p == '\n' || *p == '\0';
    }
}

bool read_cpulist_file(const char* path, CpuSet& set, std::size_t& max_plus_one, std::size_t& total) noexcept {
    char buf[4096];  // a cpulist of 1024 CPUs in the worst (all singletons) form fits
    if (read_small_file(path, buf, sizeof buf) < 0) return false;
    return parse_cpulist_impl(buf, set, max_plus_one, total);
}

/// Reads a topology number; -1 in the file (unknown package on some ARM systems) reads as 0.
bool read_topology_uint(const char* root, std::size_t cpu, const char* leaf, std::uint32_t& out) noexcept {
    char path[256];
    topology_path(path, sizeof path, root, cpu, leaf);
    char buf[32];
    if (read_small_file(path, buf, sizeof buf) < 0) return false;
    const char* p = buf;
    if (*p == '-') {
        out = 0;
        return true;
    }
    std::size_t v = 0;
    if (!parse_uint(p, v)) return false;
    out = static_cast<std::uint32_t>(v > UINT32_MAX ? UINT32_MAX : v);
    return true;
}

}  // namespace
}  // namespace posix_detail

namespace {

// ------------------------------------------------------------------ affinity masks (no heap)

/// A kernel affinity mask: an array of unsigned long, bit c%BITS of word c/BITS is CPU c.
/// 8192 bits so that sched_getaffinity succeeds on kernels built with large NR_CPUS.
constexpr std::size_t kKernelMaskBits = 8192;
constexpr std::size_t kBitsPerLong = sizeof(unsigned long) * CHAR_BIT;
struct KernelMask {
    unsigned long words[kKernelMaskBits / kBitsPerLong];
};

CpuSet to_cpuset(const KernelMask& m, std::size_t bytes) noexcept {
    CpuSet s;
    const std::size_t bits = bytes * CHAR_BIT;
    for (std::size_t c = 0; c < kMaxCpus && c < bits; ++c)
        if ((m.words[c / kBitsPerLong] >> (c % kBitsPerLong)) & 1ul) s.add(c);
    return s;
}

/// sched_getaffinity of thread `tid` (0: the caller).
Result<CpuSet> get_affinity(long tid) noexcept {
    KernelMask m{};
    const long rc = ::syscall(SYS_sched_getaffinity, tid, sizeof m.words, m.words);
    if (rc < 0) return unexpected(Errc::os_error, errno);
    return to_cpuset(m, static_cast<std::size_t>(rc));  // the kernel returns the bytes it wrote
}

Result<void> set_affinity(long tid, const CpuSet& cpus) noexcept {
    // 1024 bits are enough to say what we want; the kernel accepts a shorter mask.
    unsigned long words[kMaxCpus / kBitsPerLong] = {};
    for (std::size_t c = cpus.first(); c < kMaxCpus; c = cpus.next(c + 1))
        words[c / kBitsPerLong] |= 1ul << (c % kBitsPerLong);
    if (::syscall(SYS_sched_setaffinity, tid, sizeof words, words) == 0) return ok();
    const int err = errno;
    switch (err) {
        case EINVAL: return unexpected(Errc::no_such_cpu, err);  // no allowed, online CPU in the set
        case EPERM: return unexpected(Errc::permission_denied, err);
        default: return unexpected(Errc::os_error, err);
    }
}

// Snapshot of the process mask at load time (see the file comment). Written once by the
// constructor below, before main() and before any thread of ours exists; read-only afterwards.
CpuSet g_start_affinity;
bool g_start_affinity_ok = false;
int g_start_affinity_err = 0;

__attribute__((constructor)) void snapshot_start_affinity() noexcept {
    auto r = get_affinity(0);
    if (r) {
        g_start_affinity = *r;
        g_start_affinity_ok = true;
    } else {
        g_start_affinity_err = r.error().os_code;
    }
}

// ------------------------------------------------------------------ the topology table

using posix_detail::CpuEntry;
using posix_detail::TopologyTable;

TopologyTable g_table;
// [topo.state] 0 not built, 1 building, 2 built. Release-stored as 2 by the builder after the
// table is filled; pairs with [topo.ready] acquire in table().
std::atomic<std::uint32_t> g_table_state{0};

const TopologyTable& table() noexcept {
    // [topo.ready] acquire: pairs with [topo.publish]; the table's contents are visible.
    std::uint32_t s = g_table_state.load(std::memory_order_acquire);
    while (s != 2) {
        std::uint32_t expected = 0;
        // [topo.claim] acquire (both outcomes): on failure it pairs with [topo.publish] when the
        // table is already built; on success nothing needs ordering (the claim is the only writer).
        if (s == 0 && g_table_state.compare_exchange_strong(expected, 1, std::memory_order_acquire,
                                                            std::memory_order_acquire)) {
            posix_detail::build_topology_table(g_table, "/sys/devices/system/cpu");
            // [topo.publish] release: pairs with [topo.ready]/[topo.claim]; publishes g_table.
            g_table_state.store(2, std::memory_order_release);
            wake_all(g_table_state);
            return g_table;
        }
        s = expected;
        if (s == 1) {
            (void)wait(g_table_state, 1, Deadline::never());
            s = g_table_state.load(std::memory_order_acquire);  // [topo.ready] again
        }
    }
    return g_table;
}

}  // namespace

std::size_t logical_cpu_count() noexcept { return table().logical; }

std::size_t physical_cpu_count() noexcept { return table().physical; }

Result<CpuSet> process_affinity() noexcept {
    if (!g_start_affinity_ok) {
        // Called from another constructor before ours ran: nobody has pinned anything yet.
        if (g_start_affinity_err == 0) return get_affinity(0);
        return unexpected(Errc::os_error, g_start_affinity_err);
    }
    return g_start_affinity;
}

Result<CpuSet> physical_core_cpus() noexcept {
    auto allowed = process_affinity();
    if (!allowed) return allowed;
    const TopologyTable& t = table();
    // The lowest allowed CPU of each core that has one.
    CpuSet out;
    CpuSet seen_cores;  // by core_first
    const CpuSet usable = *allowed & t.online;
    for (std::size_t c = usable.first(); c < kMaxCpus; c = usable.next(c + 1)) {
        const std::size_t head = t.cpu[c].core_first;
        if (!seen_cores.contains(head)) {
            seen_cores.add(head);
            out.add(c);
        }
    }
    // CPUs allowed but not online when the table was built (hot-plugged since) count alone.
    const CpuSet rest = *allowed;
    for (std::size_t c = rest.first(); c < kMaxCpus; c = rest.next(c + 1))
        if (!t.online.contains(c)) out.add(c);
    return out;
}

Result<CpuTopology> topology(std::size_t cpu) noexcept {
    const TopologyTable& t = table();
    if (cpu >= kMaxCpus || !t.online.contains(cpu)) return unexpected(Errc::no_such_cpu);
    const CpuEntry& e = t.cpu[cpu];
    CpuTopology out;
    out.package = e.package;
    out.core = e.core;
    out.smt_index = e.smt_index;
    out.core_index = e.core_index;
    return out;
}

Result<GroupAffinity> to_group(std::size_t cpu) noexcept {
    if (cpu >= kMaxCpus || cpu >= table().configured) return unexpected(Errc::no_such_cpu);
    GroupAffinity g;
    g.group = static_cast<std::uint16_t>(cpu / 64);
    g.mask = std::uint64_t{1} << (cpu % 64);
    return g;
}

Result<void> pin_current_thread(const CpuSet& cpus) noexcept {
    if (cpus.empty()) return unexpected(Errc::invalid_argument);
    auto allowed = process_affinity();
    if (!allowed) return unexpected(allowed.error());
    if ((cpus & *allowed) != cpus) return unexpected(Errc::no_such_cpu);
    return set_affinity(0, cpus);
}

Result<std::size_t> current_cpu() noexcept {
    const int c = ::sched_getcpu();
    if (c < 0) return unexpected(Errc::os_error, errno);
    return static_cast<std::size_t>(c);
}

Result<CpuSet> current_thread_affinity() noexcept { return get_affinity(0); }

namespace detail {
/// Used by thread.cpp: pins thread `tid` after the same checks as pin_current_thread().
Result<void> pin_tid(long tid, const CpuSet& cpus) noexcept {
    if (cpus.empty()) return unexpected(Errc::invalid_argument);
    auto allowed = process_affinity();
    if (!allowed) return unexpected(allowed.error());
    if ((cpus & *allowed) != cpus) return unexpected(Errc::no_such_cpu);
    return set_affinity(tid, cpus);
}
}  // namespace detail

namespace posix_detail {

bool parse_cpulist(const char* text, CpuSet& set, std::size_t& max_plus_one, std::size_t& total) noexcept {
    return parse_cpulist_impl(text, set, max_plus_one, total);
}

void build_topology_table(TopologyTable& t, const char* root) noexcept {
    // Field by field: `t = TopologyTable{}` could build a 20 KiB temporary on a small thread stack.
    t.online = CpuSet{};
    t.primaries = CpuSet{};
    t.logical = t.physical = t.configured = 1;
    for (CpuEntry& e : t.cpu) e = CpuEntry{};
    char path[256];
    std::size_t max_plus_one = 0, total = 0;
    (void)append(path, sizeof path, append(path, sizeof path, 0, root), "/online");
    if (read_cpulist_file(path, t.online, max_plus_one, total) && !t.online.empty()) {
        t.logical = total;  // may exceed kMaxCpus; only the first kMaxCpus are addressable
    } else {
        long c = ::sysconf(_SC_NPROCESSORS_ONLN);
        if (c < 1) c = 1;
        t.online = CpuSet::range(0, static_cast<std::size_t>(c));
        t.logical = static_cast<std::size_t>(c);
    }
    CpuSet possible;
    (void)append(path, sizeof path, append(path, sizeof path, 0, root), "/possible");
    if (read_cpulist_file(path, possible, max_plus_one, total) && max_plus_one > 0) {
        t.configured = max_plus_one;
    } else {
        t.configured = t.online.nth(t.online.count() - 1) + 1;
    }

    // Group CPUs into cores: key = lowest CPU of the thread_siblings_list, else the first
    // earlier CPU with the same (package, core) pair, else the CPU itself.
    std::uint32_t next_core_index = 0;
    for (std::size_t c = t.online.first(); c < kMaxCpus; c = t.online.next(c + 1)) {
        CpuEntry& e = t.cpu[c];
        std::uint32_t pkg = 0, core = static_cast<std::uint32_t>(c);
        const bool have_pkg = read_topology_uint(root, c, "physical_package_id", pkg);
        const bool have_core = read_topology_uint(root, c, "core_id", core);
        e.package = have_pkg ? pkg : 0;
        e.core = have_core ? core : static_cast<std::uint32_t>(c);

        std::size_t first = c;
        topology_path(path, sizeof path, root, c, "thread_siblings_list");
        CpuSet siblings;
        std::size_t sib_max = 0, sib_total = 0;
        if (read_cpulist_file(path, siblings, sib_max, sib_total) && siblings.contains(c)) {
            first = (siblings & t.online).first();
            if (first < c) first = t.cpu[first].core_first;  // robust against uneven sibling lists
        } else if (have_pkg && have_core) {
            for (std::size_t o = t.online.first(); o < c; o = t.online.next(o + 1)) {
                if (t.cpu[o].package == e.package && t.cpu[o].core == e.core) {
                    first = t.cpu[o].core_first;
                    break;
                }
            }
        }
        if (first >= c) {  // c opens a new core
            e.core_first = static_cast<std::uint32_t>(c);
            e.core_index = next_core_index++;
            e.smt_index = 0;
            t.primaries.add(c);
        } else {
            const CpuEntry& head = t.cpu[first];
            e.core_first = static_cast<std::uint32_t>(first);
            e.core_index = head.core_index;
            std::uint32_t rank = 0;  // online CPUs of this core below c
            for (std::size_t o = first; o < c; o = t.online.next(o + 1))
                if (t.cpu[o].core_first == first) ++rank;
            e.smt_index = rank;
        }
    }
    t.physical = next_core_index > 0 ? next_core_index : 1;
    if (t.logical < 1) t.logical = 1;
}

}  // namespace posix_detail

}  // namespace staticrt::platform
