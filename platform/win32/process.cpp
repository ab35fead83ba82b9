// SPDX-License-Identifier: MIT
// Win32 processes: CreateProcess of this module (spawn) or of a program (PATH search through
// CreateProcess's own lookup), WaitForSingleObject with a Deadline, TerminateProcess.
// fork does not exist on Windows: Errc::not_supported.
//
// die_with_parent (daemon children): the child is created suspended, assigned to a job object
// with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE whose only handle this process holds (not
// inheritable), then resumed. However this process ends — normally, by a crash or by
// TerminateProcess — the kernel closes that handle and the job kills every process in it.
// A parent that already runs inside a job (a CI runner, a service, a terminal) makes our job a
// nested one (Windows 8+); where nesting is refused (ERROR_ACCESS_DENIED on older systems) the
// child is created again with CREATE_BREAKAWAY_FROM_JOB; if that is refused too, the start fails.
#include "staticrt/platform/process.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "win32_detail.hpp"
#include <tlhelp32.h>

namespace staticrt::platform {
namespace {

constexpr DWORD kTerminateCode = 128 + 15;  // what terminate_process() makes the child exit with
constexpr DWORD kKillCode = 128 + 9;

// Appends `arg` quoted by the rules of CommandLineToArgvW / the MSVC CRT. false: no room.
bool append_quoted(char* out, std::size_t cap, std::size_t& len, const char* arg) noexcept {
    auto put = [&](char c) {
        if (len + 1 >= cap) return false;
        out[len++] = c;
        return true;
    };
    if (len > 0 && !put(' ')) return false;
    const bool needs = arg[0] == '\0' || std::strpbrk(arg, " \t\n\v\"") != nullptr;
    if (!needs) {
        for (const char* p = arg; *p != '\0'; ++p)
            if (!put(*p)) return false;
        out[len] = '\0';
        return true;
    }
    if (!put('"')) return false;
    for (const char* p = arg;; ++p) {
        std::size_t backslashes = 0;
        while (*p == '\\') {
            ++p;
            ++backslashes;
        }
        if (*p == '\0') {
            for (std::size_t i = 0; i < backslashes * 2; ++i)
                if (!put('\\')) return false;
            break;
        }
        if (*p == '"') {
            for (std::size_t i = 0; i < backslashes * 2 + 1; ++i)
                if (!put('\\')) return false;
        } else {
            for (std::size_t i = 0; i < backslashes; ++i)
                if (!put('\\')) return false;
        }
        if (!put(*p)) return false;
    }
    if (!put('"')) return false;
    out[len] = '\0';
    return true;
}

// The kill-on-close job of this process, made on first use. nullptr on failure (GetLastError).
constinit std::atomic<HANDLE> g_kill_job{nullptr};

HANDLE kill_job() noexcept {
    // [proc.job] acquire: pairs with the acq_rel CAS that published the handle.
    HANDLE job = g_kill_job.load(std::memory_order_acquire);
    if (job != nullptr) return job;
    job = ::CreateJobObjectA(nullptr, nullptr);  // default security: the handle is not inherited
    if (job == nullptr) return nullptr;
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION info{};
    info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    if (!::SetInformationJobObject(job, JobObjectExtendedLimitInformation, &info, sizeof info)) {
        const DWORD e = ::GetLastError();
        ::CloseHandle(job);
        ::SetLastError(e);
        return nullptr;
    }
    HANDLE expected = nullptr;
    // [proc.job] acq_rel: publishes the job once; a loser closes its own.
    if (g_kill_job.compare_exchange_strong(expected, job, std::memory_order_acq_rel, std::memory_order_acquire)) return job;
    ::CloseHandle(job);
    return expected;
}

// Creates the process (suspended when it must join the kill job) and, for die_with_parent,
// assigns it to the job and resumes it. Returns false with GetLastError() set on failure.
bool create_process(const char* application, char* cmd, bool die_with_parent, PROCESS_INFORMATION& pi) noexcept {
    STARTUPINFOA si{};
    si.cb = sizeof si;
    if (!die_with_parent) return ::CreateProcessA(application, cmd, nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si, &pi) != 0;
    HANDLE job = kill_job();
    if (job == nullptr) return false;
    static char saved[kMaxCommandLine];  // CreateProcessA may modify cmd; a retry needs the original
    std::strcpy(saved, cmd);
    for (DWORD flags : {static_cast<DWORD>(CREATE_SUSPENDED), static_cast<DWORD>(CREATE_SUSPENDED | CREATE_BREAKAWAY_FROM_JOB)}) {
        std::strcpy(cmd, saved);
        if (!::CreateProcessA(application, cmd, nullptr, nullptr, TRUE, flags, nullptr, nullptr, &si, &pi)) return false;
        if (::AssignProcessToJobObject(job, pi.hProcess)) {
            if (::ResumeThread(pi.hThread) != static_cast<DWORD>(-1)) return true;
            const DWORD e = ::GetLastError();
            ::TerminateProcess(pi.hProcess, kKillCode);  // in the job: it must not stay suspended
            ::CloseHandle(pi.hThread);
            ::CloseHandle(pi.hProcess);
            ::SetLastError(e);
            return false;
        }
        const DWORD e = ::GetLastError();
        ::TerminateProcess(pi.hProcess, kKillCode);
        ::WaitForSingleObject(pi.hProcess, INFINITE);
        ::CloseHandle(pi.hThread);
        ::CloseHandle(pi.hProcess);
        ::SetLastError(e);
        if (e != ERROR_ACCESS_DENIED) return false;  // only a refused nesting is worth the breakaway retry
    }
    return false;
}

Result<void> create(ProcessHandle& handle, const char* application, const char* argv0,
                    const char* const* args, bool die_with_parent) noexcept {
    if (handle.m_pid != 0 && handle.m_status.kind == ExitKind::running) return unexpected(Errc::invalid_argument);
    static char cmd[kMaxCommandLine];  // CreateProcessA may modify it; one spawning thread at a time
    std::size_t len = 0;
    cmd[0] = '\0';
    if (!append_quoted(cmd, sizeof cmd, len, argv0)) return unexpected(Errc::invalid_argument);
    std::size_t n = 0;
    if (args != nullptr) {
        for (; *args != nullptr; ++args, ++n) {
            if (n >= kMaxSpawnArgs || !append_quoted(cmd, sizeof cmd, len, *args)) return unexpected(Errc::invalid_argument);
        }
    }
    handle.release_native();
    PROCESS_INFORMATION pi{};
    if (!create_process(application, cmd, die_with_parent, pi)) {
        const DWORD e = ::GetLastError();
        if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND) return unexpected(Errc::invalid_argument, static_cast<int>(e));
        return unexpected(win32::last_error());
    }
    ::CloseHandle(pi.hThread);
    handle.m_pid = static_cast<ProcessId>(pi.dwProcessId);
    handle.m_status = ExitStatus{};
    handle.m_native = reinterpret_cast<std::intptr_t>(pi.hProcess);
    handle.m_native2 = 0;
    return ok();
}

}  // namespace

