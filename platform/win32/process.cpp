// Win32 child processes: CreateProcessW of this module or of a program on PATH, wait with a
// Deadline on the process object, TerminateProcess, the CRT's argv, unbuffered standard writes.
//
// The command line is built on the stack (kMaxCommandLine UTF-16 characters, 8 KiB) with the
// quoting rules of CommandLineToArgvW / the CRT, so every argument reaches the child's argv
// unchanged. No heap: CreateProcessW allocates in the kernel only. fork_process() and
// set_parent_death_signal() are POSIX-only (Errc::not_supported).
#include "win32_detail.hpp"

#include <tlhelp32.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "staticrt/platform/process.hpp"

namespace staticrt::platform {
namespace {

static_assert(sizeof(HANDLE) <= sizeof(std::intptr_t) && sizeof(HANDLE) <= sizeof(std::uintptr_t),
              "ProcessHandle::m_native / m_native2 must hold a HANDLE");

// The pending "signal" of terminate/kill, kept in m_status.code while the child still runs, so
// the exit reads as ExitKind::signaled like on POSIX (SIGTERM 15 / SIGKILL 9).
constexpr int kTermSignal = 15, kKillSignal = 9;
constexpr UINT kTermExitCode = 1, kKillExitCode = 9;

HANDLE process_of(const ProcessHandle& h) noexcept { return reinterpret_cast<HANDLE>(h.m_native); }

/// Appends to a fixed UTF-16 buffer; false when it does not fit.
class CommandLineBuilder {
public:
    bool put(wchar_t c) noexcept {
        if (m_len + 1 >= kMaxCommandLine) return false;
        m_buf[m_len++] = c;
        m_buf[m_len] = L'\0';
        return true;
    }
    bool put_n(wchar_t c, std::size_t n) noexcept {
        for (std::size_t i = 0; i < n; ++i)
            if (!put(c)) return false;
        return true;
    }
    /// One argument, quoted when needed (backslashes before a quote are doubled, quotes escaped).
    bool arg(const wchar_t* s) noexcept {
        if (m_len > 0 && !put(L' ')) return false;
        bool needs_quotes = s[0] == L'\0';
        for (const wchar_t* p = s; *p != L'\0'; ++p)
            if (*p == L' ' || *p == L'\t' || *p == L'\n' || *p == L'\v' || *p == L'"') needs_quotes = true;
        if (!needs_quotes) {
            for (const wchar_t* p = s; *p != L'\0'; ++p)
                if (!put(*p)) return false;
            return true;
        }
        if (!put(L'"')) return false;
        for (const wchar_t* p = s;; ++p) {
            std::size_t backslashes = 0;
            while (*p == L'\\') { ++backslashes; ++p; }
            if (*p == L'\0') return put_n(L'\\', backslashes * 2) && put(L'"');
            if (*p == L'"') {
                if (!put_n(L'\\', backslashes * 2 + 1) || !put(L'"')) return false;
            } else if (!put_n(L'\\', backslashes) || !put(*p)) {
                return false;
            }
        }
    }
    /// A UTF-8 argument, converted to UTF-16 in a stack buffer first.
    bool arg_utf8(const char* s) noexcept {
        wchar_t wide[kMaxCommandLine];
        const int n = s[0] == '\0' ? 0 : ::MultiByteToWideChar(CP_UTF8, 0, s, -1, wide, static_cast<int>(kMaxCommandLine));
        if (s[0] != '\0' && n <= 0) return false;
        if (n == 0) wide[0] = L'\0';
        return arg(wide);
    }
    wchar_t* data() noexcept { return m_buf; }

private:
    wchar_t m_buf[kMaxCommandLine] = {};
    std::size_t m_len = 0;
};

Result<void> create(ProcessHandle& handle, const wchar_t* application, CommandLineBuilder& cmd) noexcept {
    STARTUPINFOW si{};
    si.cb = sizeof si;
    PROCESS_INFORMATION pi{};
    // Inherit handles so the child writes to the same stdout/stderr pipes as the parent.
    if (!::CreateProcessW(application, cmd.data(), nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si, &pi)) {
        const DWORD e = ::GetLastError();
        if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND) return unexpected(Errc::invalid_argument, static_cast<int>(e));
        return unexpected(win32::last_error());
    }
    handle.m_pid = static_cast<ProcessId>(pi.dwProcessId);
    handle.m_status = ExitStatus{};
    handle.m_native = reinterpret_cast<std::intptr_t>(pi.hProcess);
    handle.m_native2 = reinterpret_cast<std::uintptr_t>(pi.hThread);
    return ok();
}

bool in_use(const ProcessHandle& h) noexcept { return h.m_pid != 0 && h.m_status.kind == ExitKind::running; }

Result<void> add_args(CommandLineBuilder& cmd, const char* const* args) noexcept {
    std::size_t n = 0;
    for (; args != nullptr && args[n] != nullptr; ++n) {
        if (n >= kMaxSpawnArgs) return unexpected(Errc::invalid_argument);
        if (!cmd.arg_utf8(args[n])) return unexpected(Errc::invalid_argument);
    }
    return ok();
}

Result<void> end_process(ProcessHandle& handle, int signal, UINT exit_code) noexcept {
    if (handle.m_pid == 0) return unexpected(Errc::invalid_argument);
    if (handle.m_status.kind != ExitKind::running) return ok();  // already reaped
    if (!::TerminateProcess(process_of(handle), exit_code)) {
        // Already exiting or gone: ERROR_ACCESS_DENIED once the process has ended.
        if (::WaitForSingleObject(process_of(handle), 0) == WAIT_OBJECT_0) return ok();
        return unexpected(win32::last_error());
    }
    if (handle.m_status.code == 0) handle.m_status.code = signal;  // the first request names the cause
    return ok();
}

}  // namespace

