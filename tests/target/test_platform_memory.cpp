// SPDX-License-Identifier: MIT
// Conformance: page size, pre-faulting, memory locking.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>

#include "staticrt/platform/memory.hpp"
#include "staticrt/platform/thread.hpp"

using staticrt::Deadline;
using staticrt::Errc;
namespace platform = staticrt::platform;

namespace {
alignas(64) unsigned char g_region[64 * 1024 + 123];
}  // namespace

TEST_CASE("PageSize_Always_PowerOfTwoAtLeast4KiB") {
    const std::size_t p = platform::page_size();
    CHECK(p >= 4096);
    CHECK((p & (p - 1)) == 0);
}

TEST_CASE("Prefault_Region_ContentUnchanged") {
    for (std::size_t i = 0; i < sizeof g_region; ++i) g_region[i] = static_cast<unsigned char>(i * 7 + 1);
    platform::prefault(g_region, sizeof g_region);
    platform::prefault(g_region + 3, sizeof g_region - 5);  // unaligned base and length
    platform::prefault(g_region + 1, 1);
    platform::prefault(nullptr, 0);
    platform::prefault(g_region, 0);
    bool same = true;
    for (std::size_t i = 0; i < sizeof g_region; ++i)
        if (g_region[i] != static_cast<unsigned char>(i * 7 + 1)) same = false;
    CHECK(same);
}

namespace {
alignas(16) std::byte g_stack[256 * 1024];
void prefault_entry(void* arg) noexcept {
    platform::prefault_current_stack(128 * 1024);  // half the thread's stack
    platform::prefault_current_stack(0);
    *static_cast<int*>(arg) = 1;
}
}  // namespace

TEST_CASE("PrefaultCurrentStack_WithinStack_Returns") {
    platform::prefault_current_stack(64 * 1024);
    int done = 0;
    platform::ThreadHandle h;
    REQUIRE(platform::start_thread(h, {g_stack, sizeof g_stack}, &prefault_entry, &done));
    REQUIRE(platform::join(h, Deadline::never()));
    CHECK(done == 1);
}

// Locking the whole process is skipped under sanitizers (their multi-terabyte shadow mappings
// would be locked too) and under qemu-user on ARM (it would lock qemu's 1 GiB code buffer).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define STATICRT_TEST_SKIP_MLOCK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define STATICRT_TEST_SKIP_MLOCK 1
#endif
#endif
#if defined(__arm__) || defined(__aarch64__)
#define STATICRT_TEST_SKIP_MLOCK 1
#endif

#if !defined(STATICRT_TEST_SKIP_MLOCK)
TEST_CASE("LockAllMemory_Always_OkOrPermissionDeniedThenUnlock") {
    auto r = platform::lock_all_memory();
    CHECK((r.code() == Errc::ok || r.code() == Errc::permission_denied));
    CHECK(platform::unlock_all_memory());
}
#endif

TEST_CASE("UnlockAllMemory_NothingLocked_Ok") { CHECK(platform::unlock_all_memory()); }
