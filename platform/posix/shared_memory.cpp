// SPDX-License-Identifier: MIT
// POSIX shared memory (shm_open + mmap) and the robust process-shared pthread mutex.
#include "staticrt/platform/shared_memory.hpp"
#include "staticrt/platform/process.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace staticrt::platform {
namespace {

static_assert(sizeof(pthread_mutex_t) <= 56, "RobustMutex::m_storage is too small for pthread_mutex_t");
static_assert(alignof(pthread_mutex_t) <= 8, "RobustMutex::m_storage is under-aligned for pthread_mutex_t");

// "/" + name into out (kMaxSharedMemoryName + 1 bytes). False on a bad name.
bool os_name(const char* name, char* out) noexcept {
    if (!valid_shared_memory_name(name)) return false;
    out[0] = '/';
    std::strcpy(out + 1, name);
    return true;
}

Error map_errno(int err) noexcept {
    switch (err) {
        case ENOSPC: return Error{Errc::no_space, err};
        case EEXIST: return Error{Errc::exhausted, err};
        case ENOENT: return Error{Errc::invalid_argument, err};
        case ENAMETOOLONG:
        case EINVAL: return Error{Errc::invalid_argument, err};
        case EACCES:
        case EPERM: return Error{Errc::permission_denied, err};
        default: return Error{Errc::os_error, err};
    }
}

// Sizes a fresh segment and reserves its pages: tmpfs (/dev/shm, memfd) allocates them in
// fallocate, so a full /dev/shm is ENOSPC here instead of a SIGBUS at the first touch of a page
// that ftruncate only promised. Returns 0 or the errno.
int size_and_reserve(int fd, std::size_t bytes) noexcept {
    if (::ftruncate(fd, static_cast<off_t>(bytes)) != 0) return errno;
    int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));
    while (rc == EINTR) rc = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));
    // EINVAL/EOPNOTSUPP: a file system that cannot reserve (not tmpfs); keep the ftruncate size.
    if (rc == EINVAL || rc == EOPNOTSUPP) return 0;
    return rc;
}

// Maps all `bytes` of `fd` read-write into data/size, then closes `fd` either way (a mapping
// keeps its segment alive without the descriptor).
Result<void> map_and_close(int fd, std::size_t bytes, void*& data, std::size_t& size) noexcept {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    const int err = errno;
    ::close(fd);
    if (p == MAP_FAILED) return unexpected(map_errno(err));
    data = p;
    size = bytes;
    return ok();
}

pthread_mutex_t* native(unsigned char* storage) noexcept { return static_cast<pthread_mutex_t*>(static_cast<void*>(storage)); }

}  // namespace

Result<void> SharedMemory::create(const char* name, std::size_t bytes) noexcept {
    char path[kMaxSharedMemoryName + 1];
    if (m_data != nullptr || bytes == 0 || !os_name(name, path)) return unexpected(Errc::invalid_argument);
    const int fd = ::shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return unexpected(map_errno(errno));
    if (const int err = size_and_reserve(fd, bytes); err != 0) {
        ::close(fd);
        ::shm_unlink(path);
        return unexpected(map_errno(err));
    }
    if (auto r = map_and_close(fd, bytes, m_data, m_size); !r) {
        ::shm_unlink(path);
        return r;
    }
    std::strcpy(m_name, name);
    return ok();
}

Result<void> SharedMemory::create_anonymous(std::size_t bytes) noexcept {
    if (m_data != nullptr || bytes == 0) return unexpected(Errc::invalid_argument);
    int fd = -1;
#if defined(__linux__)
    fd = static_cast<int>(::syscall(SYS_memfd_create, "staticrt", 1u /* MFD_CLOEXEC */));
#endif
    if (fd < 0) {
        // No memfd: a random name, created exclusively and unlinked at once.
        for (int attempt = 0; attempt < 8 && fd < 0; ++attempt) {
            unsigned char rnd[8];
            if (auto r = random_bytes(rnd, sizeof rnd); !r) return r;
            char path[kMaxSharedMemoryName + 1];
            std::snprintf(path, sizeof path, "/staticrt-anon-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
                          rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
            fd = ::shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (fd < 0 && errno != EEXIST) return unexpected(map_errno(errno));
            if (fd >= 0) ::shm_unlink(path);
        }
        if (fd < 0) return unexpected(Errc::exhausted, EEXIST);
    }
    if (const int err = size_and_reserve(fd, bytes); err != 0) {
        ::close(fd);
        return unexpected(map_errno(err));
    }
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        const int err = errno;
        ::close(fd);
        return unexpected(map_errno(err));
    }
    m_data = p;
    m_size = bytes;
    m_native = static_cast<std::uintptr_t>(fd) + 1;
    m_name[0] = '\0';
    return ok();
}

