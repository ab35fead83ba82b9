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
    if (r || r.code() == Errc::owner_died) {
        set_owner();
        // [pmutex.consistent] relaxed: under the lock.
        m_consistent.store(r ? 1u : 0u, std::memory_order_relaxed);
    }
    return r;
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
    clear_owner();
    return m_native.unlock();
}

Result<void> ProcessMutex::mark_consistent() noexcept {
    if (!held_by_current_thread()) return unexpected(Errc::not_owner);
    if (is_consistent()) return ok();
    auto r = m_native.mark_consistent();
    if (r) m_consistent.store(1, std::memory_order_relaxed);  // [pmutex.consistent] under the lock
    return r;
}

bool ProcessMutex::held_by_current_thread() const noexcept {
    // [pmutex.owner] relaxed: a thread sees its own writes; another thread's value never equals ours.
    return m_owner_token.load(std::memory_order_relaxed) == my_token() &&
           m_owner_pid.load(std::memory_order_relaxed) == platform::current_process_id();
}

}  // namespace staticrt::ipc
