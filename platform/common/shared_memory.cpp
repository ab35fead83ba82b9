// SPDX-License-Identifier: MIT
// Portable part of shared memory: moving a mapping, which segment names are valid (the same rule
// on every OS, so a name that works on Linux works on Windows and the other way round), and
// create_unique() on top of the OS file's create().
#include <cstddef>
#include <cstring>
#include <utility>

#include "staticrt/platform/process.hpp"
#include "staticrt/platform/shared_memory.hpp"

namespace staticrt::platform {
namespace {

bool name_char_ok(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
}

}  // namespace

SharedMemory::SharedMemory(SharedMemory&& other) noexcept { *this = std::move(other); }

SharedMemory& SharedMemory::operator=(SharedMemory&& other) noexcept {
    if (this != &other) {
        close();
        m_data = std::exchange(other.m_data, nullptr);
        m_size = std::exchange(other.m_size, 0);
        m_native = std::exchange(other.m_native, 0);
        std::memcpy(m_name, other.m_name, sizeof m_name);
        other.m_name[0] = '\0';
    }
    return *this;
}

SharedMemory::~SharedMemory() { close(); }

bool valid_shared_memory_name(const char* name) noexcept {
    if (name == nullptr || name[0] == '\0') return false;
    for (std::size_t n = 0; name[n] != '\0'; ++n) {
        if (n + 1 >= kMaxSharedMemoryName) return false;
        if (!name_char_ok(name[n])) return false;
    }
    // "." and ".." are directory entries in /dev/shm, not segment names.
    return std::strcmp(name, ".") != 0 && std::strcmp(name, "..") != 0;
}

Result<void> SharedMemory::create_unique(const char* prefix, std::size_t bytes) noexcept {
    constexpr std::size_t kDigits = 16;
    const std::size_t plen = prefix == nullptr ? 0 : std::strlen(prefix);
    if (prefix == nullptr || plen + kDigits + 1 > kMaxSharedMemoryName) return unexpected(Errc::invalid_argument);
    char name[kMaxSharedMemoryName];
    for (int attempt = 0; attempt < 8; ++attempt) {
        unsigned char rnd[kDigits / 2];
        if (auto r = random_bytes(rnd, sizeof rnd); !r) return r;
        std::memcpy(name, prefix, plen);
        for (std::size_t i = 0; i < sizeof rnd; ++i) {
            name[plen + 2 * i] = "0123456789abcdef"[rnd[i] >> 4];
            name[plen + 2 * i + 1] = "0123456789abcdef"[rnd[i] & 15];
        }
        name[plen + kDigits] = '\0';
        auto r = create(name, bytes);
        // Errc::exhausted with an OS code: the name is taken (squatted or a collision): another one.
        if (r || r.code() != Errc::exhausted || r.error().os_code == 0) return r;
    }
    return unexpected(Errc::exhausted);
}

}  // namespace staticrt::platform
