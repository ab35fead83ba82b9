// Win32 shared memory (named, pagefile-backed file mappings in the session namespace) and the
// robust process-shared mutex (a named kernel mutex: WAIT_ABANDONED is "owner died").
#include "staticrt/platform/shared_memory.hpp"

#include <atomic>
#include <cstdio>
#include <cstring>

#include "win32_detail.hpp"

namespace staticrt::platform {
namespace {

bool name_char_ok(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
}

constexpr char kPrefix[] = "Local\\";

bool os_name(const char* name, char* out) noexcept {
    if (!valid_shared_memory_name(name)) return false;
    std::strcpy(out, kPrefix);
    std::strcat(out, name);
    return true;
}

Error map_error(DWORD e) noexcept {
    switch (e) {
        case ERROR_ALREADY_EXISTS: return Error{Errc::exhausted, static_cast<int>(e)};
        case ERROR_FILE_NOT_FOUND: return Error{Errc::invalid_argument, static_cast<int>(e)};
        case ERROR_INVALID_NAME: return Error{Errc::invalid_argument, static_cast<int>(e)};
        case ERROR_ACCESS_DENIED: return Error{Errc::permission_denied, static_cast<int>(e)};
        default: return Error{Errc::os_error, static_cast<int>(e)};
    }
}

// ---- RobustMutex: the shared storage holds the kernel mutex's name and state; each process
// opens its own HANDLE once and keeps it in this fixed table (keyed by the mutex's address in
// this process). No heap.
struct RobustShared {
    char name[48];
    std::atomic<std::uint32_t> broken;      ///< 1: unlocked after owner_died without mark_consistent
    std::atomic<std::uint32_t> inconsistent;///< 1: between owner_died and mark_consistent
};
static_assert(sizeof(RobustShared) <= 56, "RobustMutex::m_storage is too small for the Win32 state");

constexpr std::size_t kHandleCache = 256;
// One entry per RobustMutex this process used: keyed by its address here AND its kernel name,
// because a new mutex may later live at the address of a dead one (a segment mapped again at
// the same place); such a stale entry is recycled.
struct HandleEntry {
    std::atomic<const void*> key;
    std::atomic<std::uint32_t> state;  ///< 0 empty/being filled, 1 ready, 2 being replaced
    HANDLE handle;
    char name[48];
};
constinit HandleEntry g_handles[kHandleCache] = {};
constinit std::atomic<std::uint32_t> g_counter{0};

RobustShared* shared_of(unsigned char* storage) noexcept { return static_cast<RobustShared*>(static_cast<void*>(storage)); }

// The HANDLE of the named mutex for `key`; `fresh` (the creator's handle) is adopted instead of
// opening one. nullptr on failure (GetLastError tells).
HANDLE handle_of(const void* key, const char* name, HANDLE fresh = nullptr) noexcept {
    for (;;) {
        for (auto& e : g_handles) {
            // [rmtx.cache] acquire: pairs with the release stores of `state` below.
            if (e.key.load(std::memory_order_acquire) != key) continue;
            std::uint32_t st = e.state.load(std::memory_order_acquire);
            if (st != 1) {
                ::SwitchToThread();
                goto again;  // another thread fills or replaces it
            }
            if (std::strcmp(e.name, name) == 0) {
                if (fresh != nullptr) ::CloseHandle(fresh);
                return e.handle;
            }
            // Stale: a mutex that lived at this address before. Replace it.
            if (e.state.compare_exchange_strong(st, 2, std::memory_order_acq_rel)) {
                ::CloseHandle(e.handle);
                HANDLE h = fresh != nullptr ? fresh : ::OpenMutexA(SYNCHRONIZE | MUTEX_MODIFY_STATE, FALSE, name);
                if (h == nullptr) {
                    e.key.store(nullptr, std::memory_order_relaxed);
                    e.state.store(0, std::memory_order_release);
                    return nullptr;
                }
                e.handle = h;
                std::strncpy(e.name, name, sizeof e.name - 1);
                e.state.store(1, std::memory_order_release);
                return h;
            }
            goto again;
        }
        {
            HANDLE h = fresh != nullptr ? fresh : ::OpenMutexA(SYNCHRONIZE | MUTEX_MODIFY_STATE, FALSE, name);
            if (h == nullptr) return nullptr;
            for (auto& e : g_handles) {
                const void* expected = nullptr;
                if (e.state.load(std::memory_order_acquire) != 0) continue;
                // [rmtx.cache] acq_rel: claims an empty entry.
                if (e.key.compare_exchange_strong(expected, key, std::memory_order_acq_rel)) {
                    e.handle = h;
                    std::strncpy(e.name, name, sizeof e.name - 1);
                    e.state.store(1, std::memory_order_release);
                    return h;
                }
            }
            return h;  // table full: the handle is not cached (one kernel handle per call)
        }
    again:;
    }
}

void forget_handle(const void* key, const char* name) noexcept {
    for (auto& e : g_handles) {
        std::uint32_t st = 1;
        if (e.key.load(std::memory_order_acquire) == key && std::strcmp(e.name, name) == 0 &&
            e.state.compare_exchange_strong(st, 2, std::memory_order_acq_rel)) {
            ::CloseHandle(e.handle);
            e.key.store(nullptr, std::memory_order_relaxed);
            e.state.store(0, std::memory_order_release);
            return;
        }
    }
}

}  // namespace

bool valid_shared_memory_name(const char* name) noexcept {
    if (name == nullptr || name[0] == '\0') return false;
    std::size_t n = 0;
    for (; name[n] != '\0'; ++n) {
        if (n + 1 >= kMaxSharedMemoryName) return false;
        if (!name_char_ok(name[n])) return false;
    }
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
    char path[sizeof kPrefix + kMaxSharedMemoryName];
    if (m_data != nullptr || bytes == 0 || !os_name(name, path)) return unexpected(Errc::invalid_argument);
    const auto size = static_cast<unsigned long long>(bytes);
    HANDLE h = ::CreateFileMappingA(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE, static_cast<DWORD>(size >> 32),
                                    static_cast<DWORD>(size & 0xFFFFFFFFu), path);
    const DWORD err = ::GetLastError();
    if (h == nullptr) return unexpected(map_error(err));
    if (err == ERROR_ALREADY_EXISTS) {
        ::CloseHandle(h);
        return unexpected(map_error(ERROR_ALREADY_EXISTS));
    }
    void* p = ::MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, bytes);
    if (p == nullptr) {
        const DWORD e = ::GetLastError();
        ::CloseHandle(h);
        return unexpected(map_error(e));
    }
    m_data = p;
    m_size = bytes;
    m_native = reinterpret_cast<std::uintptr_t>(h);
    std::strcpy(m_name, name);
    return ok();
}

