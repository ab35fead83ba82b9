// SPDX-License-Identifier: MIT
// The sysfs topology reader (platform/posix/cpu.cpp) against fake sysfs trees: SMT siblings,
// offline CPUs, several packages, ARM clusters whose core_id restarts, missing files, cpulists.
// White-box: includes the internal header platform/posix/sysfs_topology.hpp.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../../platform/posix/sysfs_topology.hpp"

using staticrt::CpuSet;
namespace pd = staticrt::platform::posix_detail;
namespace fs = std::filesystem;

namespace {

pd::TopologyTable g_t;  // 20 KiB: static, like the library's own

struct FakeCpu {
    int package;  // -1 writes "-1"; -2 leaves the file out
    int core;     // -2 leaves the file out
    std::string siblings;  // "" leaves the file out
};

class FakeSysfs {
public:
    explicit FakeSysfs(const std::string& online, const std::string& possible = "") {
        char tmpl[] = "/tmp/staticrt-sysfs-XXXXXX";
        m_root = ::mkdtemp(tmpl);
        write("online", online);
        if (!possible.empty()) write("possible", possible);
    }
    ~FakeSysfs() { fs::remove_all(m_root); }
    void cpu(int n, const FakeCpu& c) {
        const std::string dir = "cpu" + std::to_string(n) + "/topology/";
        if (c.package != -2) write(dir + "physical_package_id", std::to_string(c.package));
        if (c.core != -2) write(dir + "core_id", std::to_string(c.core));
        if (!c.siblings.empty()) write(dir + "thread_siblings_list", c.siblings);
    }
    const char* root() const { return m_root.c_str(); }

private:
    void write(const std::string& rel, const std::string& text) {
        const fs::path p = fs::path(m_root) / rel;
        fs::create_directories(p.parent_path());
        std::ofstream(p) << text << "\n";
    }
    std::string m_root;
};

}  // namespace

TEST(SysfsTopology, ParseCpulist_RangesAndSingles_SetMaxAndTotal) {
    CpuSet s;
    std::size_t max1 = 0, total = 0;
    ASSERT_TRUE(pd::parse_cpulist("0-3,8,10-11\n", s, max1, total));
    EXPECT_EQ(s.count(), 7u);
    EXPECT_TRUE(s.contains(8));
    EXPECT_FALSE(s.contains(9));
    EXPECT_EQ(max1, 12u);
    EXPECT_EQ(total, 7u);
    ASSERT_TRUE(pd::parse_cpulist("\n", s, max1, total));
    EXPECT_TRUE(s.empty());
    EXPECT_EQ(total, 0u);
    ASSERT_TRUE(pd::parse_cpulist("1020-1030", s, max1, total));  // beyond kMaxCpus: counted, not stored
    EXPECT_EQ(s.count(), 4u);
    EXPECT_EQ(total, 11u);
    EXPECT_EQ(max1, 1031u);
    EXPECT_FALSE(pd::parse_cpulist("3-1", s, max1, total));
    EXPECT_FALSE(pd::parse_cpulist("a", s, max1, total));
    EXPECT_FALSE(pd::parse_cpulist("1,,2", s, max1, total));
}

TEST(SysfsTopology, TwoPackagesWithSmt_SiblingsShareCoreIndex) {
    // 2 packages x 2 cores x 2 threads, Intel-style numbering: siblings are n and n+4.
    FakeSysfs f("0-7", "0-15");
    for (int n = 0; n < 8; ++n) {
        const int pkg = (n % 4) / 2;
        const int core = n % 2;
        const int first = n % 4;
        f.cpu(n, {pkg, core, std::to_string(first) + "," + std::to_string(first + 4)});
    }
    pd::build_topology_table(g_t, f.root());
    EXPECT_EQ(g_t.logical, 8u);
    EXPECT_EQ(g_t.physical, 4u);
    EXPECT_EQ(g_t.configured, 16u);
    EXPECT_EQ(g_t.primaries, CpuSet::range(0, 4));
    for (int n = 0; n < 4; ++n) {
        EXPECT_EQ(g_t.cpu[n].smt_index, 0u);
        EXPECT_EQ(g_t.cpu[n + 4].smt_index, 1u);
        EXPECT_EQ(g_t.cpu[n].core_index, static_cast<std::uint32_t>(n));
        EXPECT_EQ(g_t.cpu[n + 4].core_index, static_cast<std::uint32_t>(n));
        EXPECT_EQ(g_t.cpu[n + 4].core_first, static_cast<std::uint32_t>(n));
    }
    EXPECT_EQ(g_t.cpu[2].package, 1u);
    EXPECT_EQ(g_t.cpu[3].core, 1u);
}

