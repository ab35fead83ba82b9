// Portable part of shared memory: which segment names are valid (the same rule on every OS, so a
// name that works on Linux works on Windows and the other way round).
#include <cstddef>
#include <cstring>

#include "staticrt/platform/shared_memory.hpp"

namespace staticrt::platform {
namespace {

bool name_char_ok(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
}

}  // namespace

bool valid_shared_memory_name(const char* name) noexcept {
    if (name == nullptr || name[0] == '\0') return false;
    for (std::size_t n = 0; name[n] != '\0'; ++n) {
        if (n + 1 >= kMaxSharedMemoryName) return false;
        if (!name_char_ok(name[n])) return false;
    }
    // "." and ".." are directory entries in /dev/shm, not segment names.
    return std::strcmp(name, ".") != 0 && std::strcmp(name, "..") != 0;
}

}  // namespace staticrt::platform