void ProcessHandle::release_native() noexcept {
    if (m_native != -1 && m_native != 0) ::CloseHandle(reinterpret_cast<HANDLE>(static_cast<std::intptr_t>(m_native)));
    m_native = -1;
}

Result<void> spawn_self(ProcessHandle& handle, const char* const* args, const SpawnOptions& options) noexcept {
    static char path[MAX_PATH * 2];
    const DWORD n = ::GetModuleFileNameA(nullptr, path, sizeof path);
    if (n == 0 || n >= sizeof path) return unexpected(win32::last_error());
    return create(handle, path, path, args, options.die_with_parent);
}

Result<void> spawn_program(ProcessHandle& handle, const char* program, const char* const* args,
                           const SpawnOptions& options) noexcept {
    if (program == nullptr || program[0] == '\0') return unexpected(Errc::invalid_argument);
    return create(handle, nullptr, program, args, options.die_with_parent);  // lpApplicationName null: searched like a shell
}

Result<bool> fork_process(ProcessHandle& handle, const SpawnOptions& options) noexcept {
    (void)handle;
    (void)options;
    return unexpected(Errc::not_supported);
}

Result<ExitStatus> wait_process(ProcessHandle& handle, Deadline deadline) noexcept {
    if (handle.m_pid == 0) return unexpected(Errc::invalid_argument);
    if (handle.m_status.kind != ExitKind::running) return handle.m_status;
    HANDLE h = reinterpret_cast<HANDLE>(static_cast<std::intptr_t>(handle.m_native));
    for (;;) {
        const DWORD r = ::WaitForSingleObject(h, win32::timeout_ms(deadline));
        if (r == WAIT_OBJECT_0) break;
        if (r == WAIT_TIMEOUT) {
            if (deadline.is_poll() || deadline.expired()) return unexpected(Errc::timeout);
            continue;
        }
        return unexpected(win32::last_error());
    }
    DWORD code = 0;
    if (!::GetExitCodeProcess(h, &code)) return unexpected(win32::last_error());
    const auto sent = static_cast<DWORD>(handle.m_native2);
    if (sent != 0 && code == 128 + sent) handle.m_status = ExitStatus{ExitKind::signaled, static_cast<int>(sent)};
    else handle.m_status = ExitStatus{ExitKind::exited, static_cast<int>(code)};
    handle.release_native();
    return handle.m_status;
}

