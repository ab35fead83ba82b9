// SPDX-License-Identifier: MIT
// The non-template part of staticrt::Thread: start/join through the platform, the trampoline
// that reports a failing callable to the process-wide failure hook.
#include "staticrt/thread.hpp"

#include <atomic>
#include <cstdio>

namespace staticrt {

namespace {

void default_failure_hook(const char* thread_name, Error error) noexcept {
    if (error.os_code != 0)
        std::fprintf(stderr, "staticrt: thread '%s' failed: %s (os error %d)\n", thread_name, to_string(error.code),
                     error.os_code);
    else
        std::fprintf(stderr, "staticrt: thread '%s' failed: %s\n", thread_name, to_string(error.code));
}

constinit std::atomic<ThreadFailureHook> g_failure_hook{nullptr};  // nullptr = default

}  // namespace

ThreadFailureHook set_thread_failure_hook(ThreadFailureHook hook) noexcept {
    // [thread.hook] acq_rel: the new hook (and what it reads) is published to failing threads,
    // which load it with acquire; the previous one is handed back.
    ThreadFailureHook previous = g_failure_hook.exchange(hook, std::memory_order_acq_rel);
    return previous != nullptr ? previous : &default_failure_hook;
}

namespace detail {

Result<void> ThreadCore::start(platform::StackSpan stack, const ThreadOptions& options, Run run,
                               void* owner) noexcept {
    if (m_handle.joinable()) return unexpected(Errc::invalid_argument);
    std::size_t i = 0;
    if (options.name != nullptr)
        for (; i + 1 < platform::kMaxThreadName && options.name[i] != '\0'; ++i) m_name[i] = options.name[i];
    m_name[i] = '\0';
    m_run = run;
    m_owner = owner;
    m_taken.store(0, std::memory_order_relaxed);  // relaxed: published by the thread's creation
    ThreadOptions opts = options;
    opts.name = m_name[0] != '\0' ? m_name : nullptr;
    // The platform's thread start publishes m_run/m_owner/the task to the new thread.
    return platform::start_thread(m_handle, stack, &ThreadCore::entry, this, opts);
}

void ThreadCore::wait_taken() const noexcept {
    if (!m_handle.joinable()) return;
    // [thread.taken] acquire: pairs with mark_taken(). A started thread reaches Thread::run()
    // promptly; only a Thread destroyed while its (daemon) thread runs waits here.
    while (m_taken.load(std::memory_order_acquire) == 0) platform::yield_now();
}

Result<void> ThreadCore::join(Deadline deadline) noexcept {
    if (m_handle.joinable() && m_handle.id() == platform::current_thread_id())
        contract_violation("Thread::join() called from the thread itself (it would wait forever)");
    return platform::join(m_handle, deadline);
}

Result<void> ThreadCore::pin(const platform::CpuSet& cpus) noexcept {
    if (!m_handle.running()) return unexpected(Errc::invalid_argument);
    return platform::pin_thread(m_handle, cpus);
}

Result<void> ThreadCore::set_priority(platform::Priority priority) noexcept {
    if (!m_handle.running()) return unexpected(Errc::invalid_argument);
    return platform::set_priority(m_handle, priority);
}

void ThreadCore::entry(void* self) noexcept {
    auto* core = static_cast<ThreadCore*>(self);
    const Result<void> r = core->m_run(core->m_owner);
    if (!r) {
        // [thread.hook] acquire: pairs with set_thread_failure_hook().
        ThreadFailureHook hook = g_failure_hook.load(std::memory_order_acquire);
        (hook != nullptr ? hook : &default_failure_hook)(core->m_name, r.error());
    }
}

}  // namespace detail
}  // namespace staticrt
