// SPDX-License-Identifier: MIT
// tests/dsched/dsched.cpp — the deterministic scheduler behind dsched.hpp.
//
// Baton passing: every thread under a schedule owns a binary semaphore and runs only while the
// scheduler's `m_current` names it. At a scheduling point the running thread takes a decision
// (which thread runs next, from the seeded strategy), releases that thread's semaphore and
// acquires its own. The scheduler's state is touched only by the thread holding the baton; the
// semaphore hand-off orders it (release/acquire) between consecutive holders.
#include "dsched.hpp"

#include "staticrt/platform/cpu.hpp"

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <semaphore>
#include <thread>

namespace dsched {

const char* to_string(Strategy s) noexcept { return s == Strategy::pct ? "pct" : "random"; }

const char* to_string(Verdict v) noexcept {
    switch (v) {
        case Verdict::passed: return "passed";
        case Verdict::failed: return "failed";
        case Verdict::deadlock: return "deadlock";
        case Verdict::livelock: return "livelock";
    }
    return "?";
}

namespace {

/// splitmix64: small, fast, and the same sequence on every platform and standard library.
class Rng {
public:
    explicit Rng(std::uint64_t seed) noexcept : m_s(seed * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL) {}
    std::uint64_t next() noexcept {
        std::uint64_t z = (m_s += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    /// Uniform in [0, n), n > 0.
    std::uint64_t below(std::uint64_t n) noexcept { return next() % n; }
    bool chance(unsigned permille) noexcept { return permille != 0 && below(1000) < permille; }

private:
    std::uint64_t m_s;
};

enum class State : std::uint8_t { runnable, blocked, finished };

struct Thread {
    State state = State::runnable;
    std::binary_semaphore baton{0};
    // while blocked
    const void* word = nullptr;
    std::int64_t deadline_ns = 0;  // finite deadline of the blocked wait (real Instant ns)
    bool finite = false;
    bool timed_out = false;        // the result of the wait once runnable again
    // virtual time: every finite deadline <= this has passed for this thread
    std::int64_t expired_up_to = std::numeric_limits<std::int64_t>::min();
    std::int64_t priority = 0;     // PCT
};

/// A small set of thread indices (no allocation on the per-step path).
class Set {
public:
    void add(unsigned i) noexcept { m_v[m_n++] = i; }
    [[nodiscard]] unsigned at(std::uint64_t k) const noexcept { return m_v[k]; }
    [[nodiscard]] std::uint64_t size() const noexcept { return m_n; }
    [[nodiscard]] bool empty() const noexcept { return m_n == 0; }

private:
    unsigned m_v[kMaxThreads]{};
    unsigned m_n = 0;
};

class Scheduler;
thread_local Scheduler* t_sched = nullptr;
thread_local unsigned t_index = 0;

class Scheduler {
public:
    Scheduler(const Options& opt, std::size_t n) : m_opt(opt), m_rng(opt.seed), m_threads(n) {
        if (opt.strategy == Strategy::pct) {
            // Distinct random initial priorities d..d+n-1 (higher runs first); the change points
            // lower the running thread to d-1, d-2, ... (below every initial one).
            std::vector<std::int64_t> prio(n);
            for (std::size_t i = 0; i < n; ++i) prio[i] = static_cast<std::int64_t>(opt.pct_depth + i);
            for (std::size_t i = n; i > 1; --i) std::swap(prio[i - 1], prio[m_rng.below(i)]);
            for (std::size_t i = 0; i < n; ++i) m_threads[i].priority = prio[i];
            for (unsigned i = 1; i < opt.pct_depth; ++i) m_change_points.push_back(1 + m_rng.below(opt.pct_length));
            m_low = static_cast<std::int64_t>(opt.pct_depth) - 1;
        }
    }

    // ---------------------------------------------------------------- called by the baton holder
    /// A plain scheduling point of the running thread.
    void point(const char* what) {
        if (m_aborted) park_forever();
        if (is_yield(what) && m_sticky != static_cast<int>(t_index)) {
            if (m_rng.chance(m_opt.sticky_permille)) {  // keeps the CPU for its whole spin
                m_sticky = static_cast<int>(t_index);
                m_sticky_until = m_steps + m_opt.sticky_length;
            } else if (m_opt.strategy == Strategy::pct) {
                demote(t_index);  // a spinner must not starve the thread it waits for
            }
        }
        switch_to(decide(what));
    }
    /// The running thread blocks on `word` (the caller checked the value) until woken,
    /// spuriously woken or timed out. Returns true on a timeout.
    bool block(const void* word, Deadline deadline) {
        Thread& me = m_threads[t_index];
        me.state = State::blocked;
        me.word = word;
        me.finite = !deadline.is_never();
        me.deadline_ns = deadline.instant().ns();
        me.timed_out = false;
        switch_to(decide("block"));
        return me.timed_out;
    }
    void wake(const void* word, bool all) {
        Set on_word;
        for (unsigned i = 0; i < m_threads.size(); ++i) {
            if (m_threads[i].state == State::blocked && m_threads[i].word == word) on_word.add(i);
        }
        if (on_word.empty()) return;
        if (all) {
            for (unsigned i = 0; i < on_word.size(); ++i) make_runnable(on_word.at(i), false);
        } else {
            make_runnable(on_word.at(m_rng.below(on_word.size())), false);  // which one: seeded
        }
    }
    bool expired(Deadline d) {
        if (d.is_poll()) return true;
        if (d.is_never()) return false;
        Thread& me = m_threads[t_index];
        const std::int64_t ns = d.instant().ns();
        if (ns <= me.expired_up_to) return true;
        bool others_stuck = true;  // no other thread can change anything: time must pass
        for (unsigned i = 0; i < m_threads.size(); ++i) {
            if (i != t_index && m_threads[i].state == State::runnable) others_stuck = false;
        }
        if (others_stuck || m_rng.chance(m_opt.expire_permille)) {
            me.expired_up_to = ns;
            return true;
        }
        return false;
    }
    bool coin(unsigned permille) { return m_rng.chance(permille); }
    void fail(const std::string& what) {
        if (m_verdict == Verdict::passed) {
            m_verdict = Verdict::failed;
            m_detail = "thread " + std::to_string(t_index) + ": " + what;
        }
    }
    /// The thread's body returned.
    void finish() {
        m_threads[t_index].state = State::finished;
        const int next = decide("finish");
        if (next >= 0) {
            m_current = static_cast<unsigned>(next);
            m_threads[m_current].baton.release();
        } else if (!m_aborted) {  // everybody finished
            m_done.release();
        }
    }

    // ---------------------------------------------------------------- main thread
    void start() {
        const int first = decide("start");
        if (first < 0) {
            m_done.release();
            return;
        }
        m_current = static_cast<unsigned>(first);
        m_threads[m_current].baton.release();
    }
    void wait_done() { m_done.acquire(); }
    void enter(unsigned i) {
        t_sched = this;
        t_index = i;
        m_threads[i].baton.acquire();
        if (m_aborted) park_forever();
    }

    const Options& options() const noexcept { return m_opt; }
    Outcome outcome() const {
        return Outcome{m_aborted ? m_abort_verdict : m_verdict, m_aborted ? m_abort_detail : m_detail, m_steps,
                       m_hash};
    }
    bool aborted() const noexcept { return m_aborted; }

private:
    static bool is_yield(const char* what) noexcept {
        return what[0] == 'y' || (what[0] == 'c' && what[1] == 'p');  // "yield", "cpu_relax"
    }
    void demote(unsigned i) { m_threads[i].priority = --m_low; }

    void make_runnable(unsigned i, bool timed_out) {
        Thread& t = m_threads[i];
        t.state = State::runnable;
        t.word = nullptr;
        t.timed_out = timed_out;
        if (timed_out && t.deadline_ns > t.expired_up_to) t.expired_up_to = t.deadline_ns;
    }

    /// The next thread to run, or -1 when none can (all finished, or aborted: deadlock/livelock).
    int decide(const char* what) {
        ++m_steps;
        if (m_steps > m_opt.max_steps) {
            abort(Verdict::livelock, "no end after " + std::to_string(m_opt.max_steps) + " scheduling points");
            return -1;
        }
        Set runnable, blocked, finite;
        for (unsigned i = 0; i < m_threads.size(); ++i) {
            const Thread& t = m_threads[i];
            if (t.state == State::runnable) runnable.add(i);
            if (t.state == State::blocked) {
                blocked.add(i);
                if (t.finite) finite.add(i);
            }
        }
        // Seeded spurious events: a blocked waiter returns early (a timeout when its deadline is finite).
        if (!blocked.empty() && m_rng.chance(m_opt.spurious_wake_permille)) {
            const unsigned b = blocked.at(m_rng.below(blocked.size()));
            make_runnable(b, m_threads[b].finite && m_rng.chance(500));
            runnable.add(b);
        } else if (!finite.empty() && m_rng.chance(m_opt.expire_permille)) {
            const unsigned b = finite.at(m_rng.below(finite.size()));
            make_runnable(b, true);
            runnable.add(b);
        }
        if (runnable.empty()) {
            if (blocked.empty()) return -1;  // all finished
            if (finite.empty()) {
                std::string d = "every thread blocked with no deadline:";
                for (unsigned i = 0; i < blocked.size(); ++i) d += " thread " + std::to_string(blocked.at(i));
                abort(Verdict::deadlock, d);
                return -1;
            }
            const unsigned b = finite.at(m_rng.below(finite.size()));  // time must pass
            make_runnable(b, true);
            runnable.add(b);
        }
        unsigned pick = runnable.at(0);
        if (m_sticky >= 0 && (m_steps >= m_sticky_until ||
                              m_threads[static_cast<unsigned>(m_sticky)].state != State::runnable)) {
            m_sticky = -1;
        }
        if (m_sticky >= 0) {
            pick = static_cast<unsigned>(m_sticky);
        } else if (m_opt.strategy == Strategy::random) {
            pick = runnable.at(m_rng.below(runnable.size()));
        } else {
            for (std::uint64_t cp : m_change_points) {
                if (cp == m_steps && t_sched == this && m_threads[t_index].state == State::runnable) demote(t_index);
            }
            for (unsigned i = 0; i < runnable.size(); ++i) {
                if (m_threads[runnable.at(i)].priority > m_threads[pick].priority) pick = runnable.at(i);
            }
        }
        m_hash = (m_hash ^ (pick + 1)) * 0x100000001B3ULL;
        if (m_opt.trace) std::printf("dsched: step %llu thread %u %s -> thread %u\n",
                                     static_cast<unsigned long long>(m_steps), t_index, what, pick);
        return static_cast<int>(pick);
    }

    /// Hands the baton to `next` (if it is not the caller) and waits for it to come back.
    void switch_to(int next) {
        if (next < 0) park_forever();  // aborted (deadlock or livelock): main reports
        const unsigned me = t_index;
        if (static_cast<unsigned>(next) == me) return;
        m_current = static_cast<unsigned>(next);
        m_threads[m_current].baton.release();
        m_threads[me].baton.acquire();
        if (m_aborted) park_forever();
    }

    void abort(Verdict v, const std::string& detail) {
        if (m_aborted) return;
        m_aborted = true;
        m_abort_verdict = v;
        m_abort_detail = detail;
        m_done.release();
    }
    [[noreturn]] void park_forever() {
        for (;;) m_limbo.acquire();  // never released: the thread stays here until the process exits
    }

    Options m_opt;
    Rng m_rng;
    std::vector<Thread> m_threads;
    unsigned m_current = 0;
    std::uint64_t m_steps = 0;
    std::uint64_t m_hash = 0xCBF29CE484222325ULL;
    std::vector<std::uint64_t> m_change_points;
    std::int64_t m_low = 0;
    int m_sticky = -1;  // the thread that keeps the CPU, or -1
    std::uint64_t m_sticky_until = 0;
    Verdict m_verdict = Verdict::passed;
    std::string m_detail;
    bool m_aborted = false;
    Verdict m_abort_verdict = Verdict::passed;
    std::string m_abort_detail;
    std::binary_semaphore m_done{0};
    std::binary_semaphore m_limbo{0};
};

}  // namespace

Outcome run_once(const Options& opt, Case c) {
    if (c.bodies.size() > kMaxThreads) {
        return Outcome{Verdict::failed, "more than kMaxThreads bodies", 0, 0};
    }
    auto sched = std::make_shared<Scheduler>(opt, c.bodies.size());
    // Only one thread runs at a time: on one CPU a hand-off is a direct switch, not a cross-CPU
    // wake-up (about 2x faster on a loaded 2-core machine). Best effort; the CPU the OS gave
    // the caller, so that parallel test processes spread.
    const auto cpu = staticrt::platform::current_cpu();
    std::vector<std::thread> threads;
    threads.reserve(c.bodies.size());
    for (unsigned i = 0; i < c.bodies.size(); ++i) {
        threads.emplace_back([sched, i, cpu, body = std::move(c.bodies[i])] {
            if (cpu) (void)staticrt::platform::pin_current_thread(staticrt::platform::CpuSet::single(*cpu));
            sched->enter(i);
            body();
            sched->finish();
            t_sched = nullptr;
        });
    }
    sched->start();
    sched->wait_done();
    Outcome out = sched->outcome();
    if (sched->aborted()) {
        for (std::thread& t : threads) t.detach();  // parked for good; they keep their state alive
        return out;
    }
    for (std::thread& t : threads) t.join();
    if (out.verdict == Verdict::passed && c.check) {
        const std::string what = c.check();
        if (!what.empty()) {
            out.verdict = Verdict::failed;
            out.detail = "final check: " + what;
        }
    }
    return out;
}

void point(const char* what) noexcept {
    if (t_sched != nullptr) t_sched->point(what);
}
void fail(const std::string& what) {
    if (t_sched != nullptr) t_sched->fail(what);
    else std::fprintf(stderr, "dsched: check failed outside a schedule: %s\n", what.c_str());
}
bool coin(unsigned permille) noexcept { return t_sched != nullptr && t_sched->coin(permille); }
unsigned weak_cas_fail_permille() noexcept {
    return t_sched != nullptr ? t_sched->options().weak_cas_fail_permille : 0;
}
int self() noexcept { return t_sched != nullptr ? static_cast<int>(t_index) : -1; }

namespace detail {

Result<void> block(const void* word, const std::function<bool()>& still_expected, Deadline deadline) noexcept {
    Scheduler* s = t_sched;
    if (s == nullptr) return staticrt::ok();  // not under a schedule: a spurious return
    s->point("wait");
    if (!still_expected()) return staticrt::ok();  // futex: the value changed, no sleep
    if (deadline.is_poll() || s->expired(deadline)) return staticrt::unexpected(Errc::timeout);
    if (s->coin(s->options().spurious_wake_permille)) return staticrt::ok();  // spurious
    if (s->block(word, deadline)) return staticrt::unexpected(Errc::timeout);
    return staticrt::ok();
}

void wake(const void* word, bool all) noexcept {
    Scheduler* s = t_sched;
    if (s == nullptr) return;
    s->point(all ? "wake_all" : "wake_one");
    s->wake(word, all);
}

bool expired(Deadline deadline) noexcept {
    Scheduler* s = t_sched;
    if (s == nullptr) return deadline.expired();
    s->point("expired");
    return s->expired(deadline);
}

}  // namespace detail

// ------------------------------------------------------------------ explore
namespace {

const char* env(const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr && v[0] != '\0' ? v : nullptr;
}

}  // namespace

std::string describe(const std::string& name, const Options& opt, const Outcome& out) {
    return "dsched: " + name + " " + to_string(opt.strategy) + " seed " + std::to_string(opt.seed) + " " +
           to_string(out.verdict) + " after " + std::to_string(out.steps) + " steps: " + out.detail +
           "\n  replay: STATICRT_DSCHED_SEED=" + std::to_string(opt.seed) +
           " STATICRT_DSCHED_STRATEGY=" + to_string(opt.strategy) + " STATICRT_DSCHED_TRACE=1 <test> --gtest_filter=<case>";
}

Explored explore(const std::string& name, Options base, std::uint64_t first_seed, std::uint64_t count,
                 const Factory& factory) {
    Explored ex;
    if (const char* s = env("STATICRT_DSCHED_STRATEGY")) {
        if (std::string(s) != to_string(base.strategy)) {  // replaying the other strategy
            ex.skipped = true;
            return ex;
        }
    }
    if (const char* s = env("STATICRT_DSCHED_SEED")) {
        first_seed = std::strtoull(s, nullptr, 10);
        count = 1;
    } else if (const char* sc = env("STATICRT_DSCHED_SCALE")) {
        const double scale = std::strtod(sc, nullptr);
        count = scale > 0 ? static_cast<std::uint64_t>(static_cast<double>(count) * scale) : count;
        if (count == 0) count = 1;
    }
    if (const char* s = env("STATICRT_DSCHED_TRACE")) base.trace = s[0] == '1';
    for (std::uint64_t i = 0; i < count; ++i) {
        Options o = base;
        o.seed = first_seed + i;
        Outcome out = run_once(o, factory());
        ++ex.schedules;
        if (out.verdict != Verdict::passed) {
            ex.failed = true;
            ex.failing = o;
            ex.outcome = out;
            std::printf("%s\n", describe(name, o, out).c_str());
            std::fflush(stdout);
            return ex;
        }
    }
    std::printf("dsched: %s %s seeds %llu..%llu passed\n", name.c_str(), to_string(base.strategy),
                static_cast<unsigned long long>(first_seed),
                static_cast<unsigned long long>(first_seed + count - 1));
    std::fflush(stdout);
    return ex;
}

}  // namespace dsched
