// SPDX-License-Identifier: MIT
// staticrt/platform/shared_memory.hpp — named shared-memory segments and a robust
// process-shared mutex that can live inside them.
//
// SharedMemory maps a named segment: create() makes a new zero-filled one (the name must be
// free), open() maps an existing one, unlink() removes the name: open() then fails, existing
// mappings stay valid, and create() of the same name makes a new segment (POSIX: shm_unlink;
// Windows: a tombstone in the segment plus a generation suffix, see docs/processes.md). On
// Windows a segment also vanishes once no process maps it, unlinked or not.
// The mapping is released by close() or the destructor. Names are 1..kMaxSharedMemoryName-1
// characters of [A-Za-z0-9._-], without a slash; the platform adds "/" (POSIX) or "Local\"
// (Windows). Errors: a bad name -> Errc::invalid_argument (os_code 0); a name that is taken ->
// Errc::exhausted (os_code EEXIST / ERROR_ALREADY_EXISTS); a name that does not exist ->
// Errc::invalid_argument (os_code ENOENT / ERROR_FILE_NOT_FOUND); anything else -> os_error.
//
// RobustMutex is a process-shared mutex placed in shared memory (position-independent: each
// process may map it at another address). When its owner dies holding it, the next locker gets
// Errc::owner_died *with the lock held*, repairs the protected data and calls
// mark_consistent(); unlocking without that makes the mutex unusable (Errc::broken for all;
// ipc::ProcessMutex repairs it at unlock and carries the owner-died report on instead).
//
// Memory ordering: lock() acquires and unlock() releases, like std::mutex, across processes.
//
//   platform::SharedMemory shm;
//   if (shm.create("demo", 4096)) { auto* m = ::new (shm.data()) platform::RobustMutex; (void)m->init(); }
//   ... another process: shm.open("demo"); static_cast<platform::RobustMutex*>(shm.data())->lock(...)
#pragma once

#include <cstddef>
#include <cstdint>

#include "staticrt/platform/result.hpp"
#include "staticrt/platform/time.hpp"

namespace staticrt::platform {

/// Longest segment name including the terminating NUL.
inline constexpr std::size_t kMaxSharedMemoryName = 64;

/// True when `name` is a valid portable segment name (see the header comment).
[[nodiscard]] bool valid_shared_memory_name(const char* name) noexcept;

/// What open() checks about an existing segment before mapping it (a segment is untrusted input).
/// owner_and_mode (the default): POSIX refuses a segment owned by another user (st_uid !=
/// geteuid()) or writable by group/others (mode & 022) with Errc::permission_denied. Windows
/// does no check (the flag is accepted and ignored): names live in the session's "Local\"
/// namespace, and a section made by CreateFileMapping gets the creator's default DACL, so another
/// user cannot create or open it there. none: map whatever is there (the caller's decision).
enum class OpenCheck : std::uint8_t { owner_and_mode, none };

/// A mapping of a named shared-memory segment. Move-only; unmaps on destruction.
class SharedMemory {
public:
    constexpr SharedMemory() noexcept = default;
    SharedMemory(const SharedMemory&) = delete;
    SharedMemory& operator=(const SharedMemory&) = delete;
    SharedMemory(SharedMemory&& other) noexcept;
    SharedMemory& operator=(SharedMemory&& other) noexcept;
    ~SharedMemory();

    /// Creates a new segment of `bytes` (> 0) zero-filled bytes and maps it read-write. Its
    /// pages are reserved up front (POSIX: posix_fallocate; Windows: CreateFileMapping commits
    /// the pagefile-backed section), so a full /dev/shm is Errc::no_space with nothing left
    /// behind, never a SIGBUS at the first touch.
    /// Errc::exhausted when the name is taken (os_code EEXIST / ERROR_ALREADY_EXISTS).
    /// Errc::invalid_argument: bad name or 0 bytes, or this object already maps a segment.
    /// Windows only, Errc::exhausted with os_code 0: this process maps 256 segments already, or
    /// 8 unlinked segments of this name are still mapped somewhere.
    [[nodiscard]] Result<void> create(const char* name, std::size_t bytes) noexcept;
    /// create() under the name `prefix` + 16 random hexadecimal digits (unpredictable, made
    /// exclusively: a name that another process squats is skipped; Errc::exhausted after 8
    /// taken names in a row). name() tells the name chosen. Errors as create().
    [[nodiscard]] Result<void> create_unique(const char* prefix, std::size_t bytes) noexcept;
    /// A new zero-filled segment with no name at all (Linux: memfd_create; other POSIX: a
    /// random name unlinked at once), mapped read-write; nothing of it outlives the last
    /// process that maps it or holds its handle(). Other processes map it with open_inherited().
    /// Windows: Errc::not_supported (a named section already vanishes with its last handle).
    [[nodiscard]] Result<void> create_anonymous(std::size_t bytes) noexcept;
    /// Maps the anonymous segment that process `owner` holds as handle() == `handle` (Linux:
    /// /proc/<owner>/fd/<handle>; same user only). Windows: Errc::not_supported.
    [[nodiscard]] Result<void> open_inherited(std::int64_t owner, std::intptr_t handle) noexcept;
    /// The descriptor kept open by create_anonymous() (-1 for a named segment).
    [[nodiscard]] std::intptr_t handle() const noexcept;

