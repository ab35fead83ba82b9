// Win32 named shared memory (pagefile-backed sections named "Local\<name>") and a robust
// process-shared mutex built on one 64-bit word in the shared memory itself.
//
// Sections: CreateFileMappingW(INVALID_HANDLE_VALUE, ...) makes a zero-filled segment; the name
// lives while any process holds a handle or a view, so unlink() only validates the name. open()
// maps the whole section; its size() is the size of the view, rounded up to whole pages.
//
// RobustMutex: the word holds (owner pid << 32 | owner tid), 0 when free. Windows ids are unique
// system-wide while the thread lives, so a locker that finds the lock held checks whether that
// thread still runs in that process (OpenThread + GetProcessIdOfThread); when it does not, the
// locker takes the lock over with one CAS and gets Errc::owner_died. There is no cross-process
// wait-on-address on Windows, so a contended lock() polls with back-off (yield, then 1 ms
// sleeps): fine for the coarse critical sections of process pools, not for hot locks.
#include "win32_detail.hpp"

#include <atomic>
#include <cstring>
#include <new>

#include "staticrt/platform/shared_memory.hpp"

namespace staticrt::platform {
namespace {

static_assert(sizeof(HANDLE) <= sizeof(std::uintptr_t), "SharedMemory::m_native must hold a HANDLE");

constexpr wchar_t kPrefix[] = L"Local\\staticrt-";
constexpr std::size_t kPrefixLen = sizeof kPrefix / sizeof kPrefix[0] - 1;

bool name_char_ok(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/// "Local\staticrt-<name>" as UTF-16 (the name is ASCII, checked).
bool os_name(const char* name, wchar_t (&out)[kPrefixLen + kMaxSharedMemoryName]) noexcept {
    if (!valid_shared_memory_name(name)) return false;
    std::size_t i = 0;
    for (; i < kPrefixLen; ++i) out[i] = kPrefix[i];
    for (std::size_t j = 0; name[j] != '\0'; ++j) out[i++] = static_cast<wchar_t>(name[j]);
    out[i] = L'\0';
    return true;
}

Error section_error(DWORD e) noexcept {
    switch (e) {
        case ERROR_ALREADY_EXISTS: return Error{Errc::exhausted, static_cast<int>(e)};
        case ERROR_FILE_NOT_FOUND: return Error{Errc::invalid_argument, static_cast<int>(e)};
        case ERROR_INVALID_PARAMETER:
        case ERROR_INVALID_NAME: return Error{Errc::invalid_argument, static_cast<int>(e)};
        case ERROR_ACCESS_DENIED: return Error{Errc::permission_denied, static_cast<int>(e)};
        default: return Error{Errc::os_error, static_cast<int>(e)};
    }
}

// ---- RobustMutex state, placed in RobustMutex::m_storage by init().
struct RobustState {
    std::atomic<std::uint64_t> owner;       ///< pid << 32 | tid; 0 when free
    std::atomic<std::uint32_t> consistency; ///< kConsistent, kOwnerDied (holder must repair), kBroken
};
constexpr std::uint32_t kConsistent = 0, kOwnerDied = 1, kBroken = 2;
static_assert(std::atomic<std::uint64_t>::is_always_lock_free && std::atomic<std::uint32_t>::is_always_lock_free,
              "RobustMutex needs lock-free 32- and 64-bit atomics (they live in shared memory)");

std::uint64_t self_id() noexcept {
    return (static_cast<std::uint64_t>(::GetCurrentProcessId()) << 32) | ::GetCurrentThreadId();
}

/// True when the thread named by `id` has ended (or its process has).
bool owner_dead(std::uint64_t id) noexcept {
    const DWORD pid = static_cast<DWORD>(id >> 32);
    const DWORD tid = static_cast<DWORD>(id & 0xFFFFFFFFu);
    HANDLE t = ::OpenThread(SYNCHRONIZE | THREAD_QUERY_LIMITED_INFORMATION, FALSE, tid);
    if (t == nullptr) return ::GetLastError() != ERROR_ACCESS_DENIED;  // no such thread any more
    const bool dead = ::WaitForSingleObject(t, 0) == WAIT_OBJECT_0 || ::GetProcessIdOfThread(t) != pid;
    ::CloseHandle(t);
    return dead;  // a reused id in another process reads as dead: the old owner is gone anyway
}

}  // namespace

bool valid_shared_memory_name(const char* name) noexcept {
    if (name == nullptr || name[0] == '\0') return false;
    for (std::size_t n = 0; name[n] != '\0'; ++n) {
        if (n + 1 >= kMaxSharedMemoryName) return false;
        if (!name_char_ok(name[n])) return false;
    }
    // Not names on POSIX (directory entries of /dev/shm): refused everywhere for portability.
    if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) return false;
    return true;
}

SharedMemory::SharedMemory(SharedMemory&& other) noexcept
    : m_data(other.m_data), m_size(other.m_size), m_native(other.m_native) {
    std::memcpy(m_name, other.m_name, sizeof m_name);
    other.m_data = nullptr;
    other.m_size = 0;
    other.m_native = 0;
    other.m_name[0] = '\0';
}

SharedMemory& SharedMemory::operator=(SharedMemory&& other) noexcept {
    if (this != &other) {
        close();
        m_data = other.m_data;
        m_size = other.m_size;
        m_native = other.m_native;
        std::memcpy(m_name, other.m_name, sizeof m_name);
        other.m_data = nullptr;
        other.m_size = 0;
        other.m_native = 0;
        other.m_name[0] = '\0';
    }
    return *this;
}

SharedMemory::~SharedMemory() { close(); }

Result<void> SharedMemory::create(const char* name, std::size_t bytes) noexcept {
    wchar_t path[kPrefixLen + kMaxSharedMemoryName];
    if (m_data != nullptr || bytes == 0 || !os_name(name, path)) return unexpected(Errc::invalid_argument);
    const auto size = static_cast<std::uint64_t>(bytes);
    HANDLE section = ::CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE, static_cast<DWORD>(size >> 32),
                                          static_cast<DWORD>(size & 0xFFFFFFFFu), path);
    if (section == nullptr) return unexpected(section_error(::GetLastError()));
    if (::GetLastError() == ERROR_ALREADY_EXISTS) {  // the name was taken: not ours to map
        ::CloseHandle(section);
        return unexpected(section_error(ERROR_ALREADY_EXISTS));
    }
    void* view = ::MapViewOfFile(section, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, bytes);
    if (view == nullptr) {
        const Error e = section_error(::GetLastError());
        ::CloseHandle(section);
        return unexpected(e);
    }
    m_data = view;
    m_size = bytes;
    m_native = reinterpret_cast<std::uintptr_t>(section);
    std::strncpy(m_name, name, sizeof m_name - 1);
    m_name[sizeof m_name - 1] = '\0';
    return ok();
}

