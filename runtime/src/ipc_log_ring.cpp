// SPDX-License-Identifier: MIT
// LogRing's non-template parts: line formatting and the standard-stream sink.
#include <cstdint>

#include "staticrt/ipc/log_ring.hpp"

namespace staticrt::detail {
namespace {
std::size_t put_u64(char* out, std::size_t cap, std::size_t at, std::uint64_t v, int min_digits) noexcept {
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0 || n < min_digits);
    while (n > 0 && at < cap) out[at++] = tmp[--n];
    return at;
}
std::size_t put(char* out, std::size_t cap, std::size_t at, const char* s, std::size_t len) noexcept {
    for (std::size_t i = 0; i < len && at < cap; ++i) out[at++] = s[i];
    return at;
}
}  // namespace

std::size_t format_log_line(char* out, std::size_t cap, std::int64_t pid, std::uint64_t tid, std::int64_t ns,
                            const char* text, std::size_t len) noexcept {
    if (cap == 0) return 0;
    const std::size_t limit = cap - 1;  // room for '\n'
    std::size_t at = put(out, limit, 0, "[", 1);
    at = put_u64(out, limit, at, static_cast<std::uint64_t>(pid < 0 ? 0 : pid), 1);
    at = put(out, limit, at, ":", 1);
    at = put_u64(out, limit, at, tid, 1);
    at = put(out, limit, at, " +", 2);
    const std::uint64_t uns = ns < 0 ? 0 : static_cast<std::uint64_t>(ns);
    at = put_u64(out, limit, at, uns / 1'000'000'000u, 1);
    at = put(out, limit, at, ".", 1);
    at = put_u64(out, limit, at, (uns % 1'000'000'000u) / 1000u, 6);
    at = put(out, limit, at, "] ", 2);
    at = put(out, limit, at, text, len);
    out[at++] = '\n';
    return at;
}

void sink_to_standard(void* stream, const char* line, std::size_t bytes) noexcept {
    (void)platform::write_standard(*static_cast<platform::StandardStream*>(stream), line, bytes);
}

}  // namespace staticrt::detail
