// SPDX-License-Identifier: MIT
// tests/dsched/dsched.hpp — a deterministic scheduler for replayable interleaving tests.
//
// The threads under test are real std::threads, but exactly one of them runs at a time: each
// holds a baton (its own semaphore) and hands it on at every scheduling point. A scheduling
// point is every operation of dsched::DAtomic<T> and every call of DSchedPolicy (fence,
// cpu_relax, yield, wait, wake, expired). Which thread runs next is decided by a strategy from a
// seed (uniform random, or PCT: random priorities with d-1 change points), so one seed is one
// interleaving and replays it exactly. The runtime's structures templated over a wait policy P
// (runtime/include/staticrt/detail/wait_policy.hpp) are instantiated with DSchedPolicy here.
//
// Not modelled: weak memory. Every DAtomic operation is sequentially consistent whatever order
// it names; acquire/release is covered by TSan and the written arguments in
// docs/memory-ordering.md. Test code only (heap, std::function, std::thread); host, Linux.
//
//   dsched::Case c; auto x = std::make_shared<dsched::DAtomic<int>>(0);
//   c.bodies = {[x] { x->fetch_add(1); }, [x] { x->fetch_add(1); }};
//   c.check = [x] { return x->load() == 2 ? std::string() : std::string("lost update"); };
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "staticrt/platform/cpu.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"

namespace dsched {

using staticrt::Deadline;
using staticrt::Errc;
using staticrt::Result;
using staticrt::platform::WaitScope;

// ------------------------------------------------------------------ one schedule
enum class Strategy : std::uint8_t { random, pct };
[[nodiscard]] const char* to_string(Strategy s) noexcept;

struct Options {
    Strategy strategy = Strategy::random;
    std::uint64_t seed = 1;
    unsigned pct_depth = 3;                 ///< PCT d: d-1 priority change points
    std::uint64_t pct_length = 400;         ///< PCT k: the change points fall in steps [1, k]
    std::uint64_t max_steps = 200'000;      ///< more scheduling points than this: livelock
    unsigned spurious_wake_permille = 20;   ///< per decision: a blocked waiter wakes spuriously
    unsigned weak_cas_fail_permille = 50;   ///< per compare_exchange_weak: fails spuriously
    unsigned expire_permille = 20;          ///< per expired() / decision: a finite deadline passes
    /// Per cpu_relax()/yield() of a thread that is not already sticky: it keeps the CPU for up
    /// to sticky_length points (until it blocks or ends), as if the OS preempted every other
    /// thread. Without it a bounded spin (EventCount::wait_for) would almost never run out
    /// while another thread is runnable, and the parked states would never be explored.
    unsigned sticky_permille = 100;
    std::uint64_t sticky_length = 5000;
    bool trace = false;                     ///< print every decision (STATICRT_DSCHED_TRACE=1)
};

enum class Verdict : std::uint8_t { passed, failed, deadlock, livelock };
[[nodiscard]] const char* to_string(Verdict v) noexcept;

struct Outcome {
    Verdict verdict = Verdict::passed;
    std::string detail;           ///< first failed check, or who was blocked where
    std::uint64_t steps = 0;      ///< scheduling points taken
    std::uint64_t trace_hash = 0; ///< hash of the sequence of decisions: equal for a replay
};

using Body = std::function<void()>;
/// One test scenario: fresh state per schedule, captured by the bodies (shared_ptr: after a
/// deadlock or livelock the threads stay parked for the life of the process and keep it alive).
struct Case {
    std::vector<Body> bodies;               ///< one thread each, thread i has index i
    std::function<std::string()> check;     ///< after every body returned: "" or what is wrong
};
using Factory = std::function<Case()>;

/// At most this many threads per Case.
inline constexpr unsigned kMaxThreads = 16;

/// Runs the bodies of `c` as threads under one schedule. On a deadlock or livelock the threads
/// are detached and parked for good (their state leaks by design).
[[nodiscard]] Outcome run_once(const Options& opt, Case c);

// ------------------------------------------------------------------ inside a schedule
/// A scheduling point (no-op on a thread that is not under a schedule).
void point(const char* what) noexcept;
/// Records a violated property (the first one is reported); the schedule goes on.
void fail(const std::string& what);
/// Checks `cond` in a body: fail(what) when false.
inline void check(bool cond, const char* what) {
    if (!cond) fail(what);
}
/// A seeded yes/no with probability permille/1000 (false outside a schedule).
[[nodiscard]] bool coin(unsigned permille) noexcept;
/// The configured spurious compare_exchange_weak failure rate of the running schedule.
[[nodiscard]] unsigned weak_cas_fail_permille() noexcept;
/// The calling thread's index in its Case, or -1 outside a schedule.
[[nodiscard]] int self() noexcept;

// ------------------------------------------------------------------ the atomic type
/// std::atomic's interface; every operation is a scheduling point and sequentially consistent
/// (the memory order arguments are accepted and ignored). compare_exchange_weak fails
/// spuriously from the seed.
template <class T>
class DAtomic {
public:
    static constexpr bool is_always_lock_free = std::atomic<T>::is_always_lock_free;

