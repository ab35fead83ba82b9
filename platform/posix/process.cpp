// SPDX-License-Identifier: MIT
// POSIX processes: posix_spawn of /proc/self/exe, posix_spawnp, fork, reaping with a Deadline
// (pidfd_open + poll on Linux >= 5.3; waitpid(WNOHANG) with back-off where pidfd is missing).
#include "staticrt/platform/process.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;  // NOLINT: POSIX global

namespace staticrt::platform {
namespace {

constexpr const char* kSelfExe = "/proc/self/exe";

int open_pidfd(pid_t pid) noexcept {
#if defined(SYS_pidfd_open)
    const long fd = ::syscall(SYS_pidfd_open, pid, 0);
    return fd >= 0 ? static_cast<int>(fd) : -1;
#else
    (void)pid;
    return -1;
#endif
}

ExitStatus decode(int wstatus) noexcept {
    if (WIFEXITED(wstatus)) return ExitStatus{ExitKind::exited, WEXITSTATUS(wstatus)};
    if (WIFSIGNALED(wstatus)) return ExitStatus{ExitKind::signaled, WTERMSIG(wstatus)};
    return ExitStatus{};
}

// argv = {argv0, args..., nullptr}; false when args holds more than kMaxSpawnArgs strings.
bool build_argv(const char* argv0, const char* const* args, char** out) noexcept {
    std::size_t n = 0;
    out[n++] = const_cast<char*>(argv0);
    if (args != nullptr) {
        for (; *args != nullptr; ++args) {
            if (n > kMaxSpawnArgs) return false;
            out[n++] = const_cast<char*>(*args);
        }
    }
    out[n] = nullptr;
    return true;
}

Result<void> do_spawn(ProcessHandle& handle, const char* path, bool search, const char* argv0,
                      const char* const* args) noexcept {
    if (handle.m_pid != 0 && handle.m_status.kind == ExitKind::running) return unexpected(Errc::invalid_argument);
    if (path == nullptr || path[0] == '\0') return unexpected(Errc::invalid_argument);
    char* argv[kMaxSpawnArgs + 2];
    if (!build_argv(argv0, args, argv)) return unexpected(Errc::invalid_argument);
    handle.release_native();
    pid_t pid = 0;
    // No file actions and no attributes: glibc's posix_spawn then allocates nothing (it clones
    // with CLONE_VM|CLONE_VFORK on a stack it mmaps itself).
    const int rc = search ? ::posix_spawnp(&pid, path, nullptr, nullptr, argv, environ)
                          : ::posix_spawn(&pid, path, nullptr, nullptr, argv, environ);
    if (rc != 0) return unexpected(rc == ENOENT ? Errc::invalid_argument : Errc::os_error, rc);
    handle.m_pid = pid;
    handle.m_status = ExitStatus{};
    handle.m_native = open_pidfd(pid);
    return ok();
}

void apply_child_options(const SpawnOptions& options, pid_t parent) noexcept {
    if (options.die_with_parent) {
        (void)::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent) ::_exit(128 + SIGTERM);  // parent already gone
    }
}

// Reaps when the child has ended. true: reaped (status set); false: still running.
Result<bool> try_reap(ProcessHandle& handle) noexcept {
    int wstatus = 0;
    for (;;) {
        const pid_t r = ::waitpid(static_cast<pid_t>(handle.m_pid), &wstatus, WNOHANG);
        if (r == 0) return false;
        if (r < 0) {
            if (errno == EINTR) continue;
            return unexpected(errno == ECHILD ? Errc::invalid_argument : Errc::os_error, errno);
        }
        handle.m_status = decode(wstatus);
        if (handle.m_status.kind == ExitKind::running) return false;  // stopped/continued: not ended
        handle.release_native();
        return true;
    }
}

}  // namespace

void ProcessHandle::release_native() noexcept {
    if (m_native >= 0) (void)::close(static_cast<int>(m_native));
    m_native = -1;
}

Result<void> spawn_self(ProcessHandle& handle, const char* const* args, const SpawnOptions& options) noexcept {
    // A spawned child applies die_with_parent itself (posix_spawn has no pre-exec hook);
    // the runtime passes the request on its command line.
    (void)options;
    // The real path, not /proc/self/exe: under qemu-user the kernel's /proc/self/exe is the
    // emulator, while qemu answers readlink() with the guest program's path.
    char path[PATH_MAX];
    const ssize_t n = ::readlink(kSelfExe, path, sizeof path - 1);
    if (n <= 0) return do_spawn(handle, kSelfExe, false, kSelfExe, args);
    path[n] = '\0';
    return do_spawn(handle, path, false, path, args);
}

