// SPDX-License-Identifier: MIT
// staticrt/platform/process.hpp — child processes: spawn self, spawn a program, fork, wait, kill.
//
// spawn_self() starts this executable again with the given arguments (POSIX: posix_spawn of
// /proc/self/exe; Windows: CreateProcess of the module path with a quoted command line); the
// runtime's entry-point registry (staticrt/ipc/process.hpp) uses it for the "spawn" start
// method. spawn_program() starts another program found on PATH. fork_process() (POSIX only)
// duplicates the calling process. wait_process() reaps a child with a Deadline (pidfd + poll on
// Linux >= 5.3, else waitpid polling with back-off; Windows: WaitForSingleObject).
// A ProcessHandle is owned by the thread that started the child; calls on one handle are not
// thread-safe with each other, except terminate/kill_process, which may race with a wait.
//
// Memory ordering: only what the OS gives: everything the child wrote to shared memory before
// it exited is visible to the parent after wait_process() reported its exit.
//
//   platform::ProcessHandle h;
//   const char* args[] = {"--staticrt-entry=worker", nullptr};
//   if (platform::spawn_self(h, args)) { auto st = platform::wait_process(h, Deadline::never()); }
#pragma once

#include <cstddef>
#include <cstdint>

#include "staticrt/platform/result.hpp"
#include "staticrt/platform/time.hpp"

namespace staticrt::platform {

/// An OS process id.
using ProcessId = std::int64_t;

/// Most arguments spawn_self()/spawn_program() pass (not counting argv[0] and the terminator).
inline constexpr std::size_t kMaxSpawnArgs = 30;
/// Windows: the longest command line built (characters); POSIX: unused.
inline constexpr std::size_t kMaxCommandLine = 4096;

/// How a child ended.
enum class ExitKind : std::uint8_t {
    running,   ///< not ended yet (or not reaped)
    exited,    ///< returned from main / called exit: `code` is the exit status
    signaled,  ///< killed by a signal (POSIX) / TerminateProcess (Windows): `code` is the signal
};

struct ExitStatus {
    ExitKind kind = ExitKind::running;
    int code = 0;
    /// Python's Process.exitcode convention: the exit status, or -signal.
    [[nodiscard]] constexpr int python_code() const noexcept { return kind == ExitKind::signaled ? -code : code; }
};

/// Options for spawning.
struct SpawnOptions {
    /// End the child when its parent dies, however it dies (Linux: SIGTERM through
    /// PR_SET_PDEATHSIG, applied by fork_process(); spawned children apply it themselves through
    /// set_parent_death_signal() because exec-ing needs a fresh fork. Windows: the child is
    /// created suspended and assigned to a JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE job whose only
    /// handle the parent holds; see docs/processes.md).
    bool die_with_parent = false;
};

/// An OS handle value (pidfd, HANDLE) stored biased by one, so its "none" value -1 is all zero
/// bytes and a constinit owner (Process, ProcessPool) lands in .bss. Reads and writes as intptr_t.
class NativeValue {
public:
    constexpr NativeValue() noexcept = default;
    constexpr NativeValue(std::intptr_t v) noexcept : m_biased(v + 1) {}  // NOLINT: implicit by design
    constexpr operator std::intptr_t() const noexcept { return m_biased - 1; }  // NOLINT
private:
    std::intptr_t m_biased = 0;  // value + 1: 0 is "none" (-1)
};

/// A child process started by this process. Not copyable; movable while no call runs on it.
class ProcessHandle {
public:
    constexpr ProcessHandle() noexcept = default;
    ProcessHandle(const ProcessHandle&) = delete;
    ProcessHandle& operator=(const ProcessHandle&) = delete;
    ProcessHandle(ProcessHandle&& other) noexcept;
    ProcessHandle& operator=(ProcessHandle&& other) noexcept;
    ~ProcessHandle();  ///< releases the handle; a running child keeps running (and is not reaped)

    /// The child's pid (0 when not started).
    [[nodiscard]] ProcessId pid() const noexcept { return m_pid; }
    /// True from a successful start until wait_process() reported the exit.
    [[nodiscard]] bool started() const noexcept { return m_pid != 0 && m_status.kind == ExitKind::running; }
    /// The last status wait_process() saw (kind running before that).
    [[nodiscard]] ExitStatus status() const noexcept { return m_status; }