    constexpr DAtomic() noexcept : m_v(T{}) {}
    constexpr DAtomic(T v) noexcept : m_v(v) {}  // NOLINT: implicit like std::atomic
    DAtomic(const DAtomic&) = delete;
    DAtomic& operator=(const DAtomic&) = delete;

    [[nodiscard]] T load(std::memory_order = std::memory_order_seq_cst) const noexcept {
        point("load");
        return m_v.load(std::memory_order_seq_cst);
    }
    void store(T v, std::memory_order = std::memory_order_seq_cst) noexcept {
        point("store");
        m_v.store(v, std::memory_order_seq_cst);
    }
    T exchange(T v, std::memory_order = std::memory_order_seq_cst) noexcept {
        point("exchange");
        return m_v.exchange(v, std::memory_order_seq_cst);
    }
    bool compare_exchange_strong(T& expected, T desired, std::memory_order = std::memory_order_seq_cst,
                                 std::memory_order = std::memory_order_seq_cst) noexcept {
        point("cas");
        return m_v.compare_exchange_strong(expected, desired, std::memory_order_seq_cst);
    }
    bool compare_exchange_weak(T& expected, T desired, std::memory_order = std::memory_order_seq_cst,
                               std::memory_order = std::memory_order_seq_cst) noexcept {
        point("cas_weak");
        if (coin(weak_cas_fail_permille())) {  // spurious failure: expected gets the current value
            expected = m_v.load(std::memory_order_seq_cst);
            return false;
        }
        return m_v.compare_exchange_strong(expected, desired, std::memory_order_seq_cst);
    }
    T fetch_add(T v, std::memory_order = std::memory_order_seq_cst) noexcept
        requires std::is_integral_v<T>
    {
        point("fetch_add");
        return m_v.fetch_add(v, std::memory_order_seq_cst);
    }
    T fetch_sub(T v, std::memory_order = std::memory_order_seq_cst) noexcept
        requires std::is_integral_v<T>
    {
        point("fetch_sub");
        return m_v.fetch_sub(v, std::memory_order_seq_cst);
    }
    T fetch_or(T v, std::memory_order = std::memory_order_seq_cst) noexcept
        requires std::is_integral_v<T>
    {
        point("fetch_or");
        return m_v.fetch_or(v, std::memory_order_seq_cst);
    }
    T fetch_and(T v, std::memory_order = std::memory_order_seq_cst) noexcept
        requires std::is_integral_v<T>
    {
        point("fetch_and");
        return m_v.fetch_and(v, std::memory_order_seq_cst);
    }
    T fetch_xor(T v, std::memory_order = std::memory_order_seq_cst) noexcept
        requires std::is_integral_v<T>
    {
        point("fetch_xor");
        return m_v.fetch_xor(v, std::memory_order_seq_cst);
    }
    operator T() const noexcept { return load(); }  // NOLINT: like std::atomic
    T operator=(T v) noexcept {
        store(v);
        return v;
    }
    [[nodiscard]] bool is_lock_free() const noexcept { return m_v.is_lock_free(); }

