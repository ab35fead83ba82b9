// SPDX-License-Identifier: MIT
// POSIX threads on caller-provided stacks (pthread_attr_setstack).
//
// Start handshake: start_thread() fills the handle, creates the thread and parks on m_setup.
// The trampoline applies name, priority and affinity, then publishes the outcome in m_setup
// ([thread.setup] release) and wakes the starter ([thread.setup.wait] acquire). On failure the
// trampoline returns without running user code and start_thread() joins it and reports the
// error. On success the entry runs; when it returns the trampoline stores kFinished
// ([thread.finish] release) and wakes m_state; join() waits for that ([thread.join] acquire),
// then pthread_join()s, which also guarantees the thread left the caller's stack.
//
// Heap: staticrt allocates nothing here. glibc itself, in pthread_create() with a user stack,
// calloc()s the new thread's dynamic thread vector (DTV, a few dozen bytes) in
// _dl_allocate_tls and frees it when the thread is joined; its own stack cache (which would
// avoid this) is only for stacks glibc allocated. tests/noheap measures it: exactly one
// allocation per start_thread() and none in join() or anything else (docs/platform.md).
#include "staticrt/platform/thread.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "staticrt/platform/wait.hpp"

namespace staticrt::platform {

namespace detail {
Result<void> pin_tid(long tid, const CpuSet& cpus) noexcept;  // cpu.cpp
}  // namespace detail

namespace {

static_assert(sizeof(pthread_t) <= sizeof(ThreadHandle::m_native),
              "ThreadHandle::m_native is too small for pthread_t on this target: enlarge it in thread.hpp");
static_assert(alignof(pthread_t) <= alignof(ThreadHandle),
              "ThreadHandle is less aligned than pthread_t: raise the alignas of m_native in thread.hpp");

constexpr std::uint32_t kSetupPending = 0, kSetupOk = 1, kSetupFailed = 2;

pthread_t native(const ThreadHandle& h) noexcept {
    pthread_t t;
    std::memcpy(&t, h.m_native, sizeof t);
    return t;
}

void set_native(ThreadHandle& h, pthread_t t) noexcept { std::memcpy(h.m_native, &t, sizeof t); }

long gettid_now() noexcept { return ::syscall(SYS_gettid); }

/// Checks a Priority and converts it to a policy + sched_param.
Result<void> to_native(Priority p, int& policy, sched_param& sp) noexcept {
    sp = sched_param{};
    switch (p.policy) {
        case SchedPolicy::normal: policy = SCHED_OTHER; sp.sched_priority = 0; return ok();
        case SchedPolicy::fifo: policy = SCHED_FIFO; break;
        case SchedPolicy::rr: policy = SCHED_RR; break;
        default: return unexpected(Errc::invalid_argument);
    }
    const int lo = ::sched_get_priority_min(policy);
    const int hi = ::sched_get_priority_max(policy);
    if (lo < 0 || hi < 0) return unexpected(Errc::not_supported, errno);
    if (p.level < lo || p.level > hi) return unexpected(Errc::invalid_argument);
    sp.sched_priority = p.level;
    return ok();
}

Result<void> map_sched_error(int rc) noexcept {
    switch (rc) {
        case 0: return ok();
        case EPERM: return unexpected(Errc::permission_denied, rc);
        case EINVAL: return unexpected(Errc::invalid_argument, rc);
        case ENOTSUP: return unexpected(Errc::not_supported, rc);
        default: return unexpected(Errc::os_error, rc);
    }
}

Result<void> apply_priority(pthread_t t, Priority p) noexcept {
    int policy = SCHED_OTHER;
    sched_param sp{};
    if (auto r = to_native(p, policy, sp); !r) return r;
    return map_sched_error(::pthread_setschedparam(t, policy, &sp));
}

Result<void> name_self(const char* name) noexcept {
    char buf[kMaxThreadName] = {};
    std::size_t i = 0;
    for (; i + 1 < sizeof buf && name[i] != '\0'; ++i) buf[i] = name[i];
    buf[i] = '\0';
    const int rc = ::pthread_setname_np(::pthread_self(), buf);  // glibc: prctl(PR_SET_NAME) for self
    if (rc != 0) return unexpected(Errc::os_error, rc);
    return ok();
}

/// Everything start_thread() promised to do before user code runs.
Result<void> setup_self(ThreadHandle& h) noexcept {
    const ThreadOptions& o = h.m_options;
    if (o.name != nullptr) {
        if (auto r = name_self(o.name); !r) return r;
    }
    if (o.priority.policy != SchedPolicy::normal) {
        if (auto r = apply_priority(::pthread_self(), o.priority); !r) return r;
    } else {
        // Inherited real-time scheduling is dropped: `normal` means SCHED_OTHER.
        const int cur = ::sched_getscheduler(0);
        if (cur == SCHED_FIFO || cur == SCHED_RR) {
            if (auto r = apply_priority(::pthread_self(), Priority{}); !r) return r;
        }
    }
    if (o.affinity != nullptr) {
        if (auto r = detail::pin_tid(0, h.m_affinity); !r) return r;
    }
    return ok();
}

void* trampoline(void* p) noexcept {
    auto& h = *static_cast<ThreadHandle*>(p);
    // [thread.tid] release: pairs with the acquire load in ThreadHandle::id().
    h.m_tid.store(static_cast<ThreadId>(gettid_now()), std::memory_order_release);
    // The thread records its own pthread_t (published by [thread.setup]): pthread_create() may
    // return to the starter only after the entry already runs and, say, calls join() on itself.
    set_native(h, ::pthread_self());
    if (auto r = setup_self(h); !r) {
        h.m_setup_error = r.error();
        // [thread.setup] release: publishes m_setup_error; pairs with [thread.setup.wait].
        h.m_setup.store(kSetupFailed, std::memory_order_release);
        wake_all(h.m_setup);
        return nullptr;  // no user code runs; start_thread() joins us
    }
    const ThreadEntry entry = h.m_entry;
    void* const arg = h.m_arg;
    // [thread.setup] release: pairs with [thread.setup.wait]; the starter may return now.
    h.m_setup.store(kSetupOk, std::memory_order_release);
    wake_all(h.m_setup);

    entry(arg);

    // [thread.finish] release: everything the entry wrote happens-before a join() that sees
    // kFinished; pairs with [thread.join]. The handle stays valid: join() cannot return (and the
    // owner cannot reuse it) before pthread_join() saw this thread exit.
    h.m_state.store(ThreadHandle::kFinished, std::memory_order_release);
    wake_all(h.m_state);
    return nullptr;
}

}  // namespace

ThreadHandle::~ThreadHandle() {
    // relaxed: a started handle is destroyed by its owner; any value but kIdle is a bug.
    // A daemon thread is abandoned, not joined: it ends with the process (options.daemon).
    if (m_state.load(std::memory_order_relaxed) != kIdle && !m_options.daemon)
        staticrt::detail::contract_violation("ThreadHandle destroyed while its thread is started and not joined");
}

Result<void> start_thread(ThreadHandle& handle, StackSpan stack, ThreadEntry entry, void* arg,
                          const ThreadOptions& options) noexcept {
    if (entry == nullptr || stack.base == nullptr || stack.bytes < kMinStackBytes ||
        (reinterpret_cast<std::uintptr_t>(stack.base) % 16) != 0)
        return unexpected(Errc::invalid_argument);
    if (options.affinity != nullptr && options.affinity->empty()) return unexpected(Errc::invalid_argument);
    {
        int policy = 0;
        sched_param sp{};
        if (auto r = to_native(options.priority, policy, sp); !r) return r;
    }
    std::uint32_t idle = ThreadHandle::kIdle;
    // [thread.claim] acq_rel: acquire pairs with [thread.release] of the previous join() of this
    // handle (its writes to the handle are done); release is not relied on.
    if (!handle.m_state.compare_exchange_strong(idle, ThreadHandle::kRunning, std::memory_order_acq_rel,
                                                std::memory_order_relaxed))
        return unexpected(Errc::invalid_argument);  // already in use

    handle.m_entry = entry;
    handle.m_arg = arg;
    handle.m_options = options;
    if (options.affinity != nullptr) handle.m_affinity = *options.affinity;
    handle.m_setup_error = Error{};
    // relaxed: published to the new thread by pthread_create().
    handle.m_setup.store(kSetupPending, std::memory_order_relaxed);
    handle.m_tid.store(0, std::memory_order_relaxed);

    auto fail = [&](Error e) -> Result<void> {
        handle.m_options = ThreadOptions{};
        // [thread.release] release: pairs with [thread.claim] of the next start_thread().
        handle.m_state.store(ThreadHandle::kIdle, std::memory_order_release);
        return unexpected(e);
    };

    pthread_attr_t attr;
    if (const int rc = ::pthread_attr_init(&attr); rc != 0) return fail(Error{Errc::os_error, rc});
    int rc = ::pthread_attr_setstack(&attr, stack.base, stack.bytes);
    pthread_t t{};
    if (rc == 0) rc = ::pthread_create(&t, &attr, &trampoline, &handle);
    (void)::pthread_attr_destroy(&attr);
    if (rc != 0) {
        switch (rc) {
            case EINVAL: return fail(Error{Errc::invalid_argument, rc});  // stack too small for TLS
            case EPERM: return fail(Error{Errc::permission_denied, rc});
            default: return fail(Error{Errc::os_error, rc});
        }
    }

    // [thread.setup.wait] acquire: pairs with [thread.setup]; m_setup_error and m_tid are visible.
    std::uint32_t s = handle.m_setup.load(std::memory_order_acquire);
    while (s == kSetupPending) {
        (void)wait(handle.m_setup, kSetupPending, Deadline::never());
        s = handle.m_setup.load(std::memory_order_acquire);
    }
    handle.m_options = ThreadOptions{};  // the caller's name/affinity pointers are not kept
    handle.m_options.daemon = options.daemon;  // read by ~ThreadHandle
    if (s == kSetupFailed) {
        (void)::pthread_join(t, nullptr);
        handle.m_tid.store(0, std::memory_order_relaxed);
        return fail(handle.m_setup_error);
    }
    return ok();
}

Result<void> join(ThreadHandle& handle, Deadline deadline) noexcept {
    // [thread.join] acquire: pairs with [thread.finish]; the entry's writes are visible.
    std::uint32_t s = handle.m_state.load(std::memory_order_acquire);
    if (s == ThreadHandle::kIdle) return unexpected(Errc::invalid_argument);
    const pthread_t t = native(handle);
    if (::pthread_equal(t, ::pthread_self()) != 0)
        staticrt::detail::contract_violation("join(): a thread cannot join itself");
    while (s == ThreadHandle::kRunning) {
        const auto r = wait(handle.m_state, ThreadHandle::kRunning, deadline);
        s = handle.m_state.load(std::memory_order_acquire);  // [thread.join]
        if (!r && r.code() == Errc::timeout && s == ThreadHandle::kRunning) return unexpected(Errc::timeout);
        if (!r && r.code() != Errc::timeout) return r;
    }
    // The thread has stored kFinished; it exits right after, so this returns promptly.
    if (const int rc = ::pthread_join(t, nullptr); rc != 0) return unexpected(Errc::os_error, rc);
    handle.m_tid.store(0, std::memory_order_relaxed);
    // [thread.release] release: pairs with [thread.claim] of the next start_thread().
    handle.m_state.store(ThreadHandle::kIdle, std::memory_order_release);
    return ok();
}

Result<void> pin_thread(ThreadHandle& handle, const CpuSet& cpus) noexcept {
    if (!handle.joinable()) return unexpected(Errc::invalid_argument);
    const ThreadId tid = handle.id();
    if (tid == 0) return unexpected(Errc::invalid_argument);
    return detail::pin_tid(static_cast<long>(tid), cpus);
}

Result<void> set_priority(ThreadHandle& handle, Priority priority) noexcept {
    if (!handle.joinable()) return unexpected(Errc::invalid_argument);
    return apply_priority(native(handle), priority);
}

Result<void> set_current_priority(Priority priority) noexcept {
    return apply_priority(::pthread_self(), priority);
}

Result<void> set_current_name(const char* name) noexcept {
    if (name == nullptr) return unexpected(Errc::invalid_argument);
    return name_self(name);
}

namespace {
// The calling thread's tid, cached: gettid() is a syscall in glibc, and Mutex asks for the owner
// id on every lock/unlock (uncontended paths must not enter the kernel). A trivially constructed
// thread_local lives in the static TLS block set up with the thread: no allocation, no init guard.
// fork(): the child's only thread has a new tid, so a pthread_atfork child handler clears the
// cache of the thread that forked (the only one that exists in the child).
thread_local long t_cached_tid = 0;
// [tid.atfork] relaxed exchange: only decides which caller registers the handler once; the
// handler's effect does not depend on any other memory.
std::atomic<bool> g_atfork_registered{false};
void clear_cached_tid_in_child() noexcept { t_cached_tid = 0; }
}  // namespace

ThreadId current_thread_id() noexcept {
    long tid = t_cached_tid;
    if (tid == 0) {
        if (!g_atfork_registered.exchange(true, std::memory_order_relaxed)) {
            (void)::pthread_atfork(nullptr, nullptr, &clear_cached_tid_in_child);
        }
        tid = gettid_now();
        t_cached_tid = tid;
    }
    return static_cast<ThreadId>(tid);
}

Result<std::uint64_t> thread_cpu_ns(ThreadId tid) noexcept {
    if (tid == 0) return unexpected(Errc::invalid_argument);
    // Linux's per-thread CPU clock id for a tid (the kernel's MAKE_THREAD_CPUCLOCK(tid,
    // CPUCLOCK_SCHED), what glibc's pthread_getcpuclockid() returns): built from the tid rather
    // than a pthread_t so a thread that has exited (or been joined) gives EINVAL, not a read of a
    // stale descriptor.
    const clockid_t id = static_cast<clockid_t>((~static_cast<unsigned>(tid) << 3) | 6U);
    timespec ts{};
    if (::clock_gettime(id, &ts) != 0) return unexpected(Errc::os_error, errno);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

void yield_now() noexcept { (void)::sched_yield(); }

}  // namespace staticrt::platform
