// SPDX-License-Identifier: MIT
// Process, the entry-point registry and the daemon registry.
#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/process_pool.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "name_registry.hpp"

namespace staticrt::ipc {
namespace {

constexpr const char kEntryFlag[] = "--staticrt-entry=";
constexpr const char kParentFlag[] = "--staticrt-parent=";
constexpr const char kDaemonFlag[] = "--staticrt-daemon";

constinit staticrt::detail::NameRegistry<EntryFn, kMaxEntries, kMaxEntryName> g_entries;

constexpr std::size_t kMaxDaemons = 256;
constinit std::atomic<Process*> g_daemons[kMaxDaemons] = {};
constinit std::atomic<bool> g_atexit_installed{false};

bool starts_with(const char* s, const char* prefix) noexcept {
    return std::strncmp(s, prefix, std::strlen(prefix)) == 0;
}

void write_err(const char* a, const char* b) noexcept {
    (void)platform::write_standard(platform::StandardStream::err, a, std::strlen(a));
    (void)platform::write_standard(platform::StandardStream::err, b, std::strlen(b));
    (void)platform::write_standard(platform::StandardStream::err, "\n", 1);
}

// Decimal text of v into buf (>= 24 bytes).
void to_decimal(std::int64_t v, char* buf) noexcept {
    char tmp[24];
    int n = 0;
    const bool neg = v < 0;
    std::uint64_t u = neg ? static_cast<std::uint64_t>(-(v + 1)) + 1 : static_cast<std::uint64_t>(v);
    do {
        tmp[n++] = static_cast<char>('0' + u % 10);
        u /= 10;
    } while (u != 0);
    int i = 0;
    if (neg) buf[i++] = '-';
    while (n > 0) buf[i++] = tmp[--n];
    buf[i] = '\0';
}

std::int64_t from_decimal(const char* s) noexcept {
    std::int64_t v = 0;
    for (; *s >= '0' && *s <= '9'; ++s) v = v * 10 + (*s - '0');
    return v;
}

void atexit_handler() { terminate_daemon_children(); }

// The handler is installed at start-up (static initialisation of this translation unit, which
// is linked whenever Process is used), not at the first daemon start: glibc's atexit() callocs a
// new block of handlers once its static one is full, and a daemon may be started long after
// start-up, when the no-heap contract holds (seen: one calloc in NoHeapIpc under clang).
struct AtexitInstaller {
    AtexitInstaller() noexcept {
        // [daemon.atexit] acq_rel: installs the handler once; pairs with the exchange in start().
        if (!g_atexit_installed.exchange(true, std::memory_order_acq_rel)) (void)std::atexit(&atexit_handler);
    }
};
const AtexitInstaller g_atexit_installer;

}  // namespace

Result<void> register_entry(const char* name, EntryFn fn) noexcept { return g_entries.add(name, fn); }

EntryFn find_entry(const char* name) noexcept { return g_entries.find(name); }

EntryRegistration::EntryRegistration(const char* name, EntryFn fn) noexcept {
    if (!register_entry(name, fn)) staticrt::detail::contract_violation("EntryRegistration: bad, duplicate or too many entry names");
}

bool child_main_hook(int argc, const char* const* argv) noexcept {
    if (argc < 2 || argv == nullptr || argv[1] == nullptr || !starts_with(argv[1], kEntryFlag)) return false;
    const char* name = argv[1] + std::strlen(kEntryFlag);
    int i = 2;
    ProcessId parent = 0;
    bool daemon = false;
    if (i < argc && starts_with(argv[i], kParentFlag)) parent = from_decimal(argv[i++] + std::strlen(kParentFlag));
    if (i < argc && std::strcmp(argv[i], kDaemonFlag) == 0) {
        daemon = true;
        ++i;
    }
    if (daemon) {
        auto r = platform::set_parent_death_signal(parent);
        if (r.code() == Errc::process_died) platform::exit_process(128 + 15);  // parent already gone
    }
    const EntryFn fn = std::strcmp(name, detail::kPoolWorkerEntry) == 0 ? &detail::pool_worker_main : find_entry(name);
    if (fn == nullptr) {
        write_err("staticrt: spawned child: no entry point registered as ", name);
        platform::exit_process(kUnknownEntryExit);
    }
    platform::exit_process(fn(argc - i, argv + i));
}

bool child_main_hook() noexcept {
    auto cl = platform::process_arguments();
    if (!cl) return false;
    return child_main_hook(cl->argc, cl->argv);
}

// ------------------------------------------------------------------ Process

Process::~Process() {
    if (m_daemon && m_handle.started()) reap_daemon();
    if (m_registered) {
        for (auto& slot : g_daemons) {
            Process* self = this;
            // [daemon.remove] acq_rel: pairs with [daemon.add] / [daemon.scan].
            if (slot.compare_exchange_strong(self, nullptr, std::memory_order_acq_rel)) break;
        }
    }
}

Result<void> Process::before_start(ProcessOptions options) noexcept {
    if (m_handle.started()) return unexpected(Errc::invalid_argument);
    m_daemon = options.daemon;
    if (m_daemon && !m_registered) {
        bool placed = false;
        for (auto& slot : g_daemons) {
            Process* expected = nullptr;
            // [daemon.add] acq_rel: publishes this object to the atexit scan; pairs with [daemon.scan].
            if (slot.compare_exchange_strong(expected, this, std::memory_order_acq_rel)) {
                placed = true;
                break;
            }
        }
        if (!placed) return unexpected(Errc::exhausted);
        m_registered = true;
        // [daemon.atexit] acq_rel: installs the handler once.
        if (!g_atexit_installed.exchange(true, std::memory_order_acq_rel)) (void)std::atexit(&atexit_handler);
    }
    return ok();
}

void Process::after_start() noexcept {}

void Process::reap_daemon() noexcept {
    (void)platform::terminate_process(m_handle);
    if (platform::wait_process(m_handle, Deadline::after(std::chrono::seconds(1)))) return;
    (void)platform::kill_process(m_handle);
    (void)platform::wait_process(m_handle, Deadline::never());
}

Result<void> Process::start(const char* entry, const char* const* args, ProcessOptions options) noexcept {
    const bool builtin = entry != nullptr && std::strcmp(entry, detail::kPoolWorkerEntry) == 0;
    if (entry == nullptr || (!builtin && find_entry(entry) == nullptr) || std::strlen(entry) > kMaxEntryName)
        return unexpected(Errc::invalid_argument);
    if (auto r = before_start(options); !r) return r;
    char entry_arg[sizeof kEntryFlag + kMaxEntryName];
    std::strcpy(entry_arg, kEntryFlag);
    std::strcat(entry_arg, entry);
    char parent_arg[sizeof kParentFlag + 24];
    std::strcpy(parent_arg, kParentFlag);
    to_decimal(platform::current_process_id(), parent_arg + std::strlen(kParentFlag));
    const char* argv[platform::kMaxSpawnArgs + 1];
    std::size_t n = 0;
    argv[n++] = entry_arg;
    argv[n++] = parent_arg;
    if (options.daemon) argv[n++] = kDaemonFlag;
    if (args != nullptr) {
        for (; *args != nullptr; ++args) {
            if (n >= platform::kMaxSpawnArgs) return unexpected(Errc::invalid_argument);
            argv[n++] = *args;
        }
    }
    argv[n] = nullptr;
    platform::SpawnOptions so;
    so.die_with_parent = options.daemon;
    return platform::spawn_self(m_handle, argv, so);
}

Result<void> Process::start_fork(ForkFn fn, void* arg, ProcessOptions options) noexcept {
    if (fn == nullptr) return unexpected(Errc::invalid_argument);
    if (auto r = before_start(options); !r) return r;
    platform::SpawnOptions so;
    so.die_with_parent = options.daemon;
    auto r = platform::fork_process(m_handle, so);
    if (!r) return unexpected(r.error());
    if (*r) platform::exit_process(fn(arg));  // child
    return ok();
}

Result<void> Process::start_program(const char* program, const char* const* args, ProcessOptions options) noexcept {
    if (auto r = before_start(options); !r) return r;
    platform::SpawnOptions so;
    so.die_with_parent = options.daemon;
    return platform::spawn_program(m_handle, program, args, so);
}

Result<void> Process::terminate() noexcept { return platform::terminate_process(m_handle); }
Result<void> Process::kill() noexcept { return platform::kill_process(m_handle); }

Result<void> Process::join(Deadline deadline) noexcept {
    auto r = platform::wait_process(m_handle, deadline);
    if (!r) return unexpected(r.error());
    return ok();
}

bool Process::is_alive() noexcept {
    if (!m_handle.started()) return false;
    return platform::wait_process(m_handle, Deadline::poll()).code() == Errc::timeout;
}

std::optional<int> Process::exit_code() const noexcept {
    const ExitStatus s = m_handle.status();
    if (m_handle.pid() == 0 || s.kind == ExitKind::running) return std::nullopt;
    return s.python_code();
}

void terminate_daemon_children() noexcept {
    for (auto& slot : g_daemons) {
        // [daemon.scan] acquire: pairs with [daemon.add].
        Process* p = slot.load(std::memory_order_acquire);
        if (p != nullptr && p->daemon() && p->status().kind == ExitKind::running && p->pid() != 0) {
            (void)p->terminate();
        }
    }
    for (auto& slot : g_daemons) {
        Process* p = slot.load(std::memory_order_acquire);
        if (p != nullptr && p->daemon() && p->pid() != 0 && p->status().kind == ExitKind::running) {
            if (!p->join(Deadline::after(std::chrono::seconds(1)))) {
                (void)p->kill();
                (void)p->join(Deadline::never());
            }
        }
    }
}

}  // namespace staticrt::ipc
