// staticrt/platform/memory.hpp — keep memory resident: lock all pages, pre-fault stacks.
//
// Real-time threads must not take page faults: lock_all_memory() pins current and future
// pages (mlockall(MCL_CURRENT|MCL_FUTURE) / a larger working set + VirtualLock on Windows),
// prefault() touches every page of a region so the first use costs no fault.
//
//   if (auto r = platform::lock_all_memory(); !r) log("running unlocked: %s", to_string(r.error().code));
#pragma once

#include <cstddef>

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
/// Touches `bytes` of the calling thread's stack below the current frame.
void prefault_current_stack(std::size_t bytes) noexcept;
/// The OS page size.
[[nodiscard]] std::size_t page_size() noexcept;

}  // namespace staticrt::platform
