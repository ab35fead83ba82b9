// SPDX-License-Identifier: MIT
// staticrt/ipc/process.hpp — child processes, like Python's multiprocessing.Process.
//
// Three start methods. "spawn" (portable): this executable starts again and the child runs an
// entry point registered by name in a fixed static table (no heap) — register at start-up, and
// call child_main_hook(argc, argv) first thing in main(). "fork" (POSIX): the child runs a
// function with the parent's memory copied. "program": another executable with arguments.
// A Process object is used by one thread (the one that starts and joins it); terminate()/kill()
// may be called from another thread. Daemon children are terminated and reaped when the parent
// exits normally (an atexit handler) and, on Linux, get SIGTERM when the parent dies abnormally
// (PR_SET_PDEATHSIG).
//
// Memory ordering: what the child wrote to shared memory before exiting is visible after a
// successful join(); anything else needs the shared primitives' own ordering.
//
//   int worker(int argc, const char* const* argv) noexcept { return argc; }
//   int main(int argc, char** argv) { staticrt::ipc::register_entry("worker", &worker);
//       staticrt::ipc::child_main_hook(argc, argv);
//       staticrt::ipc::Process p; if (p.start("worker")) (void)p.join(staticrt::Deadline::never()); }
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "staticrt/platform/process.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/time.hpp"

namespace staticrt::ipc {

using platform::ExitKind;
using platform::ExitStatus;
using platform::ProcessId;

/// An entry point of the "spawn" start method: receives the user arguments only.
using EntryFn = int (*)(int argc, const char* const* argv) noexcept;
/// A function run by the "fork" start method in the child; its return value is the exit status.
using ForkFn = int (*)(void* arg) noexcept;

/// Size of the static entry table.
inline constexpr std::size_t kMaxEntries = 32;
/// Longest entry name (characters, without the NUL).
inline constexpr std::size_t kMaxEntryName = 47;
/// Most user arguments a spawned child receives.
inline constexpr std::size_t kMaxUserArgs = platform::kMaxSpawnArgs - 3;
/// Exit status of a spawned child whose entry name is not registered.
inline constexpr int kUnknownEntryExit = 125;

/// Registers `fn` under `name` (a string literal or other storage that outlives the process).
/// Errc::invalid_argument: null, empty, too long, or a name already registered; Errc::exhausted:
/// the table is full. Call from start-up code, in the same order in parent and child.
[[nodiscard]] Result<void> register_entry(const char* name, EntryFn fn) noexcept;
/// The function registered under `name`, or nullptr.
[[nodiscard]] EntryFn find_entry(const char* name) noexcept;

/// Registers at static-initialisation time: `const staticrt::ipc::EntryRegistration r{"w", &w};`
/// A failure (duplicate, full table) traps with a message: it is a start-up programming error.
class EntryRegistration {
public:
    EntryRegistration(const char* name, EntryFn fn) noexcept;
};

/// Call first in main(). In a child started by Process::start(entry, ...), runs the entry and
/// ends the process with its return value (never returns). Otherwise returns false at once.
bool child_main_hook(int argc, const char* const* argv) noexcept;
inline bool child_main_hook(int argc, char** argv) noexcept {
    return child_main_hook(argc, const_cast<const char* const*>(argv));
}

/// Same, with the command line from platform::process_arguments(): for programs whose main()
/// belongs to a framework (a test runner) — call it from a static initialiser placed after the
/// entry registrations of the same translation unit.
bool child_main_hook() noexcept;

/// Options of a start.
struct ProcessOptions {
    /// Terminated (SIGTERM, then SIGKILL after 1 s) and reaped when the parent exits normally,
    /// or when the Process object is destroyed; on Linux also when the parent dies abnormally.
    bool daemon = false;
};

class Process {
public:
    constexpr Process() noexcept = default;
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    Process(Process&&) = delete;
    Process& operator=(Process&&) = delete;
    /// A daemon child still running is terminated and reaped; a non-daemon child keeps running
    /// unreaped (join it first: Python's behaviour of joining at exit is not emulated).
    ~Process();

    /// "spawn": runs the entry registered as `entry` in a new instance of this executable, with
    /// the nullptr-terminated `args` (at most kMaxUserArgs; nullptr for none).
    /// Errc::invalid_argument: unknown entry, too many args, already started and not joined.
    [[nodiscard]] Result<void> start(const char* entry, const char* const* args = nullptr,
                                     ProcessOptions options = {}) noexcept;
    /// "fork" (POSIX): the child runs fn(arg) and exits with its value. Windows: Errc::not_supported.
    [[nodiscard]] Result<void> start_fork(ForkFn fn, void* arg, ProcessOptions options = {}) noexcept;
    /// Runs another program (PATH searched) with the nullptr-terminated `args` after argv[0].
    [[nodiscard]] Result<void> start_program(const char* program, const char* const* args = nullptr,
                                             ProcessOptions options = {}) noexcept;

    /// Asks the child to end (SIGTERM / TerminateProcess). No-op once it was reaped.
    [[nodiscard]] Result<void> terminate() noexcept;
    /// Ends the child now (SIGKILL / TerminateProcess).
    [[nodiscard]] Result<void> kill() noexcept;

    /// Waits for the child to end and reaps it. Errc::timeout: still running (call again, or
    /// terminate()); Errc::invalid_argument: never started.
    [[nodiscard]] Result<void> join(Deadline deadline) noexcept;
    /// Python-style helper, a one-line forward: join(Deadline::after(d)).
    template <class Rep, class Period>
    [[nodiscard]] Result<void> join_for(std::chrono::duration<Rep, Period> d) noexcept {
        return join(Deadline::after(d));
    }

    /// True while the child runs (reaps it when it has ended).
    [[nodiscard]] bool is_alive() noexcept;
    /// Python's exitcode: nullopt while running or never started; the exit status; or -signal.
    [[nodiscard]] std::optional<int> exit_code() const noexcept;
    /// How the child ended (kind running before that).
    [[nodiscard]] ExitStatus status() const noexcept { return m_handle.status(); }
    /// The child's pid, 0 before start.
    [[nodiscard]] ProcessId pid() const noexcept { return m_handle.pid(); }
    [[nodiscard]] bool daemon() const noexcept { return m_daemon; }

    /// This process's id and its parent's (os.getpid(), os.getppid()).
    [[nodiscard]] static ProcessId current_pid() noexcept { return platform::current_process_id(); }
    [[nodiscard]] static ProcessId parent_pid() noexcept { return platform::parent_process_id(); }

private:
    [[nodiscard]] Result<void> before_start(ProcessOptions options) noexcept;
    void after_start() noexcept;
    void reap_daemon() noexcept;

    platform::ProcessHandle m_handle;
    bool m_daemon = false;
    bool m_registered = false;
};

/// Terminates and reaps every running daemon child (what the atexit handler does). Idempotent.
void terminate_daemon_children() noexcept;

}  // namespace staticrt::ipc