    /// The value without a scheduling point (for the scheduler's own futex check and for a
    /// test's final check on the main thread).
    [[nodiscard]] T peek() const noexcept { return m_v.load(std::memory_order_seq_cst); }

private:
    std::atomic<T> m_v;
};

// ------------------------------------------------------------------ the wait policy
namespace detail {
[[nodiscard]] Result<void> block(const void* word, const std::function<bool()>& still_expected,
                                 Deadline deadline) noexcept;
void wake(const void* word, bool all) noexcept;
[[nodiscard]] bool expired(Deadline deadline) noexcept;
}  // namespace detail

/// The test wait policy: the members of staticrt::detail::OsWaitPolicy, with DAtomic.
struct DSchedPolicy {
    template <class T>
    using atomic = DAtomic<T>;

    /// Blocks in the scheduler while word == expected; may return spuriously (seeded).
    /// Errc::timeout when the (virtual) deadline passes.
    [[nodiscard]] static Result<void> wait(const atomic<std::uint32_t>& word, std::uint32_t expected,
                                           Deadline deadline, WaitScope) noexcept {
        return detail::block(&word, [&] { return word.peek() == expected; }, deadline);
    }
    /// EventCount's sleep: wait() (the barrier pair is always complete here).
    [[nodiscard]] static Result<void> wait_registered(const atomic<std::uint32_t>& word, std::uint32_t expected,
                                                      Deadline deadline, WaitScope scope) noexcept {
        return wait(word, expected, deadline, scope);
    }
    static void wake_one(const atomic<std::uint32_t>& word, WaitScope) noexcept { detail::wake(&word, false); }
    static void wake_all(const atomic<std::uint32_t>& word, WaitScope) noexcept { detail::wake(&word, true); }
    static void notifier_fence(WaitScope) noexcept { point("notifier_fence"); }
    static void waiter_fence(WaitScope) noexcept { point("waiter_fence"); }
    static void cpu_relax() noexcept { point("cpu_relax"); }
    static void prefetch_for_write(const void*) noexcept {}  // a hint: no memory effect to schedule
    static void yield() noexcept { point("yield"); }
    /// Virtual time: poll() is expired, never() is not, a finite deadline when the scheduler
    /// says so (seeded; always when every other thread is blocked or done). Once expired for a
    /// thread, that deadline and every earlier one stay expired for it.
    [[nodiscard]] static bool expired(Deadline deadline) noexcept { return detail::expired(deadline); }
    /// The calling thread's index in its Case stands for its CPU (a scenario pins its "workers"
    /// to the indices of the threads they should be near).
    [[nodiscard]] static std::size_t current_cpu() noexcept {
        const int i = self();
        return i < 0 ? staticrt::platform::kMaxCpus : static_cast<std::size_t>(i);
    }
};

// ------------------------------------------------------------------ exploring many schedules
struct Explored {
    bool failed = false;
    bool skipped = false;        ///< STATICRT_DSCHED_STRATEGY names the other strategy: nothing ran
    Options failing;             ///< the schedule that failed (replay it with run_once)
    Outcome outcome;             ///< its outcome
    std::uint64_t schedules = 0; ///< schedules run
};

/// Runs `count` schedules of `strategy` with seeds first_seed.. (base options otherwise),
/// stopping at the first failure, and prints
///   dsched: <name> <strategy> seeds A..B passed
/// or the failure with its seed and the replay command. STATICRT_DSCHED_SEED=<seed> (with
/// STATICRT_DSCHED_STRATEGY=random|pct) runs that one schedule only; STATICRT_DSCHED_TRACE=1
/// prints its decisions; STATICRT_DSCHED_SCALE multiplies count.
[[nodiscard]] Explored explore(const std::string& name, Options base, std::uint64_t first_seed,
                               std::uint64_t count, const Factory& factory);

/// The replay line for a failing schedule (what explore() prints).
[[nodiscard]] std::string describe(const std::string& name, const Options& opt, const Outcome& out);

}  // namespace dsched
