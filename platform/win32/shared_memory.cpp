// SPDX-License-Identifier: MIT
// Win32 shared memory (named, pagefile-backed file mappings in the session namespace) and the
// robust process-shared mutex (a named kernel mutex: WAIT_ABANDONED is "owner died").
//
// Segments. Windows keeps a section (and its name) alive while any handle or view is open and
// has no call that removes a name. unlink() is implemented with generations and a tombstone:
//  - every staticrt section ends with a Trailer (magic, the caller's size, an `unlinked` flag)
//    in the last bytes of its page-rounded size, so open() also learns the exact size;
//  - generation 0 of a name is the section "Local\<name>", generation g > 0 "Local\<name>~<g>";
//  - unlink() sets `unlinked` in the live generation: open() skips it from then on, existing
//    mappings stay valid; create() makes the next free generation while tombstoned ones are
//    still mapped somewhere (at most kGenerations at once, then Errc::exhausted, os_code 0);
//  - create/open/unlink of one name are serialised by a named kernel mutex "Local\<name>~lock"
//    (abandonment is harmless: the section scan below is idempotent).
//
// Every mapping is also entered in a fixed table (kMaxMappings, no heap) of (base, size, segment
// id) so that platform::wait() with WaitScope::process_shared can name a word by (segment,
// offset) — the same in every process, whatever address the view got (see wait.cpp).
#include "staticrt/platform/shared_memory.hpp"

#include <atomic>
#include <cstdio>
#include <cstring>

#include "win32_detail.hpp"

