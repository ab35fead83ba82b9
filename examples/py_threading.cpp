// SPDX-License-Identifier: MIT
// py_threading: Python's threading.Thread basics — name, start, join(timeout), is_alive,
// and threading.excepthook for a thread that fails.
//
// Python:
//   def worker(n): print(f'{threading.current_thread().name}: {n * n}')
//   t = threading.Thread(target=worker, args=(7,), name='squarer'); t.start(); t.join(timeout=5)
//   print(t.is_alive())                  # False
//   threading.excepthook = lambda args: print('failed:', args.thread.name, args.exc_value)
//   threading.Thread(target=lambda: 1 / 0, name='divider').start()
//
// Differences: the callable returns void or Result<void>; an error it returns goes to the hook
// (there are no exceptions); a Thread owns its stack (static storage here) and must be joined
// before it is destroyed unless it is a daemon (see daemon_thread.cpp).
#include <atomic>
#include <chrono>
#include <cstdio>

#include "staticrt/thread.hpp"

namespace {
staticrt::Thread<256 * 1024> g_squarer, g_divider;
std::atomic<int> g_failures{0};

void hook(const char* name, staticrt::Error error) noexcept {
    std::printf("failed: %s %s\n", name, staticrt::to_string(error.code));
    g_failures.fetch_add(1, std::memory_order_relaxed);  // relaxed: read after join()
}
}  // namespace

int main() {
    using staticrt::Deadline;
    int n = 7;  // captured by value, as Python's args=(n,)
    if (!g_squarer.start([n] { std::printf("squarer: %d\n", n * n); }, {.name = "squarer"})) return 1;
    if (!g_squarer.join(Deadline::after(std::chrono::seconds(5)))) return 1;
    std::printf("is_alive: %s\n", g_squarer.is_alive() ? "True" : "False");

    (void)staticrt::set_thread_failure_hook(&hook);  // threading.excepthook = hook
    int divisor = 0;
    auto divide = [divisor]() -> staticrt::Result<void> {
        if (divisor == 0) return unexpected(staticrt::Errc::invalid_argument);  // ZeroDivisionError
        return staticrt::ok();
    };
    if (!g_divider.start(divide, {.name = "divider"})) return 1;
    if (!g_divider.join(Deadline::after(std::chrono::seconds(5)))) return 1;
    (void)staticrt::set_thread_failure_hook(nullptr);  // the default again: one line to stderr
    return g_failures.load(std::memory_order_relaxed) == 1 ? 0 : 1;
}