ProcessHandle::ProcessHandle(ProcessHandle&& other) noexcept
    : m_pid(other.m_pid), m_status(other.m_status), m_native(other.m_native), m_native2(other.m_native2) {
    other.m_pid = 0;
    other.m_status = ExitStatus{};
    other.m_native = -1;
    other.m_native2 = 0;
}

ProcessHandle& ProcessHandle::operator=(ProcessHandle&& other) noexcept {
    if (this != &other) {
        release_native();
        m_pid = other.m_pid;
        m_status = other.m_status;
        m_native = other.m_native;
        m_native2 = other.m_native2;
        other.m_pid = 0;
        other.m_status = ExitStatus{};
        other.m_native = -1;
        other.m_native2 = 0;
    }
    return *this;
}

ProcessHandle::~ProcessHandle() { release_native(); }

void ProcessHandle::release_native() noexcept {
    if (m_native != -1 && m_native != 0) ::CloseHandle(reinterpret_cast<HANDLE>(m_native));
    if (m_native2 != 0) ::CloseHandle(reinterpret_cast<HANDLE>(m_native2));
    m_native = -1;
    m_native2 = 0;
}

Result<void> spawn_self(ProcessHandle& handle, const char* const* args, const SpawnOptions& options) noexcept {
    (void)options;  // die_with_parent: the runtime passes it on the command line; see docs/platform.md
    if (in_use(handle)) return unexpected(Errc::invalid_argument);
    wchar_t path[MAX_PATH * 4];
    const DWORD n = ::GetModuleFileNameW(nullptr, path, static_cast<DWORD>(sizeof path / sizeof path[0]));
    if (n == 0 || n >= sizeof path / sizeof path[0]) return unexpected(Errc::os_error, static_cast<int>(::GetLastError()));
    CommandLineBuilder cmd;
    if (!cmd.arg(path)) return unexpected(Errc::invalid_argument);
    if (auto r = add_args(cmd, args); !r) return r;
    handle.release_native();
    return create(handle, path, cmd);
}

Result<void> spawn_program(ProcessHandle& handle, const char* program, const char* const* args,
                           const SpawnOptions& options) noexcept {
    (void)options;
    if (program == nullptr || program[0] == '\0' || in_use(handle)) return unexpected(Errc::invalid_argument);
    CommandLineBuilder cmd;
    if (!cmd.arg_utf8(program)) return unexpected(Errc::invalid_argument);
    if (auto r = add_args(cmd, args); !r) return r;
    handle.release_native();
    // No application name: CreateProcessW takes the first token and searches the PATH (adding .exe).
    return create(handle, nullptr, cmd);
}

Result<bool> fork_process(ProcessHandle& handle, const SpawnOptions& options) noexcept {
    (void)handle;
    (void)options;
    return unexpected(Errc::not_supported);
}

