// SPDX-License-Identifier: MIT
// Linux futex wait-on-address. FUTEX_WAIT_BITSET with FUTEX_CLOCK_REALTIME unset takes an
// absolute CLOCK_MONOTONIC deadline, so a wall-clock step never lengthens a wait, and
// re-waiting after EINTR needs no recomputation.
#include "staticrt/platform/wait.hpp"

#include <cerrno>
#include <climits>
#include <cstdint>
#include <ctime>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace staticrt::platform {
namespace {

// armhf with 64-bit time_t (_TIME_BITS=64) must use futex_time64; elsewhere SYS_futex takes
// a native timespec whose tv_sec is already 64-bit.
#if defined(SYS_futex_time64) && !defined(__LP64__)
constexpr long kFutexSyscall = SYS_futex_time64;
#else
constexpr long kFutexSyscall = SYS_futex;
#endif

struct KernelTimespec {  // the kernel's __kernel_timespec: always 64-bit seconds on the *_time64 call
#if defined(SYS_futex_time64) && !defined(__LP64__)
    long long tv_sec;
    long long tv_nsec;
#else
    time_t tv_sec;
    long tv_nsec;
#endif
};

int op_flags(WaitScope scope) noexcept { return scope == WaitScope::process_private ? FUTEX_PRIVATE_FLAG : 0; }

std::uint32_t* addr(const std::atomic<std::uint32_t>& word) noexcept {
    // The futex word is the atomic's object representation (checked in wait.hpp).
    return reinterpret_cast<std::uint32_t*>(const_cast<std::atomic<std::uint32_t>*>(&word));
}

}  // namespace

Result<void> wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected, Deadline deadline,
                  WaitScope scope) noexcept {
    // A deadline before the clock's epoch (Deadline::at(Instant(-1))) is long past: poll. The
    // kernel would refuse its negative timespec with EINVAL.
    if (deadline.is_poll() || (!deadline.is_never() && deadline.instant().ns() <= 0)) {
        // [wait.poll] relaxed: only tells whether to report timeout; the caller re-loads with acquire.
        return word.load(std::memory_order_relaxed) == expected ? Result<void>(unexpected(Errc::timeout)) : ok();
    }
    KernelTimespec ts{};
    KernelTimespec* pts = nullptr;
    if (!deadline.is_never()) {
        const std::int64_t ns = deadline.instant().ns();
        ts.tv_sec = static_cast<decltype(ts.tv_sec)>(ns / 1'000'000'000);
        ts.tv_nsec = static_cast<decltype(ts.tv_nsec)>(ns % 1'000'000'000);
        pts = &ts;
    }
    const long rc = ::syscall(kFutexSyscall, addr(word), FUTEX_WAIT_BITSET | op_flags(scope), expected, pts, nullptr,
                              FUTEX_BITSET_MATCH_ANY);
    if (rc == 0) return ok();
    const int err = errno;
    switch (err) {
        case EAGAIN: return ok();   // the word already differed
        case EINTR: return ok();    // treated as a spurious wake-up; the caller loops
        case ETIMEDOUT: return unexpected(Errc::timeout);
        case ENOSYS: return unexpected(Errc::not_supported, err);
        default: return unexpected(Errc::os_error, err);
    }
}

void wake_one(const std::atomic<std::uint32_t>& word, WaitScope scope) noexcept {
    (void)::syscall(kFutexSyscall, addr(word), FUTEX_WAKE | op_flags(scope), 1, nullptr, nullptr, 0);
}

void wake_all(const std::atomic<std::uint32_t>& word, WaitScope scope) noexcept {
    (void)::syscall(kFutexSyscall, addr(word), FUTEX_WAKE | op_flags(scope), INT_MAX, nullptr, nullptr, 0);
}

Result<std::uint32_t> parked_on(const std::atomic<std::uint32_t>& word, WaitScope scope) noexcept {
    for (;;) {
        // [wait.count] relaxed: the value only arms the compare of the requeue (EAGAIN: retry).
        const std::uint32_t v = word.load(std::memory_order_relaxed);
        // Requeue every waiter (none woken) from the word onto itself: the count comes back.
        const long rc = ::syscall(kFutexSyscall, addr(word), FUTEX_CMP_REQUEUE | op_flags(scope), 0,
                                  reinterpret_cast<void*>(static_cast<std::uintptr_t>(INT_MAX)), addr(word), v);
        if (rc >= 0) return static_cast<std::uint32_t>(rc);
        const int err = errno;
        if (err == EAGAIN) continue;  // the word changed between the load and the call
        return unexpected(err == ENOSYS ? Errc::not_supported : Errc::os_error, err);
    }
}

}  // namespace staticrt::platform