Result<void> SharedMemory::open(const char* name) noexcept {
    wchar_t path[kPrefixLen + kMaxSharedMemoryName];
    if (m_data != nullptr || !os_name(name, path)) return unexpected(Errc::invalid_argument);
    HANDLE section = ::OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, path);
    if (section == nullptr) return unexpected(section_error(::GetLastError()));
    void* view = ::MapViewOfFile(section, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0);  // 0: the whole section
    if (view == nullptr) {
        const Error e = section_error(::GetLastError());
        ::CloseHandle(section);
        return unexpected(e);
    }
    MEMORY_BASIC_INFORMATION mbi{};
    m_size = ::VirtualQuery(view, &mbi, sizeof mbi) == sizeof mbi ? mbi.RegionSize : 0;
    m_data = view;
    m_native = reinterpret_cast<std::uintptr_t>(section);
    std::strncpy(m_name, name, sizeof m_name - 1);
    m_name[sizeof m_name - 1] = '\0';
    return ok();
}

void SharedMemory::close() noexcept {
    if (m_data != nullptr) ::UnmapViewOfFile(m_data);
    if (m_native != 0) ::CloseHandle(reinterpret_cast<HANDLE>(m_native));
    m_data = nullptr;
    m_size = 0;
    m_native = 0;
}