TEST(SysfsTopology, OfflineCpu_SkippedAndSiblingRankDense) {
    // cpu1 (sibling of cpu0) is offline; cpu3 is cpu2's sibling.
    FakeSysfs f("0,2-3", "0-3");
    f.cpu(0, {0, 0, "0"});  // the kernel lists online siblings only
    f.cpu(2, {0, 1, "2-3"});
    f.cpu(3, {0, 1, "2-3"});
    pd::build_topology_table(g_t, f.root());
    EXPECT_EQ(g_t.logical, 3u);
    EXPECT_EQ(g_t.physical, 2u);
    EXPECT_FALSE(g_t.online.contains(1));
    EXPECT_EQ(g_t.cpu[2].core_index, 1u);
    EXPECT_EQ(g_t.cpu[3].smt_index, 1u);
    EXPECT_EQ(g_t.configured, 4u);
}

TEST(SysfsTopology, ArmClustersRepeatingCoreId_SiblingListKeepsCoresApart) {
    // big.LITTLE-like: two clusters of 4 in one package, core_id restarts at 0 per cluster,
    // no SMT (each CPU its own sibling list). The (package, core) pair alone would give 4 cores.
    FakeSysfs f("0-7");
    for (int n = 0; n < 8; ++n) f.cpu(n, {0, n % 4, std::to_string(n)});
    pd::build_topology_table(g_t, f.root());
    EXPECT_EQ(g_t.physical, 8u);
    for (int n = 0; n < 8; ++n) {
        EXPECT_EQ(g_t.cpu[n].smt_index, 0u);
        EXPECT_EQ(g_t.cpu[n].core_index, static_cast<std::uint32_t>(n));
    }
    EXPECT_EQ(g_t.configured, 8u);  // no "possible" file: highest online + 1
}

TEST(SysfsTopology, NoSiblingLists_FallsBackToPackageCorePairs) {
    FakeSysfs f("0-3");
    f.cpu(0, {-1, 0, ""});  // package -1 (unknown) reads as 0
    f.cpu(1, {-1, 0, ""});
    f.cpu(2, {-1, 1, ""});
    f.cpu(3, {-1, 1, ""});
    pd::build_topology_table(g_t, f.root());
    EXPECT_EQ(g_t.physical, 2u);
    EXPECT_EQ(g_t.cpu[0].package, 0u);
    EXPECT_EQ(g_t.cpu[1].smt_index, 1u);
    EXPECT_EQ(g_t.cpu[3].core_index, 1u);
    EXPECT_EQ(g_t.primaries, CpuSet::single(0) | CpuSet::single(2));
}

TEST(SysfsTopology, NoTopologyFiles_EachCpuItsOwnCore) {
    FakeSysfs f("0-2");
    pd::build_topology_table(g_t, f.root());
    EXPECT_EQ(g_t.logical, 3u);
    EXPECT_EQ(g_t.physical, 3u);
    EXPECT_EQ(g_t.cpu[2].core_index, 2u);
    EXPECT_EQ(g_t.cpu[2].core, 2u);
}

TEST(SysfsTopology, NoSysfsAtAll_OnlineFromSysconf) {
    pd::build_topology_table(g_t, "/nonexistent/staticrt");
    EXPECT_EQ(g_t.logical, static_cast<std::size_t>(::sysconf(_SC_NPROCESSORS_ONLN)));
    EXPECT_EQ(g_t.physical, g_t.logical);
    EXPECT_GE(g_t.configured, g_t.logical);
}
