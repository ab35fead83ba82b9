// SPDX-License-Identifier: MIT
// Portable part of ProcessHandle: moving one. What a handle holds is the OS file's business
// (release_native() closes it there); a moved-from handle is empty, like a default-made one.
#include <utility>

#include "staticrt/platform/process.hpp"

namespace staticrt::platform {

ProcessHandle::ProcessHandle(ProcessHandle&& other) noexcept { *this = std::move(other); }

ProcessHandle& ProcessHandle::operator=(ProcessHandle&& other) noexcept {
    if (this != &other) {
        release_native();
        m_pid = std::exchange(other.m_pid, 0);
        m_status = std::exchange(other.m_status, ExitStatus{});
        m_native = std::exchange(other.m_native, NativeValue{});
        m_native2 = std::exchange(other.m_native2, 0);
    }
    return *this;
}

ProcessHandle::~ProcessHandle() { release_native(); }

}  // namespace staticrt::platform
