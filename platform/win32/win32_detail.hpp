// SPDX-License-Identifier: MIT
// platform/win32/win32_detail.hpp — private helpers shared by the Win32 .cpp files.
//
// Not installed and not part of the interface: only platform/win32/*.cpp include it. It is the
// one place that includes <windows.h> (lean, without min/max macros) and holds the conversions
// every file needs: Deadline -> a millisecond timeout that never returns early, GetLastError()
// -> Errc, the CPU-set -> GROUP_AFFINITY mapping used by cpu.cpp and thread.cpp, the
// shared-memory lookup that wait.cpp uses to name a process-shared word, and the per-thread
// kept handle (time.cpp's timer, wait.cpp's park event).
#pragma once

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <atomic>
#include <cstdint>

#include "staticrt/platform/cpu.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/time.hpp"

namespace staticrt::platform::win32 {

/// The longest finite timeout a Win32 wait takes (INFINITE is 0xFFFFFFFF and means never).
inline constexpr DWORD kMaxFiniteMs = INFINITE - 1;

/// The timeout in milliseconds for one Win32 wait toward `deadline`: INFINITE for never(),
/// 0 when it has passed, otherwise the time left rounded UP to a whole millisecond so the
/// wait cannot report a timeout before the deadline (callers still re-check the monotonic
/// clock: Win32 timeouts run on the interrupt-time clock, not on QueryPerformanceCounter).
[[nodiscard]] inline DWORD timeout_ms(Deadline deadline) noexcept {
    if (deadline.is_never()) return INFINITE;
    const std::int64_t left = deadline.remaining_ns();
    if (left <= 0) return 0;
    const std::int64_t ms = left / 1'000'000 + ((left % 1'000'000) != 0 ? 1 : 0);
    return ms >= static_cast<std::int64_t>(kMaxFiniteMs) ? kMaxFiniteMs : static_cast<DWORD>(ms);
}

/// An Error for a failed Win32 call: access/privilege refusals are permission_denied.
[[nodiscard]] inline Error last_error() noexcept {
    const DWORD e = ::GetLastError();
    if (e == ERROR_ACCESS_DENIED || e == ERROR_PRIVILEGE_NOT_HELD) return Error{Errc::permission_denied, static_cast<int>(e)};
    return Error{Errc::os_error, static_cast<int>(e)};
}

/// The group + mask of `cpus` for SetThreadGroupAffinity. Errc::invalid_argument: empty, or the
/// CPUs lie in more than one processor group (a thread runs in one group at a time);
/// Errc::no_such_cpu: a CPU is outside the machine or the process affinity. (cpu.cpp)
[[nodiscard]] Result<GROUP_AFFINITY> group_affinity_of(const CpuSet& cpus) noexcept;

/// Pins `thread` to `cpus` (checks as group_affinity_of). (cpu.cpp)
[[nodiscard]] Result<void> pin_native_thread(HANDLE thread, const CpuSet& cpus) noexcept;

/// Where a word lies in a staticrt shared-memory segment: the segment's identity (the same in
/// every process that maps it) and the word's byte offset in it.
struct SharedWordKey {
    std::uint64_t segment = 0;
    std::uint64_t offset = 0;
};

/// True when `address` lies inside a segment this process mapped with SharedMemory::create()
/// or open() (shared_memory.cpp keeps the table of mappings; wait.cpp asks).
[[nodiscard]] bool shared_word_key(const void* address, SharedWordKey& out) noexcept;

/// One HANDLE per thread, made at the thread's first get() and kept in a fiber-local slot whose
/// callback closes it when the thread exits (FlsAlloc: no heap, no compiler TLS — mingw's emutls
/// would allocate). The slot itself is allocated at the first get() of any thread. Usable as a
/// constinit global; one object per kind of handle.
class ThreadKeptHandle {
public:
    constexpr ThreadKeptHandle() noexcept = default;

    /// The calling thread's handle, made by `make()` (a HANDLE, nullptr on failure) when the
    /// thread has none yet; nullptr when none can be kept (no slot, make() or FlsSetValue
    /// failed): the caller then makes one for its own call and closes it after.
    template <class Make>
    [[nodiscard]] HANDLE get(Make make) noexcept {
        const DWORD index = slot();
        if (index == FLS_OUT_OF_INDEXES) return nullptr;
        if (void* kept = ::FlsGetValue(index)) return static_cast<HANDLE>(kept);
        HANDLE handle = make();
        if (handle == nullptr) return nullptr;
        if (!::FlsSetValue(index, handle)) {
            ::CloseHandle(handle);
            return nullptr;
        }
        return handle;
    }

private:
    static void WINAPI close_kept(void* handle) noexcept {
        if (handle != nullptr) ::CloseHandle(static_cast<HANDLE>(handle));
    }

    DWORD slot() noexcept {
        // [fls.slot] acquire: pairs with the acq_rel CAS below; the index is a plain value, but
        // the slot must exist (FlsAlloc done) before FlsGetValue uses it.
        const DWORD index = m_index.load(std::memory_order_acquire);
        if (index != FLS_OUT_OF_INDEXES) return index;
        const DWORD mine = ::FlsAlloc(&close_kept);
        if (mine == FLS_OUT_OF_INDEXES) return FLS_OUT_OF_INDEXES;
        DWORD expected = FLS_OUT_OF_INDEXES;
        // [fls.slot] acq_rel: publishes our slot, or (failure) acquires the winner's.
        if (m_index.compare_exchange_strong(expected, mine, std::memory_order_acq_rel, std::memory_order_acquire))
            return mine;
        ::FlsFree(mine);  // no thread has stored a value in it yet
        return expected;
    }

    std::atomic<DWORD> m_index{FLS_OUT_OF_INDEXES};
};

}  // namespace staticrt::platform::win32