    /// Maps an existing segment read-write, at its full size (the size given to create()).
    /// Errc::invalid_argument (os_code ENOENT / ERROR_FILE_NOT_FOUND) when there is none.
    /// Windows only, Errc::exhausted with os_code 0: this process maps 256 segments already.
    /// Errc::permission_denied (os_code 0): refused by `check` (see OpenCheck).
    [[nodiscard]] Result<void> open(const char* name, OpenCheck check = OpenCheck::owner_and_mode) noexcept;
    /// Unmaps (the name stays; see unlink()). Does nothing when nothing is mapped.
    void close() noexcept;
    /// Removes the name. The memory lives until its last mapping is closed.
    /// Errc::invalid_argument (os_code ENOENT / ERROR_FILE_NOT_FOUND) when there is no such
    /// segment. Windows: Errc::not_supported for a section made by another program (no
    /// staticrt trailer); see create() for the bound on unlinked segments still mapped.
    [[nodiscard]] static Result<void> unlink(const char* name) noexcept;

    [[nodiscard]] void* data() const noexcept { return m_data; }
    [[nodiscard]] std::size_t size() const noexcept { return m_size; }
    [[nodiscard]] bool is_mapped() const noexcept { return m_data != nullptr; }
    [[nodiscard]] const char* name() const noexcept { return m_name; }

private:
    void* m_data = nullptr;
    std::size_t m_size = 0;
    std::uintptr_t m_native = 0;  ///< Windows: the section HANDLE; POSIX: fd + 1 of an anonymous segment, else 0
    char m_name[kMaxSharedMemoryName] = {};
};

/// A robust, process-shared mutex for shared memory. Opaque (pthread_mutex_t with
/// PTHREAD_PROCESS_SHARED + PTHREAD_MUTEX_ROBUST on POSIX). Not movable: its address is its identity.
class RobustMutex {
public:
    constexpr RobustMutex() noexcept = default;
    RobustMutex(const RobustMutex&) = delete;
    RobustMutex& operator=(const RobustMutex&) = delete;
    ~RobustMutex() = default;  ///< destroy() explicitly; shared memory has no destructor order

    /// Initialises the mutex in place; call once, by the process that creates the segment.
    [[nodiscard]] Result<void> init() noexcept;
    /// Releases OS resources (POSIX: pthread_mutex_destroy). The mutex must be unlocked.
    void destroy() noexcept;

    /// Takes the lock. Errc::owner_died: the lock IS held by the caller now, but its previous
    /// owner died inside the critical section — repair, then mark_consistent(). Errc::timeout:
    /// deadline passed. Errc::broken: a previous owner_died was never marked consistent.
    /// Errc::not_supported: this platform has no robust process-shared mutex.
    [[nodiscard]] Result<void> lock(Deadline deadline) noexcept;
    /// lock(Deadline::poll()): Errc::timeout means "held by someone else".
    [[nodiscard]] Result<void> try_lock() noexcept { return lock(Deadline::poll()); }
    /// Releases the lock. Errc::not_owner when the calling thread does not hold it.
    [[nodiscard]] Result<void> unlock() noexcept;
    /// After owner_died: declares the protected state repaired. Must hold the lock.
    [[nodiscard]] Result<void> mark_consistent() noexcept;
    /// True when owner death is detected. False where the OS/emulator has no robust mutexes
    /// (qemu-user does not implement set_robust_list): init() then falls back to a plain
    /// process-shared mutex, and an owner that dies holding it blocks the next locker until its
    /// deadline (Errc::timeout), never silently handing over the lock.
    [[nodiscard]] bool robust() const noexcept { return m_robust != 0; }

private:
    alignas(8) unsigned char m_storage[56] = {};  ///< pthread_mutex_t; size checked in the .cpp
    std::uint32_t m_robust = 0;
};

}  // namespace staticrt::platform
