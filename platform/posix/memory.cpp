// SPDX-License-Identifier: MIT
// POSIX memory residency: mlockall/munlockall, page pre-faulting, page size.
#include "staticrt/platform/memory.hpp"

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__linux__) && __has_include(<linux/membarrier.h>)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#define STATICRT_HAVE_MEMBARRIER 1
#endif

namespace staticrt::platform {
namespace {

// One frame of prefault_current_stack(): a fixed local array, smaller than any page size we run
// on, so consecutive frames touch every page of the range they cover.
constexpr std::size_t kStackChunk = 2048;

__attribute__((noinline)) std::size_t touch_stack(std::size_t remaining) noexcept {
    volatile unsigned char chunk[kStackChunk];
    chunk[0] = 0;                 // unused stack below the caller: its content does not matter
    chunk[kStackChunk - 1] = 0;
    // The array's address escapes: clang 14 otherwise shrinks the frame to 8 bytes (both volatile
    // stores land in one word) and touches nothing (PrefaultCurrentStack_Large_PagesBelowTheFrameResident).
    asm volatile("" : : "r"(chunk) : "memory");
    std::size_t depth = 1;
    if (remaining > kStackChunk) depth += touch_stack(remaining - kStackChunk);
    // Reading after the call keeps this frame alive (no tail call turns recursion into a loop).
    return depth + (chunk[0] & 0u);
}

// heavy_barrier() state: 0 not asked yet, 1 membarrier(PRIVATE_EXPEDITED) registered, 2 none.
// Written once per process (racing first callers compute the same answer; registration is
// idempotent), so it is a namespace-scope word, not a function-local static.
constexpr std::uint32_t kBarrierUnknown = 0;
constexpr std::uint32_t kBarrierAvailable = 1;
constexpr std::uint32_t kBarrierUnavailable = 2;
std::atomic<std::uint32_t> g_barrier_state{kBarrierUnknown};

std::uint32_t resolve_barrier() noexcept {
#if defined(STATICRT_HAVE_MEMBARRIER)
    const long cmds = ::syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    // ENOSYS (old kernel, some qemu-user builds) or EINVAL: no membarrier at all.
    if (cmds < 0) return kBarrierUnavailable;
    const long need = MEMBARRIER_CMD_PRIVATE_EXPEDITED | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED;
    if ((cmds & need) != need) return kBarrierUnavailable;
    if (::syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) != 0) {
        return kBarrierUnavailable;
    }
    return kBarrierAvailable;
#else
    return kBarrierUnavailable;
#endif
}

}  // namespace

bool heavy_barrier_available() noexcept {
    // [barrier.state.load] acquire: pairs with [barrier.state.store]; the registration (a
    // syscall) happened before the state that says it did.
    std::uint32_t s = g_barrier_state.load(std::memory_order_acquire);
    if (s == kBarrierUnknown) {
        s = resolve_barrier();
        // [barrier.state.store] release: pairs with [barrier.state.load]. Racing resolvers store
        // the same value.
        g_barrier_state.store(s, std::memory_order_release);
    }
    return s == kBarrierAvailable;
}

bool heavy_barrier_resolved() noexcept {
    // [barrier.state.load] acquire: as in heavy_barrier_available().
    return g_barrier_state.load(std::memory_order_acquire) != kBarrierUnknown;
}

namespace {
// Registration at load time, while the process normally has one thread: with one mm user the
// kernel registers with a local barrier (~15 us here), but once threads exist it waits for an
// RCU grace period. Resolved lazily on the first notify, that wait (3-25 ms on the 16-core VM,
// every worker of a fresh ThreadPool stalled in it) fell inside the first parallel map, which
// then ran on the caller alone (docs/bench/SCALING.md, "The first map after start()"). The
// registration is inherited across fork() and reset by exec, like this state word.
__attribute__((constructor)) void resolve_barrier_at_load() noexcept { (void)heavy_barrier_available(); }
}  // namespace

void heavy_barrier() noexcept {
    // [barrier.heavy.local] seq_cst fence: orders the caller's own accesses around the barrier
    // in the C++ model (the syscall also implies a full barrier on the calling CPU).
    std::atomic_thread_fence(std::memory_order_seq_cst);
#if defined(STATICRT_HAVE_MEMBARRIER)
    if (heavy_barrier_available()) {
        // Cannot fail once registered (the kernel checks only the command and the registration).
        (void)::syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
        std::atomic_thread_fence(std::memory_order_seq_cst);
    }
#endif
}

// ---------------------------------------------------------------- across processes
namespace detail {
SystemBarrierJoined g_system_barrier_joined{};
}  // namespace detail

namespace {
// system_barrier_reach() state: 0 not asked yet, else 1 + the SystemBarrierReach value.
std::atomic<std::uint32_t> g_reach_state{0};

SystemBarrierReach resolve_reach() noexcept {
#if defined(STATICRT_HAVE_MEMBARRIER)
    const long cmds = ::syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    if (cmds >= 0 && (cmds & MEMBARRIER_CMD_GLOBAL_EXPEDITED) != 0) return SystemBarrierReach::joined_processes;
#endif
#if defined(__linux__)
    // Linux refusing membarrier here (seccomp, an emulator, an old kernel): another process on
    // the machine may still have joined and use light barriers.
    return SystemBarrierReach::not_from_here;
#else
    return SystemBarrierReach::none_can_join;  // join_system_barrier() is not_supported here
#endif
}
}  // namespace

