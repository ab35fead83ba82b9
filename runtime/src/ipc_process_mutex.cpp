// SPDX-License-Identifier: MIT
// ProcessMutex over platform::RobustMutex, with owner identity for held_by_current_thread().
#include "staticrt/ipc/process_mutex.hpp"

#include "staticrt/platform/process.hpp"

namespace staticrt::ipc {
namespace {
// A distinct address per thread; with the pid it names a thread of a process.
thread_local char t_token = 0;
std::uint64_t my_token() noexcept { return reinterpret_cast<std::uintptr_t>(&t_token); }
}  // namespace

ProcessMutex::ProcessMutex() noexcept {
    if (!m_native.init()) staticrt::detail::contract_violation("ProcessMutex: the OS refused to initialise a robust mutex");
}

ProcessMutex::~ProcessMutex() { m_native.destroy(); }

void ProcessMutex::set_owner() noexcept {
    // [pmutex.owner] relaxed: ordered by the mutex itself; readers only compare with their own identity.
    m_owner_pid.store(platform::current_process_id(), std::memory_order_relaxed);
    m_owner_token.store(my_token(), std::memory_order_relaxed);
}

void ProcessMutex::clear_owner() noexcept {
    // [pmutex.owner] relaxed: see set_owner().
    m_owner_pid.store(0, std::memory_order_relaxed);
    m_owner_token.store(0, std::memory_order_relaxed);
}

Result<void> ProcessMutex::lock(Deadline deadline) noexcept {
    if (held_by_current_thread()) return unexpected(Errc::invalid_argument);
    auto r = m_native.lock(deadline);
    if (!r && r.code() != Errc::owner_died) return r;
    set_owner();
    if (!r) {
        // The OS reports a dead holder: repair the OS mutex state only at unlock/mark_consistent.
        // [pmutex.consistent] relaxed: under the lock.
        m_native_dirty.store(1, std::memory_order_relaxed);
        m_consistent.store(0, std::memory_order_relaxed);
        return r;
    }
    // A previous holder unlocked without mark_consistent(): the data is still suspect; say so.
    // [pmutex.consistent] relaxed: under the lock (written by holders only).
    if (m_consistent.load(std::memory_order_relaxed) == 0) return unexpected(Errc::owner_died);
    return ok();
}

void ProcessMutex::lock() noexcept {
    auto r = lock(Deadline::never());
    if (!r && r.code() != Errc::owner_died) staticrt::detail::contract_violation("ProcessMutex::lock failed (broken or relocked)");
}

bool ProcessMutex::try_lock() noexcept { return lock_bool(Deadline::poll()); }

bool ProcessMutex::lock_bool(Deadline d) noexcept {
    auto r = lock(d);
    return r || r.code() == Errc::owner_died;
}

void ProcessMutex::unlock() noexcept {
    if (!unlock_checked()) staticrt::detail::contract_violation("ProcessMutex::unlock by a thread that does not hold it");
}

Result<void> ProcessMutex::unlock_checked() noexcept {
    if (!held_by_current_thread()) return unexpected(Errc::not_owner);
    // Unlocking an OS robust mutex in its owner-died state would make it unrecoverable for
    // everyone (POSIX ENOTRECOVERABLE). Make the OS mutex usable again, but keep m_consistent
    // at 0: the next locker is told owner_died (the inconsistency is carried, never lost).
    // [pmutex.consistent] relaxed: under the lock.
    if (m_native_dirty.load(std::memory_order_relaxed) != 0) {
        (void)m_native.mark_consistent();
        m_native_dirty.store(0, std::memory_order_relaxed);
    }
    clear_owner();
    return m_native.unlock();
}

Result<void> ProcessMutex::mark_consistent() noexcept {
    if (!held_by_current_thread()) return unexpected(Errc::not_owner);
    // [pmutex.consistent] relaxed: under the lock.
    if (m_native_dirty.load(std::memory_order_relaxed) != 0) {
        auto r = m_native.mark_consistent();
        if (!r) return r;
        m_native_dirty.store(0, std::memory_order_relaxed);
    }
    m_consistent.store(1, std::memory_order_relaxed);
    return ok();
}

bool ProcessMutex::held_by_current_thread() const noexcept {
    // [pmutex.owner] relaxed: a thread sees its own writes; another thread's value never equals ours.
    return m_owner_token.load(std::memory_order_relaxed) == my_token() &&
           m_owner_pid.load(std::memory_order_relaxed) == platform::current_process_id();
}

}  // namespace staticrt::ipc
