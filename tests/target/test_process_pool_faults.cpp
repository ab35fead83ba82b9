// SPDX-License-Identifier: MIT
// ProcessPool faults, the portable parts (issue 10): start() refuses CPUs this process may not
// use; a map whose deadline has passed is Errc::timeout and the pool stays usable;
// shutdown takes a deadline and the pool starts again. Uses "tgt_square" (registered in
// test_process.cpp before its child hook, so spawned workers find it on every target).
#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <vector>

#include "skip.hpp"
#include "staticrt/ipc/process_pool.hpp"
#include "staticrt/platform/cpu.hpp"
#include "staticrt/platform/shared_memory.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;

TEST_CASE("ProcessPool faults: start refuses a CPU outside this process (no_such_cpu), then starts") {
    staticrt::ipc::ProcessPool<2, 4096> pool;
    staticrt::ipc::ProcessPoolOptions o;
    const auto bad = staticrt::platform::CpuSet::single(staticrt::platform::kMaxCpus - 1);
    o.cpus = &bad;
    CHECK(pool.start(o).code() == Errc::no_such_cpu);
    CHECK(pool.live_workers() == 0);
    CHECK(pool.worker_pid(0) == 0);
}

TEST_CASE("ProcessPool faults: a map past its deadline is cancelled, the pool stays usable, shutdown with a deadline") {
    staticrt::ipc::ProcessPool<2> pool;
    REQUIRE(pool.start());
    CHECK(pool.worker_pid(0) != 0);  // known once start() returned
    CHECK(pool.worker_pid(1) != 0);
    auto probe = pool.apply<long long>("tgt_square", 3LL, Deadline::after(60s));
    if (!probe) {
        pool.shutdown();
        STATICRT_SKIP("pool-spawn", "spawned workers do not come up here (qemu-user without binfmt_misc)");
    }
    CHECK(*probe == 9);
    std::vector<long long> in(100000), out(100000, -1);
    for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<long long>(i % 1000);
    // A deadline that has passed already: Errc::timeout at once, nothing runs. (The cancel of a
    // map caught by its deadline while it runs is timing-dependent with a function that ends:
    // tests/host/test_process_pool_faults.cpp covers it with one that never does.)
    auto late = pool.map("tgt_square", std::span<const long long>(in), std::span<long long>(out), {}, Deadline::poll());
    CHECK(late.code() == Errc::timeout);
    CHECK(out[1] == -1);
    auto r = pool.map("tgt_square", std::span<const long long>(in), std::span<long long>(out), {},
                      Deadline::after(120s));
    REQUIRE(r);
    CHECK(r->completed == in.size());
    bool all = true;
    for (std::size_t i = 0; i < in.size(); ++i) all = all && out[i] == in[i] * in[i];
    CHECK(all);
    CHECK(pool.shutdown(Deadline::after(60s)));  // idle workers stop by themselves
    CHECK(pool.live_workers() == 0);
    REQUIRE(pool.start());
    CHECK(pool.apply<long long>("tgt_square", 4LL, Deadline::after(60s)).value_or(-1) == 16);
    pool.shutdown();
}

TEST_CASE("SharedMemory::create_unique: unpredictable names, each made exclusively") {
    namespace platform = staticrt::platform;
    platform::SharedMemory a, b, c;
    REQUIRE(a.create_unique("staticrt-u-", 4096));
    REQUIRE(b.create_unique("staticrt-u-", 4096));
    CHECK(std::strlen(a.name()) == std::strlen("staticrt-u-") + 16);
    CHECK(std::strncmp(a.name(), "staticrt-u-", 11) == 0);
    CHECK(std::strcmp(a.name(), b.name()) != 0);
    CHECK(c.create(a.name(), 4096).code() == Errc::exhausted);  // exclusive: the name is taken
    CHECK(c.create_unique("staticrt-a-prefix-far-too-long-for-sixteen-more-digits-", 4096).code() ==
          Errc::invalid_argument);
    char name_a[platform::kMaxSharedMemoryName], name_b[platform::kMaxSharedMemoryName];
    std::strcpy(name_a, a.name());
    std::strcpy(name_b, b.name());
    // Unlink while mapped: on Windows a segment (and its name) vanishes with its last mapping.
    CHECK(platform::SharedMemory::unlink(name_a));
    CHECK(platform::SharedMemory::unlink(name_b));
    a.close();
    b.close();
}
