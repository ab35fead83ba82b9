// POSIX memory residency: mlockall/munlockall, page pre-faulting, page size.
#include "staticrt/platform/memory.hpp"

#include <cerrno>
#include <cstdint>
#include <sys/mman.h>
#include <unistd.h>

namespace staticrt::platform {
namespace {

// One frame of prefault_current_stack(): a fixed local array, smaller than any page size we run
// on, so consecutive frames touch every page of the range they cover.
constexpr std::size_t kStackChunk = 2048;

__attribute__((noinline)) std::size_t touch_stack(std::size_t remaining) noexcept {
    volatile unsigned char chunk[kStackChunk];
    chunk[0] = 0;                 // unused stack below the caller: its content does not matter
    chunk[kStackChunk - 1] = 0;
    std::size_t depth = 1;
    if (remaining > kStackChunk) depth += touch_stack(remaining - kStackChunk);
    // Reading after the call keeps this frame alive (no tail call turns recursion into a loop).
    return depth + (chunk[0] & 0u);
}

}  // namespace

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

void prefault_current_stack(std::size_t bytes) noexcept {
    if (bytes == 0) return;
    (void)touch_stack(bytes);
}

std::size_t page_size() noexcept {
    const long p = ::sysconf(_SC_PAGESIZE);
    return p > 0 ? static_cast<std::size_t>(p) : 4096;
}

}  // namespace staticrt::platform