    // Implementation detail, public so the OS files can reach it without friends.
    ProcessId m_pid = 0;
    ExitStatus m_status{};
    NativeValue m_native{};  ///< Linux: pidfd or -1; Windows: the process HANDLE (-1: none)
    std::uintptr_t m_native2 = 0; ///< Windows: the main-thread HANDLE; POSIX: unused
    void release_native() noexcept;
};

/// Starts this executable again with argv[1..] = args (a nullptr-terminated list of at most
/// kMaxSpawnArgs strings). Errc::invalid_argument: handle in use, too many args; os_error otherwise.
[[nodiscard]] Result<void> spawn_self(ProcessHandle& handle, const char* const* args,
                                      const SpawnOptions& options = {}) noexcept;
/// Starts `program` (searched on PATH when it has no slash) with argv[0] = program and
/// argv[1..] = args (nullptr-terminated). A program that cannot be executed still starts a
/// child on POSIX, which exits with status 127 (posix_spawnp reports ENOENT only on some libcs).
[[nodiscard]] Result<void> spawn_program(ProcessHandle& handle, const char* program, const char* const* args,
                                         const SpawnOptions& options = {}) noexcept;
/// POSIX fork. Returns true in the child (which owns no handle and must end with exit_process()),
/// false in the parent, whose handle now names the child. Windows: Errc::not_supported.
[[nodiscard]] Result<bool> fork_process(ProcessHandle& handle, const SpawnOptions& options = {}) noexcept;

/// Waits until the child ended, then reaps it: status() and the returned value tell how.
/// Errc::timeout when still running at the deadline (Deadline::poll() just checks).
/// Errc::invalid_argument when the handle names no started child.
[[nodiscard]] Result<ExitStatus> wait_process(ProcessHandle& handle, Deadline deadline) noexcept;
/// Asks the child to end: SIGTERM (Windows: TerminateProcess with exit code 1).
[[nodiscard]] Result<void> terminate_process(ProcessHandle& handle) noexcept;
/// Ends the child at once: SIGKILL (Windows: TerminateProcess with exit code 9).
[[nodiscard]] Result<void> kill_process(ProcessHandle& handle) noexcept;

/// The calling process's id.
[[nodiscard]] ProcessId current_process_id() noexcept;
/// The parent's id (Windows: from a process snapshot; 0 when unknown).
[[nodiscard]] ProcessId parent_process_id() noexcept;
/// True when a process with this id exists (it may be a zombie / another process reusing the id).
[[nodiscard]] bool process_exists(ProcessId pid) noexcept;
/// Child side: ask for SIGTERM when the parent dies, then check the parent `expected_parent` is
/// still there (closing the race); Errc::process_died when it is already gone. Windows: not_supported.
[[nodiscard]] Result<void> set_parent_death_signal(ProcessId expected_parent) noexcept;
/// For a worker process that must not outlive its parent nor run the parent's signal handlers
/// (a forked copy inherits them): resets every signal disposition to the default and unblocks
/// all signals, asks for SIGKILL when the parent dies (Linux PR_SET_PDEATHSIG), then checks that
/// the parent is still `expected_parent`: Errc::process_died when it is gone already.
/// Windows: nothing to do (children are ended through the parent's kill-on-close job), ok().
[[nodiscard]] Result<void> harden_worker_process(ProcessId expected_parent) noexcept;
/// Fills `out` with `bytes` random bytes from the OS (getrandom / rand_s): unpredictable names.
/// Errc::os_error when the OS source fails.
[[nodiscard]] Result<void> random_bytes(void* out, std::size_t bytes) noexcept;
/// Flushes C stdio and ends the calling process at once with `code` (no atexit handlers, no
/// static destructors): the way a forked or spawned child ends.
[[noreturn]] void exit_process(int code) noexcept;

/// This process's command line as argc/argv, for code that runs before or without main's
/// arguments (static initialisation, a framework's main). Linux: read once from
/// /proc/self/cmdline into static storage (64 KiB, 256 arguments); Windows: the CRT's
/// __argc/__argv. The strings live until the process ends. Errc::not_supported when unknown.
struct CommandLine {
    int argc = 0;
    const char* const* argv = nullptr;
};
[[nodiscard]] Result<CommandLine> process_arguments() noexcept;

/// Where write_standard() writes.
enum class StandardStream : std::uint8_t { out, err };
/// Writes all `bytes` to stdout/stderr with as few system calls as possible (one when the
/// OS allows), unbuffered: lines written whole by one call are not interleaved with other
/// writers' lines on a pipe (POSIX: up to PIPE_BUF bytes).
[[nodiscard]] Result<void> write_standard(StandardStream stream, const char* data, std::size_t bytes) noexcept;

}  // namespace staticrt::platform