namespace {
Result<void> end(ProcessHandle& handle, DWORD code, int sig) noexcept {
    if (handle.m_pid == 0) return unexpected(Errc::invalid_argument);
    if (handle.m_status.kind != ExitKind::running) return ok();
    if (handle.m_native2 == 0) handle.m_native2 = static_cast<std::uintptr_t>(sig);
    if (!::TerminateProcess(reinterpret_cast<HANDLE>(static_cast<std::intptr_t>(handle.m_native)), code)) {
        if (::GetLastError() == ERROR_ACCESS_DENIED) return ok();  // already ending
        return unexpected(win32::last_error());
    }
    return ok();
}
}  // namespace

Result<void> terminate_process(ProcessHandle& handle) noexcept { return end(handle, kTerminateCode, 15); }
Result<void> kill_process(ProcessHandle& handle) noexcept { return end(handle, kKillCode, 9); }

ProcessId current_process_id() noexcept { return static_cast<ProcessId>(::GetCurrentProcessId()); }

ProcessId parent_process_id() noexcept {
    HANDLE snap = ::CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    if (snap == INVALID_HANDLE_VALUE) return 0;
    PROCESSENTRY32 e{};
    e.dwSize = sizeof e;
    const DWORD self = ::GetCurrentProcessId();
    ProcessId parent = 0;
    for (BOOL more = ::Process32First(snap, &e); more; more = ::Process32Next(snap, &e)) {
        if (e.th32ProcessID == self) {
            parent = static_cast<ProcessId>(e.th32ParentProcessID);
            break;
        }
    }
    ::CloseHandle(snap);
    return parent;
}

bool process_exists(ProcessId pid) noexcept {
    if (pid <= 0) return false;
    HANDLE h = ::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(pid));
    if (h == nullptr) return ::GetLastError() == ERROR_ACCESS_DENIED;
    DWORD code = 0;
    const bool alive = ::GetExitCodeProcess(h, &code) && code == STILL_ACTIVE;
    ::CloseHandle(h);
    return alive;
}

Result<void> set_parent_death_signal(ProcessId expected_parent) noexcept {
    (void)expected_parent;
    return unexpected(Errc::not_supported);
}

Result<void> harden_worker_process(ProcessId expected_parent) noexcept {
    // Children end with the parent through the kill-on-close job (die_with_parent); a spawned
    // process starts with default handlers. Nothing else to do here.
    (void)expected_parent;
    return ok();
}

}  // namespace staticrt::platform
extern "C" BOOLEAN NTAPI SystemFunction036(PVOID buffer, ULONG length);  // RtlGenRandom (advapi32)
namespace staticrt::platform {

Result<void> random_bytes(void* out, std::size_t bytes) noexcept {
    auto* at = static_cast<unsigned char*>(out);
    while (bytes > 0) {
        const ULONG n = bytes > 0x10000u ? 0x10000u : static_cast<ULONG>(bytes);
        if (!SystemFunction036(at, n)) return unexpected(Errc::os_error, static_cast<int>(::GetLastError()));
        at += n;
        bytes -= n;
    }
    return ok();
}

void exit_process(int code) noexcept {
    std::fflush(nullptr);
    std::_Exit(code);
}

Result<CommandLine> process_arguments() noexcept {
    if (__argv == nullptr) return unexpected(Errc::not_supported);
    return CommandLine{__argc, __argv};
}

Result<void> write_standard(StandardStream stream, const char* data, std::size_t bytes) noexcept {
    HANDLE h = ::GetStdHandle(stream == StandardStream::out ? STD_OUTPUT_HANDLE : STD_ERROR_HANDLE);
    if (h == nullptr || h == INVALID_HANDLE_VALUE) return unexpected(Errc::not_supported);
    while (bytes > 0) {
        DWORD written = 0;
        const DWORD chunk = bytes > 0x40000000u ? 0x40000000u : static_cast<DWORD>(bytes);
        if (!::WriteFile(h, data, chunk, &written, nullptr)) return unexpected(win32::last_error());
        data += written;
        bytes -= written;
    }
    return ok();
}

}  // namespace staticrt::platform