Result<ExitStatus> wait_process(ProcessHandle& handle, Deadline deadline) noexcept {
    if (handle.m_pid == 0) return unexpected(Errc::invalid_argument);
    if (handle.m_status.kind != ExitKind::running) return handle.m_status;
    HANDLE process = process_of(handle);
    for (;;) {
        const DWORD ms = win32::timeout_ms(deadline);
        const DWORD rc = ::WaitForSingleObject(process, ms);
        if (rc == WAIT_OBJECT_0) break;
        if (rc != WAIT_TIMEOUT) return unexpected(win32::last_error());
        if (ms == 0 || deadline.expired()) return unexpected(Errc::timeout);
    }
    DWORD code = 0;
    if (!::GetExitCodeProcess(process, &code)) return unexpected(win32::last_error());
    const int pending = handle.m_status.code;
    if ((pending == kTermSignal && code == kTermExitCode) || (pending == kKillSignal && code == kKillExitCode)) {
        handle.m_status = ExitStatus{ExitKind::signaled, pending};
    } else {
        handle.m_status = ExitStatus{ExitKind::exited, static_cast<int>(code)};
    }
    handle.release_native();
    return handle.m_status;
}

Result<void> terminate_process(ProcessHandle& handle) noexcept { return end_process(handle, kTermSignal, kTermExitCode); }

Result<void> kill_process(ProcessHandle& handle) noexcept { return end_process(handle, kKillSignal, kKillExitCode); }

ProcessId current_process_id() noexcept { return static_cast<ProcessId>(::GetCurrentProcessId()); }

ProcessId parent_process_id() noexcept {
    // A snapshot of the process list (kernel memory, not the C heap); the parent's id may be
    // stale if the parent has exited (Windows does not re-parent).
    HANDLE snap = ::CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    if (snap == INVALID_HANDLE_VALUE) return 0;
    const DWORD self = ::GetCurrentProcessId();
    ProcessId parent = 0;
    PROCESSENTRY32W entry{};
    entry.dwSize = sizeof entry;
    for (BOOL more = ::Process32FirstW(snap, &entry); more; more = ::Process32NextW(snap, &entry)) {
        if (entry.th32ProcessID == self) {
            parent = static_cast<ProcessId>(entry.th32ParentProcessID);
            break;
        }
    }
    ::CloseHandle(snap);
    // A parent that has exited: its id may already name another process. Report 0 then, so a
    // child that polls parent_process_id() != original sees the change.
    if (parent != 0 && !process_exists(parent)) return 0;
    return parent;
}

bool process_exists(ProcessId pid) noexcept {
    if (pid <= 0 || pid > static_cast<ProcessId>(0xFFFFFFFFu)) return false;
    HANDLE h = ::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, static_cast<DWORD>(pid));
    if (h == nullptr) return ::GetLastError() == ERROR_ACCESS_DENIED;  // exists, but not ours to open
    // Windows keeps an ended process's object while anyone holds a handle: that is not "alive".
    const bool alive = ::WaitForSingleObject(h, 0) == WAIT_TIMEOUT;
    ::CloseHandle(h);
    return alive;
}

Result<void> set_parent_death_signal(ProcessId expected_parent) noexcept {
    (void)expected_parent;
    return unexpected(Errc::not_supported);
}

[[noreturn]] void exit_process(int code) noexcept {
    std::fflush(nullptr);
    std::_Exit(code);
}

Result<CommandLine> process_arguments() noexcept {
    // The CRT parsed the command line before main (UTF-8 not guaranteed: the ANSI code page).
    if (__argv == nullptr || __argc <= 0) return unexpected(Errc::not_supported);
    return CommandLine{__argc, __argv};
}

Result<void> write_standard(StandardStream stream, const char* data, std::size_t bytes) noexcept {
    HANDLE h = ::GetStdHandle(stream == StandardStream::out ? STD_OUTPUT_HANDLE : STD_ERROR_HANDLE);
    if (h == nullptr || h == INVALID_HANDLE_VALUE) return unexpected(Errc::not_supported);
    while (bytes > 0) {
        const DWORD chunk = bytes > 0x7FFFFFFFu ? 0x7FFFFFFFu : static_cast<DWORD>(bytes);
        DWORD written = 0;
        if (!::WriteFile(h, data, chunk, &written, nullptr)) return unexpected(win32::last_error());
        if (written == 0) return unexpected(Errc::os_error);
        data += written;
        bytes -= written;
    }
    return ok();
}

}  // namespace staticrt::platform