Result<void> SharedMemory::unlink(const char* name) noexcept {
    wchar_t path[kPrefixLen + kMaxSharedMemoryName];
    if (!os_name(name, path)) return unexpected(Errc::invalid_argument);
    return ok();  // Windows: the name goes with the last handle
}

// ---------------------------------------------------------------- RobustMutex

static_assert(sizeof(RobustState) <= 56 && alignof(RobustState) <= 8,
              "RobustMutex::m_storage (56 bytes, 8-aligned) must hold the Win32 RobustState");

namespace {
/// The RobustState that init() constructed in a RobustMutex's storage.
RobustState& state_of(unsigned char* storage) noexcept { return *std::launder(reinterpret_cast<RobustState*>(storage)); }
}  // namespace

Result<void> RobustMutex::init() noexcept {
    ::new (static_cast<void*>(m_storage)) RobustState{{0}, {kConsistent}};
    m_robust = 1;
    return ok();
}

void RobustMutex::destroy() noexcept {}

Result<void> RobustMutex::lock(Deadline deadline) noexcept {
    RobustState& s = state_of(m_storage);
    const std::uint64_t me = self_id();
    unsigned spins = 0;
    for (;;) {
        // [rmutex.state] acquire: pairs with [rmutex.unlock]; reads the state the last owner left.
        if (s.consistency.load(std::memory_order_acquire) == kBroken) return unexpected(Errc::broken);
        std::uint64_t owner = 0;
        // [rmutex.lock] acquire on success: pairs with [rmutex.unlock]; the previous critical
        // section happens-before ours. Failure: relaxed, only names the owner to check.
        if (s.owner.compare_exchange_strong(owner, me, std::memory_order_acquire, std::memory_order_relaxed)) return ok();
        if (owner == me) return unexpected(Errc::invalid_argument);  // already held by the caller
        if (owner_dead(owner)) {
            // [rmutex.takeover] acquire: as [rmutex.lock]; one locker wins the dead owner's word.
            if (s.owner.compare_exchange_strong(owner, me, std::memory_order_acquire, std::memory_order_relaxed)) {
                // [rmutex.died] relaxed: we hold the lock; unlock()'s release publishes it.
                s.consistency.store(kOwnerDied, std::memory_order_relaxed);
                return unexpected(Errc::owner_died);
            }
            continue;
        }
        if (deadline.expired() || deadline.is_poll()) return unexpected(Errc::timeout);
        if (spins < 64) {
            ++spins;
            ::SwitchToThread();
        } else {
            ::Sleep(1);
        }
    }
}

Result<void> RobustMutex::unlock() noexcept {
    RobustState& s = state_of(m_storage);
    // [rmutex.owner] relaxed: only the owner itself can have stored its own id.
    if (s.owner.load(std::memory_order_relaxed) != self_id()) return unexpected(Errc::not_owner);
    // Unlocking after owner_died without mark_consistent() makes the mutex unusable (POSIX rule).
    if (s.consistency.load(std::memory_order_relaxed) == kOwnerDied) s.consistency.store(kBroken, std::memory_order_relaxed);
    // [rmutex.unlock] release: pairs with [rmutex.lock]/[rmutex.state]; publishes the critical section.
    s.owner.store(0, std::memory_order_release);
    return ok();
}

Result<void> RobustMutex::mark_consistent() noexcept {
    RobustState& s = state_of(m_storage);
    if (s.owner.load(std::memory_order_relaxed) != self_id()) return unexpected(Errc::not_owner);  // [rmutex.owner]
    std::uint32_t died = kOwnerDied;
    // [rmutex.died] relaxed: the holder's own flag; unlock()'s release publishes it.
    if (!s.consistency.compare_exchange_strong(died, kConsistent, std::memory_order_relaxed)) {
        return unexpected(Errc::invalid_argument);  // not in the owner-died state
    }
    return ok();
}

}  // namespace staticrt::platform
