// SPDX-License-Identifier: MIT
// Win32 memory residency: working-set quota + VirtualLock, pre-faulting, page size.
//
// Windows has no mlockall(). lock_all_memory() does what comes closest:
//  1. sums the committed, accessible pages of the address space (VirtualQuery walk);
//  2. raises the working-set minimum to that sum plus kHeadroom and makes it a hard minimum
//     (SetProcessWorkingSetSizeEx with QUOTA_LIMITS_HARDWS_MIN_ENABLE, maximum disabled), so
//     the memory manager does not trim the process below it;
//  3. VirtualLock()s every committed, accessible region (the MCL_CURRENT part).
// Pages committed later (MCL_FUTURE) are not locked: they are protected only by the hard
// working-set minimum. Lock early, after start-up allocations, and prefault() what you add.
#include "win32_detail.hpp"

#include <malloc.h>  // _alloca

#include <atomic>

#include "staticrt/platform/memory.hpp"

namespace staticrt::platform {
namespace {

/// Working set granted beyond what is committed when lock_all_memory() runs.
constexpr SIZE_T kHeadroom = SIZE_T{64} << 20;

// The working-set quota before lock_all_memory(), restored by unlock_all_memory(). Both calls
// are start-up / shut-down calls; if two threads race them, the last writer wins.
std::atomic<SIZE_T> g_saved_min{0};
std::atomic<SIZE_T> g_saved_max{0};
std::atomic<DWORD> g_saved_flags{0};

bool lockable(const MEMORY_BASIC_INFORMATION& mbi) noexcept {
    if (mbi.State != MEM_COMMIT) return false;
    if ((mbi.Protect & (PAGE_GUARD | PAGE_NOACCESS)) != 0 || mbi.Protect == 0) return false;
    return true;
}

// Calls f(base, bytes) for every committed, accessible region of the address space.
template <class F>
void for_each_committed(F&& f) noexcept {
    SYSTEM_INFO si{};
    ::GetSystemInfo(&si);
    auto* p = static_cast<unsigned char*>(si.lpMinimumApplicationAddress);
    auto* const end = static_cast<unsigned char*>(si.lpMaximumApplicationAddress);
    MEMORY_BASIC_INFORMATION mbi{};
    while (p < end && ::VirtualQuery(p, &mbi, sizeof mbi) == sizeof mbi) {
        if (lockable(mbi)) f(mbi.BaseAddress, mbi.RegionSize);
        auto* next = static_cast<unsigned char*>(mbi.BaseAddress) + mbi.RegionSize;
        if (next <= p) break;
        p = next;
    }
}

// Touches the `bytes` below the caller's frame: _alloca probes every page in order (the stack
// guard page moves down one page at a time), then each page is written. Kept out of line so
// the allocation is released when it returns.
#if defined(_MSC_VER)
__declspec(noinline)
#else
__attribute__((noinline))
#endif
void touch_stack(std::size_t bytes, std::size_t page) noexcept {
    auto* volatile base = static_cast<unsigned char*>(_alloca(bytes));
    for (std::size_t off = 0; off < bytes; off += page) base[off] = 0;  // dead stack memory: any value will do
}

}  // namespace

Result<void> lock_all_memory() noexcept {
    HANDLE self = ::GetCurrentProcess();
    SIZE_T cur_min = 0, cur_max = 0;
    DWORD cur_flags = 0;
    if (!::GetProcessWorkingSetSizeEx(self, &cur_min, &cur_max, &cur_flags)) return unexpected(win32::last_error());

    SIZE_T committed = 0;
    for_each_committed([&](void*, SIZE_T bytes) { committed += bytes; });
    const SIZE_T want_min = committed + kHeadroom > cur_min ? committed + kHeadroom : cur_min;
    const SIZE_T want_max = cur_max > want_min + kHeadroom ? cur_max : want_min + kHeadroom;
    if (!::SetProcessWorkingSetSizeEx(self, want_min, want_max,
                                      QUOTA_LIMITS_HARDWS_MIN_ENABLE | QUOTA_LIMITS_HARDWS_MAX_DISABLE)) {
        return unexpected(win32::last_error());  // ERROR_PRIVILEGE_NOT_HELD -> permission_denied
    }
    // [memory.saved] relaxed: plain bookkeeping for unlock_all_memory(); no data is published.
    if (g_saved_min.load(std::memory_order_relaxed) == 0) {
        g_saved_max.store(cur_max, std::memory_order_relaxed);
        g_saved_flags.store(cur_flags, std::memory_order_relaxed);
        g_saved_min.store(cur_min, std::memory_order_relaxed);
    }

    // A region Windows will not lock (the read-only shared user-data page, some mapped views) is
    // skipped; running out of working-set quota or system resources is a failure.
    DWORD quota_error = 0;
    for_each_committed([&](void* base, SIZE_T bytes) {
        if (::VirtualLock(base, bytes) || quota_error != 0) return;
        const DWORD e = ::GetLastError();
        if (e == ERROR_WORKING_SET_QUOTA || e == ERROR_NO_SYSTEM_RESOURCES || e == ERROR_NOT_ENOUGH_QUOTA) quota_error = e;
    });
    if (quota_error != 0) return unexpected(Errc::os_error, static_cast<int>(quota_error));
    return ok();
}

Result<void> unlock_all_memory() noexcept {
    // ERROR_NOT_LOCKED for regions that were never locked is expected: ignore per-region failures.
    for_each_committed([](void* base, SIZE_T bytes) { (void)::VirtualUnlock(base, bytes); });
    // [memory.saved] relaxed: see lock_all_memory().
    const SIZE_T min = g_saved_min.exchange(0, std::memory_order_relaxed);
    if (min == 0) return ok();  // never locked
    const SIZE_T max = g_saved_max.load(std::memory_order_relaxed);
    const DWORD flags = g_saved_flags.load(std::memory_order_relaxed);
    const DWORD restore = (flags & QUOTA_LIMITS_HARDWS_MIN_ENABLE ? QUOTA_LIMITS_HARDWS_MIN_ENABLE : QUOTA_LIMITS_HARDWS_MIN_DISABLE) |
                          (flags & QUOTA_LIMITS_HARDWS_MAX_ENABLE ? QUOTA_LIMITS_HARDWS_MAX_ENABLE : QUOTA_LIMITS_HARDWS_MAX_DISABLE);
    if (!::SetProcessWorkingSetSizeEx(::GetCurrentProcess(), min, max, restore)) return unexpected(win32::last_error());
    return ok();
}

void prefault(void* base, std::size_t bytes) noexcept {
    if (base == nullptr || bytes == 0) return;
    const std::size_t page = page_size();
    auto* p = static_cast<unsigned char*>(base);
    const std::uintptr_t first = reinterpret_cast<std::uintptr_t>(p);
    // one byte in every page the range touches: the first byte of the range, then page starts
    for (std::uintptr_t a = first; a < first + bytes; a = (a / page + 1) * page) {
        // [prefault.touch] relaxed RMW adding 0: a write that keeps the content even if another
        // thread writes the same byte concurrently; orders nothing.
        std::atomic_ref<unsigned char>(p[a - first]).fetch_add(0, std::memory_order_relaxed);
    }
}

void populate(const void* base, std::size_t bytes) noexcept {
    if (base == nullptr || bytes == 0) return;
    const std::size_t page = page_size();
    const std::uintptr_t first = reinterpret_cast<std::uintptr_t>(base);
    for (std::uintptr_t a = first; a < first + bytes; a = (a / page + 1) * page) {
        // [populate.touch] relaxed load: maps the page; orders nothing, changes nothing.
        (void)std::atomic_ref<unsigned char>(*reinterpret_cast<unsigned char*>(a)).load(std::memory_order_relaxed);
    }
}

void prefault_current_stack(std::size_t bytes) noexcept {
    if (bytes == 0) return;
    ULONG_PTR low = 0, high = 0;
    ::GetCurrentThreadStackLimits(&low, &high);
    const std::size_t page = page_size();
    unsigned char here = 0;
    const auto sp = reinterpret_cast<ULONG_PTR>(&here);
    // Stay clear of the bottom of the reservation: the guard page and the stack-overflow reserve.
    const ULONG_PTR reserve = 8 * page;
    if (sp <= low + reserve) return;
    const std::size_t room = static_cast<std::size_t>(sp - low - reserve);
    touch_stack(bytes < room ? bytes : room, page);
}

std::size_t page_size() noexcept {
    SYSTEM_INFO si{};
    ::GetSystemInfo(&si);
    return si.dwPageSize;
}

bool heavy_barrier_available() noexcept { return true; }
bool heavy_barrier_resolved() noexcept { return true; }  // nothing to register

void heavy_barrier() noexcept {
    // [barrier.heavy.local] seq_cst fence: orders the caller's own accesses around the barrier.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    // Every processor running a thread of this process flushes its write buffer (an IPI with a
    // full barrier on each), the documented Win32 asymmetric barrier.
    ::FlushProcessWriteBuffers();
    std::atomic_thread_fence(std::memory_order_seq_cst);
}

// No cross-process barrier on Windows (FlushProcessWriteBuffers reaches this process only):
// nobody joins, so every process-shared notifier uses a seq_cst fence.
namespace detail {
SystemBarrierJoined g_system_barrier_joined{};
}  // namespace detail

Result<void> join_system_barrier() noexcept { return unexpected(Errc::not_supported); }

SystemBarrierReach system_barrier_reach() noexcept { return SystemBarrierReach::none_can_join; }

bool system_barrier() noexcept {
    // [sysbarrier.local] seq_cst fence: pairs with the notifier's seq_cst fence.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return false;
}

}  // namespace staticrt::platform
