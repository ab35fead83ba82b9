// SPDX-License-Identifier: MIT
// Win32 threads: CreateThread with a reserved stack, set-up before user code, join with Deadline.
//
// Stacks: Windows cannot run a thread on caller memory. CreateThread reserves `stack.bytes` of
// virtual address space (STACK_SIZE_PARAM_IS_A_RESERVATION; VirtualAlloc by the kernel, never
// the C heap) and commits pages as the thread touches them. The caller's StackSpan is checked
// as on POSIX (size, alignment) but unused; its base may be null (kThreadUsesCallerStack is
// false: Thread and ThreadPool keep no dead in-object stack here, docs/footprint.md).
//
// Protocol (shared with POSIX): start_thread() claims the handle (kIdle -> kRunning), creates
// the thread and waits on m_setup. The new thread first applies name, affinity and priority,
// then publishes m_setup = 1 (ok) or 2 (failed, m_setup_error set; user code never runs). After
// entry(arg) returns it stores m_state = kFinished and wakes waiters on m_state. join() waits
// for the thread object with WaitForSingleObject, closes it and returns the handle to kIdle.
#include "win32_detail.hpp"

#include <cstring>

#include "staticrt/platform/thread.hpp"
#include "staticrt/platform/wait.hpp"

namespace staticrt::platform {
namespace {

static_assert(sizeof(HANDLE) <= sizeof(ThreadHandle::m_native), "ThreadHandle::m_native must hold a HANDLE");
static_assert(alignof(HANDLE) <= 8, "ThreadHandle::m_native is 8-byte aligned; HANDLE needs more");
static_assert(sizeof(DWORD) <= sizeof(ThreadId), "ThreadId must hold a Win32 thread id");

constexpr std::uint32_t kSetupPending = 0, kSetupOk = 1, kSetupFailed = 2;

HANDLE native(const ThreadHandle& h) noexcept {
    HANDLE t = nullptr;
    std::memcpy(&t, h.m_native, sizeof t);
    return t;
}

void set_native(ThreadHandle& h, HANDLE t) noexcept { std::memcpy(h.m_native, &t, sizeof t); }

/// fifo/rr levels 1..49 -> THREAD_PRIORITY_HIGHEST, 50..99 -> THREAD_PRIORITY_TIME_CRITICAL.
Result<int> native_priority(Priority p) noexcept {
    switch (p.policy) {
        case SchedPolicy::normal: return THREAD_PRIORITY_NORMAL;
        case SchedPolicy::fifo:
        case SchedPolicy::rr:
            if (p.level < 1 || p.level > 99) return unexpected(Errc::invalid_argument);
            return p.level >= 50 ? THREAD_PRIORITY_TIME_CRITICAL : THREAD_PRIORITY_HIGHEST;
    }
    return unexpected(Errc::invalid_argument);
}

Result<void> apply_priority(HANDLE thread, Priority p) noexcept {
    auto level = native_priority(p);
    if (!level) return unexpected(level.error());
    if (!::SetThreadPriority(thread, *level)) {
        return unexpected(Errc::permission_denied, static_cast<int>(::GetLastError()));
    }
    return ok();
}

using SetThreadDescriptionFn = HRESULT(WINAPI*)(HANDLE, PCWSTR);

/// SetThreadDescription (Windows 10 1607+) looked up at run time: older systems, older mingw
/// import libraries and some wine versions lack it.
SetThreadDescriptionFn find_set_thread_description() noexcept {
    const wchar_t* const dlls[] = {L"kernel32.dll", L"kernelbase.dll"};
    for (const wchar_t* dll : dlls) {
        HMODULE mod = ::GetModuleHandleW(dll);
        if (mod == nullptr) continue;
        FARPROC proc = ::GetProcAddress(mod, "SetThreadDescription");
        // Through void(*)(): the generic function-pointer type, so no cast-function-type warning.
        if (proc != nullptr) return reinterpret_cast<SetThreadDescriptionFn>(reinterpret_cast<void (*)()>(proc));
    }
    return nullptr;
}

DWORD WINAPI trampoline(LPVOID param) {
    auto& h = *static_cast<ThreadHandle*>(param);
    // [thread.tid] release: pairs with the acquire in ThreadHandle::id().
    h.m_tid.store(::GetCurrentThreadId(), std::memory_order_release);
    // Everything start_thread() wrote to h before CreateThread is visible here: thread creation
    // synchronises-with the start of the new thread.
    if (h.m_options.name != nullptr) (void)set_current_name(h.m_options.name);  // naming failure is not an error
    Result<void> r = ok();
    if (h.m_options.affinity != nullptr) r = pin_current_thread(*h.m_options.affinity);
    if (r && h.m_options.priority.policy != SchedPolicy::normal) r = apply_priority(::GetCurrentThread(), h.m_options.priority);
    if (!r) {
        h.m_setup_error = r.error();
        // [thread.setup] release: publishes m_setup_error; pairs with [thread.setup.wait].
        h.m_setup.store(kSetupFailed, std::memory_order_release);
        wake_all(h.m_setup);
        return 1;  // start_thread() waits for this thread to exit before it reuses the handle
    }
    // [thread.setup] release: pairs with [thread.setup.wait].
    h.m_setup.store(kSetupOk, std::memory_order_release);
    wake_all(h.m_setup);

    h.m_entry(h.m_arg);

    // [thread.finish] release: the thread's writes before this store are visible to whoever
    // observes kFinished with acquire (running(), join()); pairs with [thread.join].
    h.m_state.store(ThreadHandle::kFinished, std::memory_order_release);
    wake_all(h.m_state);
    return 0;
}

// kThreadUsesCallerStack is false here: a null base asks for an OS-provided stack of s.bytes
// (Thread and ThreadPool keep no in-object stack on Windows); a given base is checked as on POSIX.
bool stack_ok(StackSpan s) noexcept {
    return s.bytes >= kMinStackBytes && (reinterpret_cast<std::uintptr_t>(s.base) % 16) == 0;
}

}  // namespace

ThreadHandle::~ThreadHandle() {
    // [thread.dtor] acquire: pairs with [thread.join.done]; a handle joined elsewhere reads kIdle.
    // A daemon thread is abandoned, not joined: it ends with the process (options.daemon).
    if (m_state.load(std::memory_order_acquire) != kIdle && !m_options.daemon) {
        detail::contract_violation("ThreadHandle destroyed while its thread is started and not joined (call join())");
    }
}

Result<void> start_thread(ThreadHandle& handle, StackSpan stack, ThreadEntry entry, void* arg,
                          const ThreadOptions& options) noexcept {
    if (entry == nullptr || !stack_ok(stack)) return unexpected(Errc::invalid_argument);
    if (options.priority.policy != SchedPolicy::normal) {
        if (auto p = native_priority(options.priority); !p) return unexpected(p.error());
    }
    std::uint32_t idle = ThreadHandle::kIdle;
    // [thread.claim] acquire: pairs with [thread.join.done]; the handle's last use is complete.
    if (!handle.m_state.compare_exchange_strong(idle, ThreadHandle::kRunning, std::memory_order_acquire,
                                                std::memory_order_relaxed)) {
        return unexpected(Errc::invalid_argument);  // already started and not joined
    }
    handle.m_entry = entry;
    handle.m_arg = arg;
    handle.m_options = options;
    if (options.affinity != nullptr) {
        handle.m_affinity = *options.affinity;
        handle.m_options.affinity = &handle.m_affinity;  // the caller's set need not outlive start_thread()
    }
    handle.m_setup_error = Error{};
    // [thread.setup.reset] relaxed: CreateThread below orders it before the new thread starts.
    handle.m_setup.store(kSetupPending, std::memory_order_relaxed);
    handle.m_tid.store(0, std::memory_order_relaxed);  // [thread.tid] relaxed: same argument

    DWORD tid = 0;
    HANDLE t = ::CreateThread(nullptr, stack.bytes, &trampoline, &handle, STACK_SIZE_PARAM_IS_A_RESERVATION, &tid);
    if (t == nullptr) {
        const Error e = win32::last_error();
        handle.m_state.store(ThreadHandle::kIdle, std::memory_order_release);  // [thread.join.done] release
        return unexpected(e);
    }
    set_native(handle, t);

    std::uint32_t setup = kSetupPending;
    // [thread.setup.wait] acquire: pairs with [thread.setup]; m_setup_error is visible on failure.
    while ((setup = handle.m_setup.load(std::memory_order_acquire)) == kSetupPending) {
        (void)wait(handle.m_setup, kSetupPending, Deadline::never());
    }
    if (setup == kSetupFailed) {
        ::WaitForSingleObject(t, INFINITE);  // the thread only returns; it ran no user code
        ::CloseHandle(t);
        set_native(handle, nullptr);
        const Error e = handle.m_setup_error;
        handle.m_tid.store(0, std::memory_order_relaxed);  // [thread.tid] relaxed: the thread is gone
        handle.m_state.store(ThreadHandle::kIdle, std::memory_order_release);  // [thread.join.done] release
        return unexpected(e);
    }
    return ok();
}

Result<void> join(ThreadHandle& handle, Deadline deadline) noexcept {
    // [thread.join] acquire: pairs with [thread.finish].
    if (handle.m_state.load(std::memory_order_acquire) == ThreadHandle::kIdle) return unexpected(Errc::invalid_argument);
    // [thread.tid] relaxed: m_tid was published before start_thread() returned (setup handshake).
    if (handle.m_tid.load(std::memory_order_relaxed) == ::GetCurrentThreadId()) {
        detail::contract_violation("join(): a thread cannot join itself");
    }
    HANDLE t = native(handle);
    for (;;) {
        const DWORD ms = win32::timeout_ms(deadline);
        const DWORD rc = ::WaitForSingleObject(t, ms);
        if (rc == WAIT_OBJECT_0) break;
        if (rc != WAIT_TIMEOUT) return unexpected(win32::last_error());
        if (ms == 0 || deadline.expired()) return unexpected(Errc::timeout);
        // woke before the deadline on the monotonic clock: wait for the rest
    }
    // The thread has exited: waiting on its object synchronises with everything it did.
    // [thread.join] acquire: pairs with [thread.finish] (formally orders the thread's writes).
    (void)handle.m_state.load(std::memory_order_acquire);
    ::CloseHandle(t);
    set_native(handle, nullptr);
    handle.m_tid.store(0, std::memory_order_relaxed);  // [thread.tid] relaxed: ordered by the store below
    // [thread.join.done] release: pairs with [thread.claim] and the destructor's acquire.
    handle.m_state.store(ThreadHandle::kIdle, std::memory_order_release);
    return ok();
}

Result<void> pin_thread(ThreadHandle& handle, const CpuSet& cpus) noexcept {
    // [thread.observe] acquire: pairs with [thread.claim]/[thread.join.done]: the native handle is current.
    if (handle.m_state.load(std::memory_order_acquire) == ThreadHandle::kIdle) return unexpected(Errc::invalid_argument);
    return win32::pin_native_thread(native(handle), cpus);
}

Result<void> set_priority(ThreadHandle& handle, Priority priority) noexcept {
    // [thread.observe] acquire: see pin_thread().
    if (handle.m_state.load(std::memory_order_acquire) == ThreadHandle::kIdle) return unexpected(Errc::invalid_argument);
    return apply_priority(native(handle), priority);
}

Result<void> set_current_priority(Priority priority) noexcept { return apply_priority(::GetCurrentThread(), priority); }

Result<void> set_current_name(const char* name) noexcept {
    if (name == nullptr) return unexpected(Errc::invalid_argument);
    SetThreadDescriptionFn set_description = find_set_thread_description();
    if (set_description == nullptr) return unexpected(Errc::not_supported);
    // UTF-8 -> UTF-16, truncated to kMaxThreadName - 1 bytes like on Linux.
    int bytes = 0;
    while (bytes < static_cast<int>(kMaxThreadName) - 1 && name[bytes] != '\0') ++bytes;
    wchar_t wide[kMaxThreadName] = {};
    const int n = bytes > 0 ? ::MultiByteToWideChar(CP_UTF8, 0, name, bytes, wide, static_cast<int>(kMaxThreadName) - 1) : 0;
    wide[n > 0 ? n : 0] = L'\0';
    const HRESULT hr = set_description(::GetCurrentThread(), wide);
    if (FAILED(hr)) return unexpected(Errc::os_error, static_cast<int>(hr));
    return ok();
}

ThreadId current_thread_id() noexcept { return ::GetCurrentThreadId(); }

Result<std::uint64_t> thread_cpu_ns(ThreadId tid) noexcept {
    if (tid == 0) return unexpected(Errc::invalid_argument);
    // A kernel handle for the query only (no C heap); GetThreadTimes counts in 100 ns units.
    HANDLE h = ::OpenThread(THREAD_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(tid));
    if (h == nullptr) return unexpected(win32::last_error());
    FILETIME created{}, exited{}, kernel{}, user{};
    const BOOL got = ::GetThreadTimes(h, &created, &exited, &kernel, &user);
    const Error err = got ? Error{} : win32::last_error();
    ::CloseHandle(h);
    if (!got) return unexpected(err);
    const auto ticks = [](const FILETIME& f) noexcept {
        return (static_cast<std::uint64_t>(f.dwHighDateTime) << 32) | f.dwLowDateTime;
    };
    return (ticks(kernel) + ticks(user)) * 100ULL;
}

void yield_now() noexcept { ::SwitchToThread(); }

}  // namespace staticrt::platform