Result<void> SharedMemory::open_inherited(std::int64_t owner, std::intptr_t handle) noexcept {
    if (m_data != nullptr || owner <= 0 || handle < 0) return unexpected(Errc::invalid_argument);
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%lld/fd/%lld", static_cast<long long>(owner), static_cast<long long>(handle));
    const int fd = ::open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return unexpected(map_errno(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_size <= 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return unexpected(Errc::invalid_argument);
    }
    if (auto r = map_and_close(fd, static_cast<std::size_t>(st.st_size), m_data, m_size); !r) return r;
    m_name[0] = '\0';
    return ok();
}

std::intptr_t SharedMemory::handle() const noexcept {
    return m_native == 0 ? -1 : static_cast<std::intptr_t>(m_native - 1);
}

Result<void> SharedMemory::open(const char* name, OpenCheck check) noexcept {
    char path[kMaxSharedMemoryName + 1];
    if (m_data != nullptr || !os_name(name, path)) return unexpected(Errc::invalid_argument);
    const int fd = ::shm_open(path, O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) return unexpected(map_errno(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int err = errno;
        ::close(fd);
        return unexpected(map_errno(err));
    }
    // Untrusted: a segment another user made (or one that others may write) could be squatted
    // or scribbled by them. Checked on the open descriptor, so the name cannot be swapped after.
    if (check == OpenCheck::owner_and_mode &&
        (st.st_uid != ::geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)) {
        ::close(fd);
        return unexpected(Errc::permission_denied);
    }
    if (st.st_size <= 0) {  // the creator has not sized it yet
        ::close(fd);
        return unexpected(Errc::would_block);
    }
    if (auto r = map_and_close(fd, static_cast<std::size_t>(st.st_size), m_data, m_size); !r) return r;
    std::strcpy(m_name, name);
    return ok();
}

void SharedMemory::close() noexcept {
    if (m_data != nullptr) (void)::munmap(m_data, m_size);
    if (m_native != 0) (void)::close(static_cast<int>(m_native - 1));
    m_native = 0;
    m_data = nullptr;
    m_size = 0;
    m_name[0] = '\0';
}

Result<void> SharedMemory::unlink(const char* name) noexcept {
    char path[kMaxSharedMemoryName + 1];
    if (!os_name(name, path)) return unexpected(Errc::invalid_argument);
    if (::shm_unlink(path) != 0) return unexpected(map_errno(errno));
    return ok();
}

// ------------------------------------------------------------------ RobustMutex

namespace {
int init_native(pthread_mutex_t* m, bool robust) noexcept {
    pthread_mutexattr_t attr;
    int rc = ::pthread_mutexattr_init(&attr);
    if (rc != 0) return rc;
    rc = ::pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (rc == 0 && robust) rc = ::pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    // Error-checking type: unlock by a non-owner reports EPERM instead of corrupting the lock.
    if (rc == 0) rc = ::pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
    if (rc == 0) rc = ::pthread_mutex_init(m, &attr);
    (void)::pthread_mutexattr_destroy(&attr);
    return rc;
}

// True when the kernel keeps robust lists for us. qemu-user answers ENOSYS to the robust-list
// calls (glibc on most architectures assumes support and never notices).
bool kernel_has_robust_list() noexcept {
    void* head = nullptr;
    std::size_t len = 0;
    return ::syscall(SYS_get_robust_list, 0, &head, &len) == 0;
}
}  // namespace

Result<void> RobustMutex::init() noexcept {
    // glibc refuses robust mutexes (ENOTSUP) where it knows the kernel lacks set_robust_list.
    int rc = init_native(native(m_storage), true);
    m_robust = rc == 0 && kernel_has_robust_list() ? 1 : 0;
    if (rc == ENOTSUP || rc == ENOSYS) rc = init_native(native(m_storage), false);
    if (rc != 0) return unexpected(Errc::os_error, rc);
    return ok();
}

void RobustMutex::destroy() noexcept { (void)::pthread_mutex_destroy(native(m_storage)); }

Result<void> RobustMutex::lock(Deadline deadline) noexcept {
    int rc = 0;
    if (deadline.is_never()) {
        rc = ::pthread_mutex_lock(native(m_storage));
    } else if (deadline.is_poll() || deadline.instant().ns() <= 0) {
        // A deadline before the clock's epoch is long past: poll (a negative timespec is EINVAL).
        rc = ::pthread_mutex_trylock(native(m_storage));
        if (rc == EBUSY) rc = ETIMEDOUT;
    } else {
        const std::int64_t ns = deadline.instant().ns();
        timespec ts{};
        ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
        ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
        // pthread_mutex_clocklock (glibc 2.30) measures on CLOCK_MONOTONIC like every Deadline.
        rc = ::pthread_mutex_clocklock(native(m_storage), CLOCK_MONOTONIC, &ts);
    }
    switch (rc) {
        case 0: return ok();
        case EOWNERDEAD: return unexpected(Errc::owner_died);
        case ETIMEDOUT: return unexpected(Errc::timeout);
        case ENOTRECOVERABLE: return unexpected(Errc::broken, rc);
        case EDEADLK: return unexpected(Errc::invalid_argument, rc);  // already held by the caller
        default: return unexpected(Errc::os_error, rc);
    }
}

Result<void> RobustMutex::unlock() noexcept {
    const int rc = ::pthread_mutex_unlock(native(m_storage));
    if (rc == 0) return ok();
    if (rc == EPERM) return unexpected(Errc::not_owner, rc);
    return unexpected(Errc::os_error, rc);
}

Result<void> RobustMutex::mark_consistent() noexcept {
    const int rc = ::pthread_mutex_consistent(native(m_storage));
    if (rc == 0) return ok();
    if (rc == EINVAL) return unexpected(Errc::invalid_argument, rc);  // not in the owner-died state
    return unexpected(Errc::os_error, rc);
}

}  // namespace staticrt::platform
