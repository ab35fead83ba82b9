// SPDX-License-Identifier: MIT
// Portable parts of the platform layer: Errc names and the contract-violation trap.
#include "staticrt/platform/result.hpp"

#include <cstdio>
#include <cstdlib>

namespace staticrt {

const char* to_string(Errc code) noexcept {
    switch (code) {
        case Errc::ok: return "ok";
        case Errc::timeout: return "timeout";
        case Errc::would_block: return "would_block";
        case Errc::full: return "full";
        case Errc::empty: return "empty";
        case Errc::closed: return "closed";
        case Errc::not_owner: return "not_owner";
        case Errc::over_release: return "over_release";
        case Errc::owner_died: return "owner_died";
        case Errc::invalid_argument: return "invalid_argument";
        case Errc::no_such_cpu: return "no_such_cpu";
        case Errc::exhausted: return "exhausted";
        case Errc::process_died: return "process_died";
        case Errc::os_error: return "os_error";
        case Errc::broken: return "broken";
        case Errc::permission_denied: return "permission_denied";
        case Errc::not_supported: return "not_supported";
        case Errc::corrupted: return "corrupted";
        case Errc::process_stalled: return "process_stalled";
        case Errc::no_space: return "no_space";
        case Errc::task_failed: return "task_failed";
    }
    return "unknown";
}

namespace detail {
[[noreturn]] void contract_violation(const char* what) noexcept {
    // fputs/fflush on stderr: stderr is unbuffered, no allocation.
    std::fputs("staticrt: contract violation: ", stderr);
    std::fputs(what, stderr);
    std::fputs("\n", stderr);
    std::fflush(stderr);
    std::abort();
}
}  // namespace detail

}  // namespace staticrt
