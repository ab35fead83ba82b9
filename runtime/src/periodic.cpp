// SPDX-License-Identifier: MIT
// PeriodicTimer: absolute-deadline releases, lateness histogram, overrun / miss accounting.
#include "staticrt/exec/periodic.hpp"

namespace staticrt {
namespace {
constexpr std::int64_t kStopSliceNs = 50'000'000;  // a stop request is seen within 50 ms
}

Result<void> PeriodicTimer::arm(const PeriodicOptions& o) noexcept {
    const std::int64_t period = platform::to_ns_saturating(o.period);
    const std::int64_t deadline = platform::to_ns_saturating(o.deadline);
    if (period <= 0 || deadline < 0) return unexpected(Errc::invalid_argument);
    m_period_ns = period;
    m_deadline_ns = deadline == 0 ? period : deadline;
    m_next_ns = o.first.ns() != 0 ? o.first.ns() : Instant::sat_add(Instant::now().ns(), period);
    m_index = 0;
    m_max_runs = o.max_runs;
    m_returned = 0;
    m_policy = o.overrun;
    // Not while a thread waits: plain stores, published by the thread start that follows.
    m_stop.store(0, std::memory_order_relaxed);
    for (auto* c : {&m_releases, &m_skipped, &m_runs, &m_deadline_misses, &m_overruns}) c->store(0, std::memory_order_relaxed);
    m_lateness.reset();
    return ok();
}

Result<PeriodicTick> PeriodicTimer::wait_release() noexcept {
    if (stop_requested() || (m_max_runs != 0 && m_returned >= m_max_runs)) return unexpected(Errc::closed);
    std::int64_t now = Instant::now().ns();
    if (m_policy == OverrunPolicy::skip && now >= Instant::sat_add(m_next_ns, m_period_ns)) {
        // Releases passed while the last run overran: keep the latest one that is due, count the rest.
        const std::int64_t behind = (now - m_next_ns) / m_period_ns;  // >= 1
        m_next_ns += behind * m_period_ns;
        m_index += static_cast<std::uint64_t>(behind);
        bump(m_skipped, static_cast<std::uint64_t>(behind));
        bump(m_releases, static_cast<std::uint64_t>(behind));
    }
    // Sleep to the release on an absolute deadline, in slices so that a stop request is seen.
    while (now < m_next_ns) {
        const std::int64_t until = m_next_ns - now > kStopSliceNs ? now + kStopSliceNs : m_next_ns;
        (void)platform::sleep_until(Deadline::at(Instant(until)));
        // [periodic.stop] acquire: pairs with request_stop().
        if (m_stop.load(std::memory_order_acquire) != 0) return unexpected(Errc::closed);
        now = Instant::now().ns();
    }
    PeriodicTick t;
    t.index = m_index++;
    t.release = Instant(m_next_ns);
    t.woke = Instant(now);
    t.lateness_ns = now - m_next_ns;
    m_next_ns = Instant::sat_add(m_next_ns, m_period_ns);  // absolute: no drift
    ++m_returned;
    bump(m_releases);
    return t;
}

Result<PeriodicTick> PeriodicTimer::wait_next() noexcept {
    Result<PeriodicTick> t = wait_release();
    if (t) m_lateness.record_signed(t->lateness_ns);
    return t;
}

void PeriodicTimer::complete(const PeriodicTick& tick, Instant end) noexcept {
    bump(m_runs);
    if (end.ns() > Instant::sat_add(tick.release.ns(), m_deadline_ns)) bump(m_deadline_misses);
    if (end.ns() > Instant::sat_add(tick.release.ns(), m_period_ns)) bump(m_overruns);
}

PeriodicStats PeriodicTimer::stats() const noexcept {
    PeriodicStats s;
    // [periodic.stat] relaxed: independent counters, each exact; the set is a snapshot.
    s.releases = m_releases.load(std::memory_order_relaxed);
    s.runs = m_runs.load(std::memory_order_relaxed);
    s.deadline_misses = m_deadline_misses.load(std::memory_order_relaxed);
    s.overruns = m_overruns.load(std::memory_order_relaxed);
    s.skipped = m_skipped.load(std::memory_order_relaxed);
    return s;
}

}  // namespace staticrt
