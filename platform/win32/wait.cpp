// Win32 wait-on-address: WaitOnAddress / WakeByAddressSingle / WakeByAddressAll.
//
// WaitOnAddress takes a relative timeout in milliseconds measured on the interrupt-time clock,
// and may return early or spuriously. Each round re-computes the time left to the Deadline on
// the monotonic clock, rounded UP to a whole millisecond, so Errc::timeout is only reported
// once the deadline has passed on Instant::now().
//
// WaitOnAddress only sees threads of the same process. WaitScope::process_shared therefore
// POLLS the word (yield a few times, then 1 ms sleeps) until it differs or the deadline passes,
// and wake_*() with that scope do nothing: correct (no lost wake-up, timeouts honoured) but with
// up to a scheduler tick of wake-up latency and no sleeping in the kernel on the word. A named
// kernel object per word will replace it (see docs/platform.md, "Windows").
#include "win32_detail.hpp"

#include "staticrt/platform/wait.hpp"

namespace staticrt::platform {
namespace {

void* addr(const std::atomic<std::uint32_t>& word) noexcept {
    // The wait word is the atomic's object representation (size and lock-freedom checked in wait.hpp).
    return const_cast<std::atomic<std::uint32_t>*>(&word);
}

// process_shared: no cross-process WaitOnAddress. Poll until the word differs or the deadline.
Result<void> poll_shared(const std::atomic<std::uint32_t>& word, std::uint32_t expected, Deadline deadline) noexcept {
    for (unsigned round = 0;; ++round) {
        // [wait.shared.poll] relaxed: only decides whether to return; the caller re-loads with acquire.
        if (word.load(std::memory_order_relaxed) != expected) return ok();
        if (deadline.is_poll() || deadline.expired()) return unexpected(Errc::timeout);
        if (round < 16) {
            ::SwitchToThread();
        } else {
            const std::int64_t left = deadline.remaining_ns();
            ::Sleep(left < 1'000'000 ? 0 : 1);  // never sleeps a whole tick past a near deadline on purpose
        }
    }
}

}  // namespace

Result<void> wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected, Deadline deadline,
                  WaitScope scope) noexcept {
    if (scope != WaitScope::process_private) return poll_shared(word, expected, deadline);
    for (;;) {
        const DWORD ms = win32::timeout_ms(deadline);
        if (ms == 0) {
            // The deadline has passed (or poll()). Like a futex: a word that already differs is a
            // success, an unchanged one a timeout.
            // [wait.poll] relaxed: only picks the return code; the caller re-loads with acquire.
            return word.load(std::memory_order_relaxed) == expected ? Result<void>(Errc::timeout) : ok();
        }
        std::uint32_t compare = expected;
        // WaitOnAddress compares *addr with `compare` atomically with parking (no lost wake-up) and
        // returns TRUE at once when they differ, when woken, or spuriously.
        if (::WaitOnAddress(addr(word), &compare, sizeof compare, ms)) return ok();
        const DWORD err = ::GetLastError();
        if (err != ERROR_TIMEOUT) return unexpected(Errc::os_error, static_cast<int>(err));
        // ERROR_TIMEOUT: loop; the next round reports timeout only if the monotonic deadline passed.
    }
}

void wake_one(const std::atomic<std::uint32_t>& word, WaitScope scope) noexcept {
    // process_shared waiters poll (see the file comment): nobody is parked through that scope.
    if (scope == WaitScope::process_private) ::WakeByAddressSingle(addr(word));
}

void wake_all(const std::atomic<std::uint32_t>& word, WaitScope scope) noexcept {
    if (scope == WaitScope::process_private) ::WakeByAddressAll(addr(word));
}

}  // namespace staticrt::platform
