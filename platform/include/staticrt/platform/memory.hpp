// SPDX-License-Identifier: MIT
// staticrt/platform/memory.hpp — keep memory resident: lock all pages, pre-fault stacks.
//
// Real-time threads must not take page faults: lock_all_memory() pins current and future
// pages (mlockall(MCL_CURRENT|MCL_FUTURE) / a larger working set + VirtualLock on Windows),
// prefault() touches every page of a region so the first use costs no fault.
//
//   if (auto r = platform::lock_all_memory(); !r) log("running unlocked: %s", to_string(r.error().code));
//
// It also offers an asymmetric memory barrier pair: heavy_barrier() makes every running thread
// of this process execute a full memory barrier (Linux membarrier(PRIVATE_EXPEDITED), Win32
// FlushProcessWriteBuffers), so the frequent side of a Dekker-style hand-off only needs
// light_barrier(), a compiler-only barrier. heavy_barrier() costs a syscall plus an IPI per
// CPU running a thread of the process: use it only on slow paths (a thread about to sleep).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "staticrt/platform/arch.hpp"
#include "staticrt/platform/result.hpp"

namespace staticrt::platform {

/// Locks all current and future pages of the process in RAM. Errc::permission_denied when
/// the process lacks the right (RLIMIT_MEMLOCK / CAP_IPC_LOCK); Errc::os_error otherwise.
[[nodiscard]] Result<void> lock_all_memory() noexcept;
/// Undoes lock_all_memory().
[[nodiscard]] Result<void> unlock_all_memory() noexcept;
/// Touches every page of [base, base+bytes) (writes zero to the first byte of each page
/// without changing content that is already there: it reads and writes back).
void prefault(void* base, std::size_t bytes) noexcept;
/// Maps the pages of [base, base+bytes) into this process's page tables now, without writing
/// them (safe on shared memory other processes write at the same time): Linux >= 5.14
/// madvise(MADV_POPULATE_READ), otherwise (and on Windows) a read of one byte per page. For a
/// shared segment another process already filled, this replaces one page fault per page on
/// first access by one call (a page fault costs microseconds under virtualisation).
void populate(const void* base, std::size_t bytes) noexcept;
/// Touches `bytes` of the calling thread's stack below the current frame.
void prefault_current_stack(std::size_t bytes) noexcept;
/// The OS page size.
[[nodiscard]] std::size_t page_size() noexcept;

/// Whether heavy_barrier() reaches every thread of the process. The first call queries the OS
/// (and registers the process for expedited membarrier on Linux); later calls load a cached
/// state word. False under kernels/emulators without membarrier (e.g. some qemu-user builds):
/// then heavy_barrier() is only a local full fence and the fast side must use a real fence.
/// Thread-safe; the answer never changes once given.
[[nodiscard]] bool heavy_barrier_available() noexcept;
/// Whether the OS was asked already (heavy_barrier_available() answers from its cache). On Linux
/// the platform asks at load time, before main(), while the process has one thread: registering
/// for membarrier once threads exist costs an RCU grace period (milliseconds), which would
/// otherwise land on the first wait or wake of the program. True on Windows (nothing to ask).
[[nodiscard]] bool heavy_barrier_resolved() noexcept;
/// Process-wide full memory barrier: when it returns, every thread of this process that was
/// running has executed a full memory barrier, and the caller's earlier stores are visible to
/// all of them. Pairs with light_barrier() on the other threads. When heavy_barrier_available()
/// is false it degrades to a local seq_cst fence (not a process-wide barrier).
void heavy_barrier() noexcept;
/// The fast half of the asymmetric pair: a compiler-only barrier (no instruction). It keeps
/// the compiler from moving memory accesses across it; the CPU ordering is supplied by a
/// heavy_barrier() on the other side.
inline void light_barrier() noexcept { std::atomic_signal_fence(std::memory_order_seq_cst); }

// ---------------------------------------------------------------- across processes
// The same asymmetric pair for memory shared between processes (a queue in a SharedSegment):
// system_barrier() makes every running thread of every process that *joined* execute a full
// barrier (Linux >= 4.16: membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED); a process joins with
// MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED). A process that joined may use light_barrier()
// against a system_barrier() of any other process; one that did not join uses a seq_cst fence.
// Joining is opt-in: a joined process takes an IPI whenever any process on the machine issues a
// system barrier (each one a waiter about to sleep), which a process with hard real-time
// threads may not want.

/// Joins this process (and the fork() children it creates afterwards; exec resets it) to the
/// receivers of system_barrier(). Call it early, while the process has one thread: once
/// threads exist the kernel waits for an RCU grace period (milliseconds). Idempotent.
/// Errc::not_supported where the OS has no such barrier (Windows, Linux < 4.16, membarrier
/// refused by a seccomp filter or an emulator); Errc::os_error for any other refusal.
[[nodiscard]] Result<void> join_system_barrier() noexcept;

/// What a system_barrier() issued by this process achieves.
enum class SystemBarrierReach : std::uint8_t {
    joined_processes,   ///< every running thread of every process that joined
    none_can_join,      ///< a local fence only, and no process of this OS can join (Windows)
    not_from_here,      ///< a local fence only, although other processes may have joined
                        ///< (this process may not issue membarrier: seccomp, an emulator)
};
/// The reach of system_barrier() from this process (asked once, then a cached word).
[[nodiscard]] SystemBarrierReach system_barrier_reach() noexcept;

namespace detail {
/// 1 once join_system_barrier() succeeded in this process (or in the parent it was forked
/// from), else 0. A cache line of its own: every process-shared notify reads it.
struct alignas(kCacheLine) SystemBarrierJoined {
    std::atomic<std::uint8_t> value{0};
};
static_assert(sizeof(SystemBarrierJoined) == kCacheLine, "SystemBarrierJoined must fill its cache line");
extern SystemBarrierJoined g_system_barrier_joined;
}  // namespace detail

/// Whether join_system_barrier() succeeded in this process: then light_barrier() pairs with
/// any process's system_barrier(). One relaxed byte load (the process-shared notify path).
[[nodiscard]] inline bool system_barrier_joined() noexcept {
    // [sysbarrier.joined.load] relaxed: stored once, after the registration syscall returned;
    // the kernel marks every CPU running this process before that syscall returns, so any
    // thread that reads 1 already receives the barriers (no memory of ours is published by it).
    return detail::g_system_barrier_joined.value.load(std::memory_order_relaxed) != 0;
}

/// Cross-process full memory barrier: the caller's seq_cst fence, and where
/// system_barrier_reach() is joined_processes a barrier on every running thread of every
/// joined process, after which the caller's earlier stores are visible to all of them.
/// Returns whether it reached the joined processes (false: only the local fence).
bool system_barrier() noexcept;

}  // namespace staticrt::platform