namespace staticrt::platform {
namespace {

constexpr char kPrefix[] = "Local\\";
/// Generations of one name that may exist at once (the live one plus tombstones still mapped).
constexpr unsigned kGenerations = 8;
/// Room for "Local\" + name + "~lock" / "~<g>" + NUL.
constexpr std::size_t kOsNameBytes = sizeof kPrefix + kMaxSharedMemoryName + 8;

// The OS name of generation `gen` of `name` (valid name assumed).
void os_name(const char* name, unsigned gen, char* out) noexcept {
    if (gen == 0) std::snprintf(out, kOsNameBytes, "%s%s", kPrefix, name);
    else std::snprintf(out, kOsNameBytes, "%s%s~%u", kPrefix, name, gen);
}

Error map_error(DWORD e) noexcept {
    switch (e) {
        case ERROR_ALREADY_EXISTS: return Error{Errc::exhausted, static_cast<int>(e)};
        case ERROR_FILE_NOT_FOUND: return Error{Errc::invalid_argument, static_cast<int>(e)};
        case ERROR_INVALID_NAME: return Error{Errc::invalid_argument, static_cast<int>(e)};
        case ERROR_ACCESS_DENIED: return Error{Errc::permission_denied, static_cast<int>(e)};
        // A pagefile-backed section is committed by CreateFileMapping (SEC_COMMIT): no room is
        // reported there, never at the first touch.
        case ERROR_COMMITMENT_LIMIT:
        case ERROR_NOT_ENOUGH_MEMORY:
        case ERROR_DISK_FULL: return Error{Errc::no_space, static_cast<int>(e)};
        default: return Error{Errc::os_error, static_cast<int>(e)};
    }
}

// ---- the trailer at the end of every staticrt section

constexpr std::uint64_t kTrailerMagic = 0x3167'6573'7472'7473ull;  // "strtseg1"
struct Trailer {
    std::uint64_t magic;                 ///< kTrailerMagic once the creator filled it in
    std::uint64_t bytes;                 ///< the size the creator asked for
    std::atomic<std::uint32_t> unlinked; ///< 1: unlink() removed the name (a tombstone)
    std::uint32_t generation;
    std::uint64_t reserved;
};
static_assert(sizeof(Trailer) == 32, "Trailer layout is part of the cross-process format");

std::size_t page_bytes() noexcept {
    SYSTEM_INFO si{};
    ::GetSystemInfo(&si);
    return si.dwPageSize != 0 ? si.dwPageSize : 4096;
}

// Section size for `bytes` of user data: room for the trailer, rounded up to whole pages (the
// size a view of the section reports), 0 on overflow.
std::size_t section_bytes(std::size_t bytes) noexcept {
    const std::size_t page = page_bytes();
    if (bytes > static_cast<std::size_t>(-1) - sizeof(Trailer) - page) return 0;
    return (bytes + sizeof(Trailer) + page - 1) / page * page;
}

std::size_t view_bytes(const void* view) noexcept {
    MEMORY_BASIC_INFORMATION info{};
    if (::VirtualQuery(view, &info, sizeof info) == 0) return 0;
    return info.RegionSize;
}

// The trailer of a view of `view_size` bytes, or nullptr when it is not a staticrt section.
Trailer* trailer_of(void* view, std::size_t view_size) noexcept {
    if (view_size < sizeof(Trailer)) return nullptr;
    auto* t = reinterpret_cast<Trailer*>(static_cast<unsigned char*>(view) + view_size - sizeof(Trailer));
    if (t->magic != kTrailerMagic || t->bytes > view_size - sizeof(Trailer)) return nullptr;
    return t;
}

// FNV-1a of the OS name: the segment's identity in every process (the generation is part of
// the name, so a segment made again after unlink() has another identity).
std::uint64_t segment_id(const char* os) noexcept {
    std::uint64_t h = 0xcbf2'9ce4'8422'2325ull;
    for (const char* p = os; *p != '\0'; ++p) {
        h ^= static_cast<unsigned char>(*p);
        h *= 0x0000'0100'0000'01b3ull;
    }
    return h;
}

// ---- per-name lock: a named kernel mutex held around the generation scan

class NameLock {
public:
    NameLock() noexcept = default;
    NameLock(const NameLock&) = delete;
    NameLock& operator=(const NameLock&) = delete;
    ~NameLock() {
        if (m_handle != nullptr) {
            ::ReleaseMutex(m_handle);
            ::CloseHandle(m_handle);
        }
    }
    [[nodiscard]] Result<void> acquire(const char* name) noexcept {
        char os[kOsNameBytes];
        std::snprintf(os, sizeof os, "%s%s~lock", kPrefix, name);
        HANDLE h = ::CreateMutexA(nullptr, FALSE, os);
        if (h == nullptr) return unexpected(win32::last_error());
        const DWORD r = ::WaitForSingleObject(h, INFINITE);
        if (r != WAIT_OBJECT_0 && r != WAIT_ABANDONED) {  // abandoned: a process died in the scan; it is idempotent
            const Error e = win32::last_error();
            ::CloseHandle(h);
            return unexpected(e);
        }
        m_handle = h;
        return ok();
    }

private:
    HANDLE m_handle = nullptr;
};

// ---- a mapped generation

struct View {
    HANDLE section = nullptr;
    void* data = nullptr;
    std::size_t size = 0;      ///< the view (whole pages)
    Trailer* trailer = nullptr;///< nullptr: not a staticrt section (made by another program)
    void release() noexcept {
        if (data != nullptr) ::UnmapViewOfFile(data);
        if (section != nullptr) ::CloseHandle(section);
        data = nullptr;
        section = nullptr;
    }
};

enum class Probe : std::uint8_t { absent, live, tombstone, failed };

// Opens and maps generation `gen` of `name` read-write. absent: no such section.
Probe open_generation(const char* os, View& v, DWORD& err) noexcept {
    v = View{};
    v.section = ::OpenFileMappingA(FILE_MAP_ALL_ACCESS, FALSE, os);
    if (v.section == nullptr) {
        err = ::GetLastError();
        return err == ERROR_FILE_NOT_FOUND ? Probe::absent : Probe::failed;
    }
    v.data = ::MapViewOfFile(v.section, FILE_MAP_ALL_ACCESS, 0, 0, 0);
    if (v.data == nullptr) {
        err = ::GetLastError();
        v.release();
        return Probe::failed;
    }
    v.size = view_bytes(v.data);
    v.trailer = trailer_of(v.data, v.size);
    // [shm.tombstone] acquire: pairs with [shm.unlink] (the name lock orders them already).
    if (v.trailer != nullptr && v.trailer->unlinked.load(std::memory_order_acquire) != 0) return Probe::tombstone;
    return Probe::live;
}

// Finds the live generation of `name` (under its name lock): `v` mapped on it and its OS name in
// `os`; the not-found error when every generation is absent or a tombstone; an OS error otherwise.
Result<void> find_live(const char* name, char* os, View& v) noexcept {
    for (unsigned g = 0; g < kGenerations; ++g) {
        os_name(name, g, os);
        DWORD err = 0;
        const Probe p = open_generation(os, v, err);
        if (p == Probe::failed) return unexpected(map_error(err));
        if (p == Probe::live) return ok();
        v.release();
    }
    return unexpected(map_error(ERROR_FILE_NOT_FOUND));
}

// ---- the table of this process's mappings, read by wait.cpp (seqlock per entry, no heap)

constexpr std::size_t kMaxMappings = 256;
struct MappingEntry {
    std::atomic<std::uint32_t> seq;       ///< odd while a writer owns the entry
    std::atomic<std::uintptr_t> base;     ///< 0: free
    std::atomic<std::size_t> size;
    std::atomic<std::uint64_t> id;
};
constinit MappingEntry g_mappings[kMaxMappings] = {};
constinit std::atomic<std::size_t> g_mapping_high{0};  ///< entries at or above it were never used

// Takes entry e for writing when its seq is `s` (even). [shm.map.claim] acquire: pairs with the
// release store that ended the previous write, so its fields are seen.
bool claim(MappingEntry& e, std::uint32_t s) noexcept {
    return (s & 1u) == 0 && e.seq.compare_exchange_strong(s, s + 1, std::memory_order_acquire, std::memory_order_relaxed);
}
void publish(MappingEntry& e) noexcept {
    // [shm.map.publish] release: ends the write; pairs with [shm.map.read].
    e.seq.fetch_add(1, std::memory_order_release);
}

bool register_mapping(const void* base, std::size_t size, std::uint64_t id) noexcept {
    for (std::size_t i = 0; i < kMaxMappings; ++i) {
        MappingEntry& e = g_mappings[i];
        if (e.base.load(std::memory_order_relaxed) != 0) continue;  // peek: in use (the claim re-checks)
        const std::uint32_t s = e.seq.load(std::memory_order_relaxed);
        if (!claim(e, s)) continue;
        if (e.base.load(std::memory_order_relaxed) != 0) {
            publish(e);
            continue;
        }
        e.base.store(reinterpret_cast<std::uintptr_t>(base), std::memory_order_relaxed);
        e.size.store(size, std::memory_order_relaxed);
        e.id.store(id, std::memory_order_relaxed);
        publish(e);
        std::size_t high = g_mapping_high.load(std::memory_order_relaxed);
        // [shm.map.high] release: a reader that sees the new bound also sees the entry.
        while (high < i + 1 &&
               !g_mapping_high.compare_exchange_weak(high, i + 1, std::memory_order_release, std::memory_order_relaxed)) {
        }
        return true;
    }
    return false;
}

void unregister_mapping(const void* base) noexcept {
    const auto b = reinterpret_cast<std::uintptr_t>(base);
    for (auto& e : g_mappings) {
        if (e.base.load(std::memory_order_relaxed) != b) continue;
        std::uint32_t s = e.seq.load(std::memory_order_relaxed);
        while (!claim(e, s)) s = e.seq.load(std::memory_order_relaxed);
        if (e.base.load(std::memory_order_relaxed) == b) {
            e.base.store(0, std::memory_order_relaxed);
            publish(e);
            return;
        }
        publish(e);
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

namespace win32 {

bool shared_word_key(const void* address, SharedWordKey& out) noexcept {
    const auto a = reinterpret_cast<std::uintptr_t>(address);
    // [shm.map.high] acquire: pairs with the release that raised it.
    const std::size_t high = g_mapping_high.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < high; ++i) {
        MappingEntry& e = g_mappings[i];
        for (;;) {
            // [shm.map.read] acquire: pairs with [shm.map.publish]; the fence + re-read below
            // reject a read that overlapped a writer (seqlock).
            const std::uint32_t s1 = e.seq.load(std::memory_order_acquire);
            if ((s1 & 1u) != 0) {
                ::SwitchToThread();
                continue;
            }
            const std::uintptr_t base = e.base.load(std::memory_order_relaxed);
            const std::size_t size = e.size.load(std::memory_order_relaxed);
            const std::uint64_t id = e.id.load(std::memory_order_relaxed);
            std::atomic_thread_fence(std::memory_order_acquire);
            if (e.seq.load(std::memory_order_relaxed) != s1) continue;
            if (base != 0 && a >= base && a - base < size) {
                out.segment = id;
                out.offset = a - base;
                return true;
            }
            break;
        }
    }
    return false;
}

}  // namespace win32

Result<void> SharedMemory::create(const char* name, std::size_t bytes) noexcept {
    if (m_data != nullptr || bytes == 0 || !valid_shared_memory_name(name)) return unexpected(Errc::invalid_argument);
    const std::size_t total = section_bytes(bytes);
    if (total == 0) return unexpected(Errc::invalid_argument);
    NameLock lock;
    if (auto r = lock.acquire(name); !r) return r;
    // Find a free generation; any live one means the name is taken.
    char os[kOsNameBytes];
    unsigned free_gen = kGenerations;
    for (unsigned g = 0; g < kGenerations; ++g) {
        os_name(name, g, os);
        View v;
        DWORD err = 0;
        const Probe p = open_generation(os, v, err);
        v.release();
        if (p == Probe::live) return unexpected(map_error(ERROR_ALREADY_EXISTS));
        if (p == Probe::failed) return unexpected(map_error(err));
        if (p == Probe::absent && free_gen == kGenerations) free_gen = g;
    }
    if (free_gen == kGenerations) return unexpected(Errc::exhausted);  // os_code 0: all generations tombstoned and mapped
    os_name(name, free_gen, os);
    const auto size = static_cast<unsigned long long>(total);
    HANDLE h = ::CreateFileMappingA(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE, static_cast<DWORD>(size >> 32),
                                    static_cast<DWORD>(size & 0xFFFFFFFFu), os);
    const DWORD err = ::GetLastError();
    if (h == nullptr) return unexpected(map_error(err));
    if (err == ERROR_ALREADY_EXISTS) {  // another program made it between the scan and now
        ::CloseHandle(h);
        return unexpected(map_error(ERROR_ALREADY_EXISTS));
    }
    void* p = ::MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, total);
    if (p == nullptr) {
        const DWORD e = ::GetLastError();
        ::CloseHandle(h);
        return unexpected(map_error(e));
    }
    if (!register_mapping(p, total, segment_id(os))) {
        ::UnmapViewOfFile(p);
        ::CloseHandle(h);
        return unexpected(Errc::exhausted);  // os_code 0: kMaxMappings views in this process
    }
    auto* t = reinterpret_cast<Trailer*>(static_cast<unsigned char*>(p) + total - sizeof(Trailer));
    t->bytes = bytes;
    t->generation = free_gen;
    t->magic = kTrailerMagic;  // readers look under the name lock: no atomics needed
    m_data = p;
    m_size = bytes;
    m_native = reinterpret_cast<std::uintptr_t>(h);
    std::strcpy(m_name, name);
    return ok();
}

// OpenCheck is not applied on Windows (see shared_memory.hpp): "Local\" names are per session
// and a section gets its creator's default DACL.
Result<void> SharedMemory::open(const char* name, OpenCheck /*check*/) noexcept {
    if (m_data != nullptr || !valid_shared_memory_name(name)) return unexpected(Errc::invalid_argument);
    NameLock lock;
    if (auto r = lock.acquire(name); !r) return r;
    char os[kOsNameBytes];
    View v;
    if (auto r = find_live(name, os, v); !r) return r;
    if (!register_mapping(v.data, v.size, segment_id(os))) {
        v.release();
        return unexpected(Errc::exhausted);  // os_code 0: kMaxMappings views in this process
    }
    m_data = v.data;
    // A staticrt section knows its exact size; a section made by another program reports its
    // size rounded up to whole pages.
    m_size = v.trailer != nullptr ? static_cast<std::size_t>(v.trailer->bytes) : v.size;
    m_native = reinterpret_cast<std::uintptr_t>(v.section);
    std::strcpy(m_name, name);
    return ok();
}

// Anonymous, inherited segments: a named section already vanishes with its last handle or
// view on Windows, so ProcessPool uses create_unique() there.
Result<void> SharedMemory::create_anonymous(std::size_t bytes) noexcept {
    (void)bytes;
    return unexpected(Errc::not_supported);
}

Result<void> SharedMemory::open_inherited(std::int64_t owner, std::intptr_t handle) noexcept {
    (void)owner;
    (void)handle;
    return unexpected(Errc::not_supported);
}

std::intptr_t SharedMemory::handle() const noexcept { return -1; }

void SharedMemory::close() noexcept {
    if (m_data != nullptr) {
        unregister_mapping(m_data);
        ::UnmapViewOfFile(m_data);
    }
    if (m_native != 0) ::CloseHandle(reinterpret_cast<HANDLE>(m_native));
    m_data = nullptr;
    m_size = 0;
    m_native = 0;
    m_name[0] = '\0';
}

Result<void> SharedMemory::unlink(const char* name) noexcept {
    if (!valid_shared_memory_name(name)) return unexpected(Errc::invalid_argument);
    NameLock lock;
    if (auto r = lock.acquire(name); !r) return r;
    char os[kOsNameBytes];
    View v;
    if (auto r = find_live(name, os, v); !r) return r;
    if (v.trailer == nullptr) {  // made by another program: we cannot take its name away
        v.release();
        return unexpected(Errc::not_supported);
    }
    // [shm.unlink] release: pairs with [shm.tombstone].
    v.trailer->unlinked.store(1, std::memory_order_release);
    v.release();
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
