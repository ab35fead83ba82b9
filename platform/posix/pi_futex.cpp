// SPDX-License-Identifier: MIT
// Linux PI futexes: FUTEX_LOCK_PI2 / FUTEX_LOCK_PI / FUTEX_TRYLOCK_PI / FUTEX_UNLOCK_PI.
#include "staticrt/platform/pi_futex.hpp"

#include <cerrno>
#include <ctime>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef FUTEX_LOCK_PI2
#define FUTEX_LOCK_PI2 13  // Linux 5.14: LOCK_PI with a CLOCK_MONOTONIC deadline
#endif

namespace staticrt::platform {
namespace {

static_assert(kPiWaiters == FUTEX_WAITERS && kPiOwnerDied == FUTEX_OWNER_DIED && kPiOwnerMask == FUTEX_TID_MASK,
              "PI word bits must match <linux/futex.h>");

// armhf with 64-bit time_t must use futex_time64 (see wait.cpp).
#if defined(SYS_futex_time64) && !defined(__LP64__)
constexpr long kFutexSyscall = SYS_futex_time64;
struct KernelTimespec {
    long long tv_sec;
    long long tv_nsec;
};
#else
constexpr long kFutexSyscall = SYS_futex;
struct KernelTimespec {
    time_t tv_sec;
    long tv_nsec;
};
#endif

int flags(WaitScope scope) noexcept { return scope == WaitScope::process_private ? FUTEX_PRIVATE_FLAG : 0; }

std::uint32_t* addr(std::atomic<std::uint32_t>& word) noexcept {
    return reinterpret_cast<std::uint32_t*>(&word);  // object representation (checked in wait.hpp)
}

long futex_pi(std::atomic<std::uint32_t>& word, int op, WaitScope scope, const KernelTimespec* ts) noexcept {
    return ::syscall(kFutexSyscall, addr(word), op | flags(scope), 0, ts, nullptr, 0);
}

KernelTimespec to_ts(std::int64_t ns) noexcept {
    KernelTimespec ts{};
    if (ns < 0) ns = 0;
    ts.tv_sec = static_cast<decltype(ts.tv_sec)>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<decltype(ts.tv_nsec)>(ns % 1'000'000'000);
    return ts;
}

// 0: LOCK_PI2 untried, 1: works, 2: ENOSYS/EINVAL (old kernel or emulator): use LOCK_PI.
std::atomic<int> g_lock_pi2{0};

/// The acquired word: clears kPiOwnerDied (we report it once) and says whether it was set.
Result<void> acquired(std::atomic<std::uint32_t>& word) noexcept {
    // [pi.handover] acquire RMW (also clears kPiOwnerDied: only the owner clears it; the kernel may set
    // kPiWaiters concurrently, hence an RMW): pairs with the previous owner's [pi.handover] release
    // in pi_unlock_slow(). The kernel's handover is a full barrier on the hardware; this pair states
    // the same order in the C++ model (and lets ThreadSanitizer see it).
    const std::uint32_t prev = word.fetch_and(~kPiOwnerDied, std::memory_order_acquire);
    if ((prev & kPiOwnerDied) != 0) return unexpected(Errc::owner_died);
    return ok();
}

/// The owner's id is gone (ESRCH): take the word over from the dead id. kPiWaiters may be set (the
/// kernel sets it before it looks the owner up), but nobody can be queued behind a dead owner: a
/// queue needs the kernel's PI state, which needs a live owner, and an owner that dies with a
/// queue hands the word over itself (kPiOwnerDied). So the bit is stale and is dropped.
bool take_over_dead(std::atomic<std::uint32_t>& word) noexcept {
    std::uint32_t v = word.load(std::memory_order_relaxed);  // [pi.died] relaxed: validated by the CAS
    if ((v & kPiOwnerMask) == 0) return false;
    // [pi.lock] acquire: the dead owner's writes (as far as they happened) become visible.
    return word.compare_exchange_strong(v, pi_owner_id() | kPiOwnerDied, std::memory_order_acquire,
                                        std::memory_order_relaxed);
}

}  // namespace

bool pi_supported() noexcept { return true; }

Result<void> pi_lock_slow(std::atomic<std::uint32_t>& word, Deadline deadline, WaitScope scope) noexcept {
    const std::uint32_t me = pi_owner_id();
    for (int attempt = 0;; ++attempt) {
        std::uint32_t v = word.load(std::memory_order_relaxed);  // [pi.peek] relaxed: re-checked by CAS/kernel
        if ((v & kPiOwnerMask) == me) return unexpected(Errc::would_block);
        if (v == 0) {
            // [pi.lock] acquire: pairs with the previous owner's [pi.unlock] release.
            if (word.compare_exchange_strong(v, me, std::memory_order_acquire, std::memory_order_relaxed)) return ok();
            continue;
        }
        long rc;
        const bool trying = deadline.is_poll() || (!deadline.is_never() && deadline.instant().ns() <= 0);
        if (trying) {
            rc = futex_pi(word, FUTEX_TRYLOCK_PI, scope, nullptr);
        } else if (deadline.is_never()) {
            rc = futex_pi(word, FUTEX_LOCK_PI, scope, nullptr);
        } else {
            rc = -1;
            errno = ENOSYS;
            // [pi.cap] relaxed: a cached capability; nothing is published with it.
            if (g_lock_pi2.load(std::memory_order_relaxed) != 2) {
                const KernelTimespec ts = to_ts(deadline.instant().ns());
                rc = futex_pi(word, FUTEX_LOCK_PI2, scope, &ts);
                if (rc == 0) g_lock_pi2.store(1, std::memory_order_relaxed);
                else if ((errno == ENOSYS || errno == EINVAL) && g_lock_pi2.load(std::memory_order_relaxed) == 0)
                    g_lock_pi2.store(2, std::memory_order_relaxed);
            }
            if (rc != 0 && g_lock_pi2.load(std::memory_order_relaxed) == 2) {
                // FUTEX_LOCK_PI measures its absolute deadline on CLOCK_REALTIME.
                timespec now{};
                ::clock_gettime(CLOCK_REALTIME, &now);
                const std::int64_t real_ns = static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
                const KernelTimespec ts = to_ts(Instant::sat_add(real_ns, deadline.remaining_ns()));
                rc = futex_pi(word, FUTEX_LOCK_PI, scope, &ts);
            }
        }
        if (rc == 0) return acquired(word);  // the kernel made us the owner (a full barrier)
        const int err = errno;
        switch (err) {
            case ETIMEDOUT: return unexpected(Errc::timeout);
            case EDEADLK: return unexpected(Errc::would_block);
            case EINTR: continue;
            case EAGAIN:  // TRYLOCK_PI: owned by a live thread; LOCK_PI: the owner is exiting
                if (trying) return unexpected(Errc::timeout);
                ::sched_yield();
                continue;
            case ESRCH:  // the owner's id is not a live thread: it died without unlocking
                if (take_over_dead(word)) return acquired(word);
                if (attempt > 1000) return unexpected(Errc::os_error, err);
                continue;
            case ENOSYS: return unexpected(Errc::not_supported, err);
            default: return unexpected(Errc::os_error, err);
        }
    }
}

Result<void> pi_unlock_slow(std::atomic<std::uint32_t>& word, WaitScope scope) noexcept {
    const std::uint32_t me = pi_owner_id();
    std::uint32_t v = word.load(std::memory_order_relaxed);  // [pi.peek] relaxed
    if ((v & kPiOwnerMask) != me) return unexpected(Errc::not_owner);
    if ((v & kPiWaiters) == 0) {
        // [pi.unlock] release: publishes the critical section to the next [pi.lock] acquire.
        if (word.compare_exchange_strong(v, 0, std::memory_order_release, std::memory_order_relaxed)) return ok();
    }
    // [pi.handover] release RMW (value unchanged): the critical section happens-before the next
    // owner's acquire in acquired(), whom the kernel hands the word to below.
    (void)word.fetch_or(0, std::memory_order_release);
    if (futex_pi(word, FUTEX_UNLOCK_PI, scope, nullptr) == 0) return ok();  // kernel: full barrier
    const int err = errno;
    if (err == EPERM) return unexpected(Errc::not_owner);
    if (err == ENOSYS) return unexpected(Errc::not_supported, err);
    return unexpected(Errc::os_error, err);
}

}  // namespace staticrt::platform