Result<CommandLine> process_arguments() noexcept {
    constexpr std::size_t kMaxArgs = 256;
    static char buf[65536];
    static const char* argv[kMaxArgs + 1];
    static std::atomic<int> state{0};  // 0 not read, 1 reading, 2 ready, 3 failed
    static int argc = 0;
    int expected = 0;
    // [args.once] acq_rel: one thread reads; others wait for [args.ready].
    if (state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
        const int fd = ::open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
        std::size_t len = 0;
        if (fd >= 0) {
            for (;;) {
                const ssize_t r = ::read(fd, buf + len, sizeof buf - 1 - len);
                if (r < 0 && errno == EINTR) continue;
                if (r <= 0) break;
                len += static_cast<std::size_t>(r);
                if (len >= sizeof buf - 1) break;
            }
            ::close(fd);
        }
        buf[len] = '\0';
        for (std::size_t i = 0; i < len && static_cast<std::size_t>(argc) < kMaxArgs;) {
            argv[argc++] = buf + i;
            i += std::strlen(buf + i) + 1;
        }
        argv[argc] = nullptr;
        // [args.ready] release: pairs with the acquire loads below.
        state.store(fd >= 0 ? 2 : 3, std::memory_order_release);
    }
    int s = 0;
    while ((s = state.load(std::memory_order_acquire)) == 1) ::sched_yield();  // [args.ready]
    if (s != 2) return unexpected(Errc::not_supported);
    return CommandLine{argc, argv};
}

Result<void> spawn_program(ProcessHandle& handle, const char* program, const char* const* args,
                           const SpawnOptions& options) noexcept {
    (void)options;
    return do_spawn(handle, program, std::strchr(program == nullptr ? "/" : program, '/') == nullptr, program, args);
}

Result<bool> fork_process(ProcessHandle& handle, const SpawnOptions& options) noexcept {
    if (handle.m_pid != 0 && handle.m_status.kind == ExitKind::running) return unexpected(Errc::invalid_argument);
    handle.release_native();
    std::fflush(nullptr);  // or buffered output is written twice
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) return unexpected(Errc::os_error, errno);
    if (pid == 0) {
        handle.m_pid = 0;
        handle.m_status = ExitStatus{};
        apply_child_options(options, parent);
        return true;
    }
    handle.m_pid = pid;
    handle.m_status = ExitStatus{};
    handle.m_native = open_pidfd(pid);
    return false;
}