SystemBarrierReach system_barrier_reach() noexcept {
    // [sysbarrier.reach.load] relaxed: a cached answer; the QUERY it caches publishes nothing.
    std::uint32_t s = g_reach_state.load(std::memory_order_relaxed);
    if (s == 0) {
        s = 1 + static_cast<std::uint32_t>(resolve_reach());
        // [sysbarrier.reach.store] relaxed: racing resolvers store the same answer.
        g_reach_state.store(s, std::memory_order_relaxed);
    }
    return static_cast<SystemBarrierReach>(s - 1);
}

Result<void> join_system_barrier() noexcept {
#if defined(STATICRT_HAVE_MEMBARRIER)
    const long cmds = ::syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    const long need = MEMBARRIER_CMD_GLOBAL_EXPEDITED | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED;
    if (cmds < 0 || (cmds & need) != need) return unexpected(Errc::not_supported, cmds < 0 ? errno : 0);
    if (::syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0) != 0) {
        const int err = errno;
        return unexpected(err == ENOSYS || err == EINVAL || err == EPERM ? Errc::not_supported : Errc::os_error, err);
    }
    // [sysbarrier.joined.store] relaxed: see [sysbarrier.joined.load]; after the syscall returned.
    detail::g_system_barrier_joined.value.store(1, std::memory_order_relaxed);
    return ok();
#else
    return unexpected(Errc::not_supported);
#endif
}

bool system_barrier() noexcept {
    // [sysbarrier.local] seq_cst fence: orders the caller's own accesses around the barrier and
    // is the whole barrier where membarrier cannot be issued (pairs with a notifier's fence).
    std::atomic_thread_fence(std::memory_order_seq_cst);
#if defined(STATICRT_HAVE_MEMBARRIER)
    if (system_barrier_reach() == SystemBarrierReach::joined_processes) {
        // Returns 0 whenever QUERY listed the command (the caller need not have joined).
        if (::syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0) == 0) {
            std::atomic_thread_fence(std::memory_order_seq_cst);
            return true;
        }
        // Not expected once QUERY listed it; if it happens, say so from now on, so that the
        // waiter about to sleep re-checks on its own (OsWaitPolicy::wait_registered).
        // [sysbarrier.reach.store] relaxed: as in system_barrier_reach().
        g_reach_state.store(1 + static_cast<std::uint32_t>(SystemBarrierReach::not_from_here), std::memory_order_relaxed);
    }
#endif
    return false;
}

Result<void> lock_all_memory() noexcept {
    if (::mlockall(MCL_CURRENT | MCL_FUTURE) == 0) return ok();
    const int err = errno;
    // EPERM: no CAP_IPC_LOCK and RLIMIT_MEMLOCK is 0; ENOMEM: more to lock than RLIMIT_MEMLOCK.
    if (err == EPERM || err == ENOMEM) return unexpected(Errc::permission_denied, err);
    return unexpected(Errc::os_error, err);
}

Result<void> unlock_all_memory() noexcept {
    if (::munlockall() == 0) return ok();
    return unexpected(Errc::os_error, errno);
}

void prefault(void* base, std::size_t bytes) noexcept {
    if (base == nullptr || bytes == 0) return;
    const std::size_t page = page_size();
    auto* const first = static_cast<unsigned char*>(base);
    // Read and write back the first byte of every page of the range (the first page from `base`,
    // the others from their page boundary): a write fault maps a private page, a read alone would
    // map the shared zero page. Not for regions other threads write at the same time.
    const std::uintptr_t start = reinterpret_cast<std::uintptr_t>(first);
    std::size_t offset = 0;
    while (offset < bytes) {
        volatile unsigned char* v = first + offset;
        *v = *v;
        const std::uintptr_t next_page = ((start + offset) / page + 1) * page;
        offset = next_page - start;
    }
}

void populate(const void* base, std::size_t bytes) noexcept {
    if (base == nullptr || bytes == 0) return;
    const std::size_t page = page_size();
    const std::uintptr_t start = reinterpret_cast<std::uintptr_t>(base) / page * page;
    const std::uintptr_t end = reinterpret_cast<std::uintptr_t>(base) + bytes;
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // Linux 5.14 uapi value; older kernels answer EINVAL
#endif
    // NOLINTNEXTLINE(performance-no-int-to-ptr): the page-aligned start of the caller's range
    if (::madvise(reinterpret_cast<void*>(start), end - start, MADV_POPULATE_READ) == 0) return;
    for (std::uintptr_t a = start < reinterpret_cast<std::uintptr_t>(base) ? reinterpret_cast<std::uintptr_t>(base) : start;
         a < end; a = (a / page + 1) * page) {
        // [populate.touch] relaxed load: maps the page; orders nothing, changes nothing.
        (void)std::atomic_ref<unsigned char>(*reinterpret_cast<unsigned char*>(a)).load(std::memory_order_relaxed);
    }
}

void prefault_current_stack(std::size_t bytes) noexcept {
    if (bytes == 0) return;
    (void)touch_stack(bytes);
}

std::size_t page_size() noexcept {
    const long p = ::sysconf(_SC_PAGESIZE);
    return p > 0 ? static_cast<std::size_t>(p) : 4096;
}

}  // namespace staticrt::platform