Result<void> SharedMemory::open(const char* name) noexcept {
    char path[sizeof kPrefix + kMaxSharedMemoryName];
    if (m_data != nullptr || !os_name(name, path)) return unexpected(Errc::invalid_argument);
    HANDLE h = ::OpenFileMappingA(FILE_MAP_ALL_ACCESS, FALSE, path);
    if (h == nullptr) return unexpected(map_error(::GetLastError()));
    void* p = ::MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, 0);
    if (p == nullptr) {
        const DWORD e = ::GetLastError();
        ::CloseHandle(h);
        return unexpected(map_error(e));
    }
    MEMORY_BASIC_INFORMATION info{};
    ::VirtualQuery(p, &info, sizeof info);
    m_data = p;
    m_size = info.RegionSize;  // the section size rounded up to whole pages
    m_native = reinterpret_cast<std::uintptr_t>(h);
    std::strcpy(m_name, name);
    return ok();
}

void SharedMemory::close() noexcept {
    if (m_data != nullptr) ::UnmapViewOfFile(m_data);
    if (m_native != 0) ::CloseHandle(reinterpret_cast<HANDLE>(m_native));
    m_data = nullptr;
    m_size = 0;
    m_native = 0;
    m_name[0] = '\0';
}

Result<void> SharedMemory::unlink(const char* name) noexcept {
    // Windows removes a section's name with its last handle: nothing to do but check the name.
    if (!valid_shared_memory_name(name)) return unexpected(Errc::invalid_argument);
    return ok();
}

// ------------------------------------------------------------------ RobustMutex

Result<void> RobustMutex::init() noexcept {
    RobustShared* s = shared_of(m_storage);
    // [rmtx.name] relaxed: uniqueness only.
    std::snprintf(s->name, sizeof s->name, "Local\\staticrt-mtx-%lu-%u", static_cast<unsigned long>(::GetCurrentProcessId()),
                  g_counter.fetch_add(1, std::memory_order_relaxed));
    s->broken.store(0, std::memory_order_relaxed);
    s->inconsistent.store(0, std::memory_order_relaxed);
    HANDLE h = ::CreateMutexA(nullptr, FALSE, s->name);
    if (h == nullptr) return unexpected(win32::last_error());
    // The creator's handle stays cached: it keeps the kernel object (and its name) alive.
    (void)handle_of(this, s->name, h);
    m_robust = 1;
    return ok();
}

void RobustMutex::destroy() noexcept { forget_handle(this, shared_of(m_storage)->name); }

Result<void> RobustMutex::lock(Deadline deadline) noexcept {
    RobustShared* s = shared_of(m_storage);
    if (s->broken.load(std::memory_order_acquire) != 0) return unexpected(Errc::broken);
    HANDLE h = handle_of(this, s->name);
    if (h == nullptr) return unexpected(win32::last_error());
    for (;;) {
        const DWORD r = ::WaitForSingleObject(h, win32::timeout_ms(deadline));
        if (r == WAIT_OBJECT_0) {
            if (s->broken.load(std::memory_order_acquire) != 0) {
                ::ReleaseMutex(h);
                return unexpected(Errc::broken);
            }
            return ok();
        }
        if (r == WAIT_ABANDONED) {
            // [rmtx.inconsistent] relaxed: under the lock.
            s->inconsistent.store(1, std::memory_order_relaxed);
            return unexpected(Errc::owner_died);
        }
        if (r == WAIT_TIMEOUT) {
            if (deadline.expired() || deadline.is_poll()) return unexpected(Errc::timeout);
            continue;  // Win32 timed out early on its coarser clock
        }
        return unexpected(win32::last_error());
    }
}

Result<void> RobustMutex::unlock() noexcept {
    RobustShared* s = shared_of(m_storage);
    HANDLE h = handle_of(this, s->name);
    if (h == nullptr) return unexpected(win32::last_error());
    if (s->inconsistent.load(std::memory_order_relaxed) != 0) s->broken.store(1, std::memory_order_release);
    if (!::ReleaseMutex(h)) return unexpected(Errc::not_owner, static_cast<int>(::GetLastError()));
    return ok();
}

Result<void> RobustMutex::mark_consistent() noexcept {
    RobustShared* s = shared_of(m_storage);
    if (s->inconsistent.load(std::memory_order_relaxed) == 0) return unexpected(Errc::invalid_argument);
    s->inconsistent.store(0, std::memory_order_relaxed);
    return ok();
}

}  // namespace staticrt::platform