Result<ExitStatus> wait_process(ProcessHandle& handle, Deadline deadline) noexcept {
    if (handle.m_pid == 0) return unexpected(Errc::invalid_argument);
    if (handle.m_status.kind != ExitKind::running) return handle.m_status;
    std::int64_t backoff_ns = 50'000;  // waitpid polling: 50 us doubling to 10 ms
    for (;;) {
        auto r = try_reap(handle);
        if (!r) return unexpected(r.error());
        if (*r) return handle.m_status;
        if (deadline.expired() || deadline.is_poll()) return unexpected(Errc::timeout);
        if (handle.m_native >= 0) {
            // The pidfd becomes readable when the child ends.
            const std::int64_t left = deadline.remaining_ns();
            int timeout_ms = -1;
            if (!deadline.is_never()) {
                const std::int64_t ms = (left + 999'999) / 1'000'000;
                timeout_ms = ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
            }
            pollfd p{static_cast<int>(handle.m_native), POLLIN, 0};
            const int pr = ::poll(&p, 1, timeout_ms);
            if (pr < 0 && errno != EINTR) handle.release_native();  // fall back to polling
        } else {
            std::int64_t ns = backoff_ns;
            if (!deadline.is_never() && deadline.remaining_ns() < ns) ns = deadline.remaining_ns();
            timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
            (void)::nanosleep(&ts, nullptr);
            if (backoff_ns < 10'000'000) backoff_ns *= 2;
        }
    }
}

namespace {

// Calls io(at, left) until all `bytes` from `at` on are done; io returns how many it did, or -1
// with errno set (EINTR: called again; anything else: Errc::os_error).
template <class Byte, class Io>
Result<void> all_bytes(Byte* at, std::size_t bytes, Io io) noexcept {
    while (bytes > 0) {
        const ssize_t n = io(at, bytes);
        if (n < 0) {
            if (errno == EINTR) continue;
            return unexpected(Errc::os_error, errno);
        }
        at += n;
        bytes -= static_cast<std::size_t>(n);
    }
    return ok();
}

Result<void> send_signal(ProcessHandle& handle, int sig) noexcept {
    if (handle.m_pid == 0) return unexpected(Errc::invalid_argument);
    if (handle.m_status.kind != ExitKind::running) return ok();  // already reaped: nothing to do
    // The child is not reaped yet, so its pid cannot have been reused: kill() is safe.
    if (::kill(static_cast<pid_t>(handle.m_pid), sig) != 0) {
        if (errno == ESRCH) return ok();
        return unexpected(errno == EPERM ? Errc::permission_denied : Errc::os_error, errno);
    }
    return ok();
}
}  // namespace

Result<void> terminate_process(ProcessHandle& handle) noexcept { return send_signal(handle, SIGTERM); }
Result<void> kill_process(ProcessHandle& handle) noexcept { return send_signal(handle, SIGKILL); }

namespace {
// The process id, cached: getpid() is a system call (about 1 us in the development VM), and the
// process-shared queues name their process on every push and pop. A forked child must not
// keep its parent's id: the pthread_atfork child handler clears the cache before any code of the
// child runs (glibc's fork() runs it; a child made by raw clone(2) or _Fork() would not, and
// staticrt forks with fork()). Until the handler is registered nothing is cached.
std::atomic<ProcessId> g_cached_pid{0};   // 0: ask the kernel
std::atomic<int> g_pid_cache_state{0};    // 0 not yet, 1 registering, 2 cache on, 3 refused
void forget_cached_pid() noexcept {
    // [pid.cache] relaxed: the child is single-threaded here; see current_process_id().
    g_cached_pid.store(0, std::memory_order_relaxed);
}
}  // namespace

ProcessId current_process_id() noexcept {
    // [pid.cache] relaxed load and store: every thread of a process stores the same value, and
    // nothing else is published through it; fork() copies it, the child handler clears it.
    const ProcessId cached = g_cached_pid.load(std::memory_order_relaxed);
    if (cached != 0) return cached;
    const ProcessId pid = ::getpid();
    // [pid.cache.state] acquire: pairs with the release below (the handler is registered).
    int state = g_pid_cache_state.load(std::memory_order_acquire);
    if (state == 0) {
        // [pid.cache.state] relaxed CAS: elects the one thread that registers the handler.
        if (g_pid_cache_state.compare_exchange_strong(state, 1, std::memory_order_relaxed)) {
            state = ::pthread_atfork(nullptr, nullptr, &forget_cached_pid) == 0 ? 2 : 3;
            g_pid_cache_state.store(state, std::memory_order_release);  // [pid.cache.state] release
        }
    }
    if (state == 2) g_cached_pid.store(pid, std::memory_order_relaxed);  // [pid.cache]
    return pid;
}
ProcessId parent_process_id() noexcept { return ::getppid(); }

bool process_exists(ProcessId pid) noexcept {
    if (pid <= 0) return false;
    return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

Result<void> set_parent_death_signal(ProcessId expected_parent) noexcept {
    if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) return unexpected(Errc::os_error, errno);
    if (expected_parent != 0 && ::getppid() != static_cast<pid_t>(expected_parent))
        return unexpected(Errc::process_died);
    return ok();
}

Result<void> harden_worker_process(ProcessId expected_parent) noexcept {
    // Default dispositions: a forked worker must not run the parent's handlers (a SIGTERM
    // handler that only sets a flag would keep an orphaned worker running its job).
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        (void)::signal(sig, SIG_DFL);  // EINVAL for the few numbers that are not signals: ignored
    }
    sigset_t none;
    ::sigemptyset(&none);
    (void)::pthread_sigmask(SIG_SETMASK, &none, nullptr);
    // SIGKILL, not SIGTERM: a worker has nothing to clean up, and it cannot be caught.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return unexpected(Errc::os_error, errno);
    if (expected_parent != 0 && ::getppid() != static_cast<pid_t>(expected_parent))
        return unexpected(Errc::process_died);
    return ok();
}

Result<void> random_bytes(void* out, std::size_t bytes) noexcept {
    return all_bytes(static_cast<unsigned char*>(out), bytes,
                     [](unsigned char* at, std::size_t left) noexcept { return ::getrandom(at, left, 0); });
}

void exit_process(int code) noexcept {
    std::fflush(nullptr);
    ::_exit(code);
}

Result<void> write_standard(StandardStream stream, const char* data, std::size_t bytes) noexcept {
    const int fd = stream == StandardStream::out ? STDOUT_FILENO : STDERR_FILENO;
    return all_bytes(data, bytes, [fd](const char* at, std::size_t left) noexcept { return ::write(fd, at, left); });
}

}  // namespace staticrt::platform
