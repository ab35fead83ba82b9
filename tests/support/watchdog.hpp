// SPDX-License-Identifier: MIT
// watchdog.hpp — a test that deadlocks fails instead of hanging CI.
//
//   TEST(Mutex, Stress) { staticrt::test::Watchdog wd{std::chrono::seconds(60)}; ... }
//
// If the scope is still alive after the limit, the watchdog prints which test hung and aborts.
// Uses std::thread / std::condition_variable on purpose: it must not depend on the code under test.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace staticrt::test {

class Watchdog {
public:
    explicit Watchdog(std::chrono::milliseconds limit, const char* what = "test")
        : m_thread([this, limit, what] {
              std::unique_lock lk(m_mutex);
              if (!m_cv.wait_for(lk, limit, [this] { return m_done; })) {
                  std::fprintf(stderr, "watchdog: %s still running after %lld ms: aborting\n", what,
                               static_cast<long long>(limit.count()));
                  std::fflush(stderr);
                  std::abort();
              }
          }) {}
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;
    ~Watchdog() {
        {
            std::lock_guard lk(m_mutex);
            m_done = true;
        }
        m_cv.notify_one();
        m_thread.join();
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_done = false;
    std::thread m_thread;
};

/// STATICRT_STRESS_SCALE from the environment (default 1.0): multiply iteration counts by it.
inline double stress_scale() {
    const char* s = std::getenv("STATICRT_STRESS_SCALE");
    if (s == nullptr) return 1.0;
    const double v = std::strtod(s, nullptr);
    return v > 0 ? v : 1.0;
}

/// n scaled by stress_scale(), at least `min`.
inline long long scaled(long long n, long long min = 1) {
    const long long v = static_cast<long long>(static_cast<double>(n) * stress_scale());
    return v < min ? min : v;
}

}  // namespace staticrt::test
