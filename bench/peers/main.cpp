// SPDX-License-Identifier: MIT
// staticrt-bench-peers: staticrt side by side with peer libraries, repetition by repetition.
//
// Output (one line each, parsed by bench/report.py, plotted by bench/plot.py):
//   # states fast_below <ns> slow_from <ns>      (once, after the header: the state bands)
//   rep N
//   probe raw_atomic_rtt <ns> ns                (before the repetition's workloads)
//   row_rtt <ns|STALL> ns                       (before each measurement: a short probe; --row-probe)
//   <workload> <library> <value> <unit>        or  <workload> <library> STALL|ERROR <unit>
//   state N <fast|mid|slow|mixed|unknown> rtt_before <ns|STALL> rtt_after <ns|STALL>
// then, after all repetitions, per workload and per (staticrt*, peer) pair:
//   ratio <workload> <staticrt-lib> <peer> <median of same-repetition ratios> <n reps> <better>
// The machine state of a repetition is the band of the raw core-to-core round trip (the same
// probe as pingpong_rtt raw_atomic), measured before and after the repetition: both in one band
// gives that band, two bands give "mixed", a stalled probe "unknown". bench/report.py gives each
// goal per state. The bands (--state-bands, default 90,170 ns) and why: docs/performance.md.
// The state can change inside a repetition, so every measurement also gets a short probe of its own
// (row_rtt, --row-probe rounds, run just before the settle sleep and the measurement): report.py
// gives a same-repetition ratio the state of its two rows, and "mixed" when they differ.
// Every measurement runs in a forked child process with a watchdog: a stalled peer's threads
// cannot be stopped, so the child is killed and the run reported as STALL.
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "../flags.hpp"
#include "registry.hpp"

namespace staticrt::bench {

namespace {
std::vector<Workload>& registry() {
    static std::vector<Workload> r;
    return r;
}
std::vector<Workload>& scaling_registry() {
    static std::vector<Workload> r;
    return r;
}
}  // namespace

int add_workloads(std::initializer_list<Workload> ws) {
    for (const Workload& w : ws) registry().push_back(w);
    return static_cast<int>(registry().size());
}

int add_scaling_workloads(std::initializer_list<Workload> ws) {
    for (const Workload& w : ws) scaling_registry().push_back(w);
    return static_cast<int>(scaling_registry().size());
}

void pin_to_cpu(int cpu) noexcept {
    const int n = static_cast<int>(std::thread::hardware_concurrency());
    if (n <= 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu % n, &set);
    (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

int cpu_for_thread(const Options& o, int i) noexcept {
    if (o.spread) return o.cpu_a + i;
    if (i % 2 == 0) return o.cpu_a;
    return o.cpu_b;
}

std::int64_t now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

double median(double* v, int n) noexcept {
    if (n <= 0) return 0;
    std::sort(v, v + n);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double raw_atomic_rtt_ns(const Options& o, std::uint64_t rounds) {
    constexpr std::uint64_t kBatch = 100;
    const std::uint64_t batches = std::max<std::uint64_t>(rounds / kBatch, 10);
    // The word fills its line pair: no other local of this frame shares it.
    struct alignas(128) Line {
        std::atomic<std::uint64_t> word{0};
    } line;
    std::atomic<std::uint64_t>& word = line.word;
    std::thread echo([&] {
        pin_to_cpu(o.cpu_b);
        const std::uint64_t n = batches * kBatch;
        for (std::uint64_t i = 0; i < n; ++i) {
            while (word.load(std::memory_order_acquire) != 2 * i + 1) {}
            word.store(2 * i + 2, std::memory_order_release);
        }
    });
    pin_to_cpu(o.cpu_a);
    std::vector<double> per(batches);
    std::uint64_t k = 0;
    for (std::uint64_t b = 0; b < batches; ++b) {
        const std::int64_t t0 = now_ns();
        for (std::uint64_t i = 0; i < kBatch; ++i, ++k) {
            word.store(2 * k + 1, std::memory_order_release);
            while (word.load(std::memory_order_acquire) != 2 * k + 2) {}
        }
        per[b] = static_cast<double>(now_ns() - t0) / kBatch;
    }
    echo.join();
    return median(per.data(), static_cast<int>(per.size()));
}

namespace {

enum class Outcome { value, stall, error };

struct Sample {
    Outcome outcome = Outcome::error;
    double value = 0;
};

/// Runs fn(o) in a forked child; kills it after `limit_s`.
Sample run_in_child(double (*fn)(const Options&), const Options& o, double limit_s) {
    std::fflush(stdout);
    std::fflush(stderr);
    int fds[2];
    if (pipe(fds) != 0) return {};
    const pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return {};
    }
    if (pid == 0) {
        close(fds[0]);
        const double v = fn(o);
        const ssize_t w = write(fds[1], &v, sizeof v);
        _exit(w == static_cast<ssize_t>(sizeof v) ? 0 : 1);
    }
    close(fds[1]);
    Sample s;
    pollfd p{fds[0], POLLIN, 0};
    const std::int64_t deadline = now_ns() + static_cast<std::int64_t>(limit_s * 1e9);
    for (;;) {
        const std::int64_t left_ms = (deadline - now_ns()) / 1'000'000;
        if (left_ms <= 0) {
            s.outcome = Outcome::stall;
            break;
        }
        const int r = poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left_ms, 1000)));
        if (r < 0 && errno == EINTR) continue;
        if (r > 0) {
            double v = 0;
            if (read(fds[0], &v, sizeof v) == static_cast<ssize_t>(sizeof v) && v >= 0) {
                s.outcome = Outcome::value;
                s.value = v;
            } else {
                s.outcome = Outcome::error;
            }
            break;
        }
    }
    if (s.outcome == Outcome::stall) kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    close(fds[0]);
    return s;
}

/// true when pred(term) holds for any comma-separated term of `list`.
template <class Pred>
bool any_term(const char* list, Pred pred) {
    const std::string all = list;
    std::size_t b = 0;
    for (;;) {
        const std::size_t e = all.find(',', b);
        if (pred(all.substr(b, e == std::string::npos ? std::string::npos : e - b))) return true;
        if (e == std::string::npos) return false;
        b = e + 1;
    }
}

double probe_fn(const Options& o) { return raw_atomic_rtt_ns(o, o.scaled(o.rtt_rounds)); }

/// Round trips of the probe before each measurement (--row-probe; 0: none). Not scaled: it only
/// names the state (4000 take ~2 ms at 470 ns), and a forked child reads it.
std::uint64_t g_row_probe_rounds = 4000;
double row_probe_fn(const Options& o) { return raw_atomic_rtt_ns(o, g_row_probe_rounds); }

/// Round-trip bands that name a repetition's machine state (--state-bands FAST,SLOW).
struct StateBands {
    double fast_below = 90;   ///< rtt < this: "fast"
    double slow_from = 170;   ///< rtt >= this: "slow"; in between: "mid"
};

const char* band_of(const Sample& probe, const StateBands& b) {
    if (probe.outcome != Outcome::value) return "unknown";
    if (probe.value < b.fast_below) return "fast";
    return probe.value < b.slow_from ? "mid" : "slow";
}

/// The state of a repetition from its probes before and after.
const char* state_of(const Sample& before, const Sample& after, const StateBands& b) {
    const char* x = band_of(before, b);
    const char* y = band_of(after, b);
    if (std::strcmp(x, "unknown") == 0 || std::strcmp(y, "unknown") == 0) return "unknown";
    return std::strcmp(x, y) == 0 ? x : "mixed";
}

void print_probe_value(const Sample& s) {
    if (s.outcome == Outcome::value) std::printf("%.1f", s.value);
    else std::printf("STALL");
}

void usage(std::FILE* to) {
    std::fprintf(to,
        "usage: staticrt-bench-peers [--reps N] [--scale X] [--spsc-items N] [--mpmc-items N] [--rtt-rounds N]\n"
        "                            [--stall-s S] [--filter SUBSTR[,SUBSTR...]] [--libs LIB[,LIB...]]\n"
        "                            [--cpus A,B] [--state-bands FAST,SLOW] [--scaling] [--list] [--help]\n"
        "                            [--rt-trials N] [--rt-interval-us N] [--rt-priority N] [--settle-ms N]\n"
        "                            [--row-probe N]\n"
        "  --rt-trials N, --rt-interval-us N, --rt-priority N   the rt_* workloads (rt.cpp): wake-ups per\n"
        "                  measurement (50000), their gap in us (200), SCHED_FIFO level (80); each takes\n"
        "                  trials x gap: use --stall-s 30 with 50000\n"
        "  --reps N        repetitions, every library back to back in each (1..1000)\n"
        "  --scale X       multiply every item / round count by X (0 < X <= 1000)\n"
        "  --spsc-items N, --mpmc-items N, --rtt-rounds N   base counts before --scale (>= 1)\n"
        "  --stall-s S     watchdog: a measurement not done in S seconds is killed, reported STALL\n"
        "  --settle-ms N   sleep N ms before each measurement (0): the machine settles after the one before\n"
        "  --row-probe N   raw round trips probed before each measurement, printed as its row_rtt line: the\n"
        "                  state of that row (default 4000; 0: no row probes)\n"
        "  --filter: run the \"workload library\" lines that contain any of the substrings\n"
        "  --libs:   ... and whose library is one of these names\n"
        "  --cpus A,B      the two CPUs of the 2-core workloads (scaling: thread i on CPU A+i)\n"
        "  --state-bands FAST,SLOW  machine-state bands of the raw round-trip probe, run before and\n"
        "                  after every repetition: fast < FAST ns <= mid < SLOW ns <= slow; probes in\n"
        "                  two bands: mixed (default 90,170; 0 < FAST < SLOW)\n"
        "  --scaling: run the scaling workloads (1..16 threads on distinct cores) instead of the\n"
        "             2-core comparison; for machines with more than 2 cores\n"
        "  --list          print the selected measurements and exit\n");
}

}  // namespace
}  // namespace staticrt::bench

int main(int argc, char** argv) {
    using namespace staticrt::bench;
    Options o;
    bool list = false;
    StateBands bands;
    const char* libs = nullptr;
    long settle_ms = 0;
    namespace f = staticrt::bench_flags;
    constexpr const char* prog = "staticrt-bench-peers";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> const char* {
            if (i + 1 >= argc) f::bad_value(prog, a.c_str(), "", "needs a value");
            return argv[++i];
        };
        if (a == "--reps") o.reps = static_cast<int>(f::whole(prog, "--reps", next(), 1, 1000));
        else if (a == "--scale") o.items_scale = f::number(prog, "--scale", next(), 1e-9, 1000);
        else if (a == "--spsc-items") o.spsc_items = f::whole(prog, "--spsc-items", next(), 1);
        else if (a == "--mpmc-items") o.mpmc_items = f::whole(prog, "--mpmc-items", next(), 1);
        else if (a == "--rtt-rounds") o.rtt_rounds = f::whole(prog, "--rtt-rounds", next(), 1);
        else if (a == "--stall-s") o.stall_s = f::number(prog, "--stall-s", next(), 0.001, 86400);
        else if (a == "--rt-trials") o.rt_trials = f::whole(prog, "--rt-trials", next(), 1, 100'000'000);
        else if (a == "--rt-interval-us") o.rt_interval_us = static_cast<int>(f::whole(prog, "--rt-interval-us", next(), 10, 1'000'000));
        else if (a == "--rt-priority") o.rt_priority = static_cast<int>(f::whole(prog, "--rt-priority", next(), 1, 99));
        else if (a == "--settle-ms") settle_ms = static_cast<long>(f::whole(prog, "--settle-ms", next(), 0, 60'000));
        else if (a == "--row-probe") g_row_probe_rounds = f::whole(prog, "--row-probe", next(), 0, 100'000'000);
        else if (a == "--filter") o.filter = next();
        else if (a == "--libs") libs = next();
        else if (a == "--cpus") {
            const std::string s = next();
            const auto comma = s.find(',');
            const std::string first = s.substr(0, comma);
            o.cpu_a = static_cast<int>(f::whole(prog, "--cpus", first.c_str(), 0, 4095));
            if (comma == std::string::npos) {
                o.cpu_b = o.cpu_a + 1;
            } else {
                const std::string second = s.substr(comma + 1);
                o.cpu_b = static_cast<int>(f::whole(prog, "--cpus", second.c_str(), 0, 4095));
            }
        } else if (a == "--state-bands") {
            const std::string s = next();
            const auto comma = s.find(',');
            if (comma == std::string::npos) f::bad_value(prog, "--state-bands", s.c_str(), "needs FAST,SLOW");
            const std::string lo = s.substr(0, comma);
            const std::string hi = s.substr(comma + 1);
            bands.fast_below = f::number(prog, "--state-bands", lo.c_str(), 1e-3, 1e9);
            bands.slow_from = f::number(prog, "--state-bands", hi.c_str(), 1e-3, 1e9);
            if (!(bands.fast_below < bands.slow_from)) f::bad_value(prog, "--state-bands", s.c_str(), "needs FAST < SLOW");
        } else if (a == "--scaling") o.spread = true;
        else if (a == "--list") list = true;
        else if (a == "--help" || a == "-h") {
            usage(stdout);
            return 0;
        } else {
            std::fprintf(stderr, "%s: unknown argument '%s'\n", prog, a.c_str());
            usage(stderr);
            return 2;
        }
    }
    std::vector<const Workload*> ws;
    for (const Workload& w : o.spread ? scaling_registry() : registry()) {
        const std::string key = std::string(w.name) + " " + w.library;
        if ((o.filter == nullptr || any_term(o.filter, [&](const std::string& t) { return key.find(t) != std::string::npos; })) &&
            (libs == nullptr || any_term(libs, [&](const std::string& t) { return t == w.library; })))
            ws.push_back(&w);
    }
    if (list) {
        for (const Workload* w : ws) std::printf("%s %s %s\n", w->name, w->library, w->unit);
        return 0;
    }
    std::printf("# staticrt-bench-peers: %zu measurements x %d reps, cpus %d,%d%s of %u, scale %g, stall %g s\n",
                ws.size(), o.reps, o.cpu_a, o.cpu_b, o.spread ? " (scaling: thread i on cpu A+i)" : "",
                std::thread::hardware_concurrency(), o.items_scale, o.stall_s);
    std::printf("# states fast_below %g slow_from %g\n", bands.fast_below, bands.slow_from);
    // results[rep][workload index]
    std::vector<std::vector<Sample>> results(static_cast<std::size_t>(o.reps), std::vector<Sample>(ws.size()));
    for (int rep = 0; rep < o.reps; ++rep) {
        std::printf("rep %d\n", rep + 1);
        const Sample probe = run_in_child(&probe_fn, o, o.stall_s);
        if (probe.outcome == Outcome::value) std::printf("probe raw_atomic_rtt %.1f ns\n", probe.value);
        else std::printf("probe raw_atomic_rtt STALL ns\n");
        for (std::size_t i = 0; i < ws.size(); ++i) {
            const Workload& w = *ws[i];
            if (g_row_probe_rounds > 0) {
                // Before the settle sleep, so that the measurement does not start in the probe's wake.
                const Sample rp = run_in_child(&row_probe_fn, o, o.stall_s);
                std::printf("row_rtt ");
                print_probe_value(rp);
                std::printf(" ns\n");
            }
            if (settle_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(settle_ms));
            const Sample s = run_in_child(w.run, o, w.blocking ? 2 * o.stall_s : o.stall_s);
            results[static_cast<std::size_t>(rep)][i] = s;
            if (s.outcome == Outcome::value) std::printf("%s %s %.6g %s\n", w.name, w.library, s.value, w.unit);
            else std::printf("%s %s %s %s\n", w.name, w.library, s.outcome == Outcome::stall ? "STALL" : "ERROR", w.unit);
            std::fflush(stdout);
        }
        const Sample after = run_in_child(&probe_fn, o, o.stall_s);
        std::printf("state %d %s rtt_before ", rep + 1, state_of(probe, after, bands));
        print_probe_value(probe);
        std::printf(" rtt_after ");
        print_probe_value(after);
        std::printf("\n");
        std::fflush(stdout);
    }
    // Median same-repetition ratios staticrt* / peer, per workload.
    std::printf("# ratio <workload> <staticrt-lib> <peer> <median staticrt/peer> <reps> <better>\n");
    for (std::size_t i = 0; i < ws.size(); ++i) {
        if (std::strncmp(ws[i]->library, "staticrt", 8) != 0) continue;
        for (std::size_t j = 0; j < ws.size(); ++j) {
            if (std::strcmp(ws[j]->name, ws[i]->name) != 0 || std::strncmp(ws[j]->library, "staticrt", 8) == 0) continue;
            std::vector<double> ratios;
            int stalls = 0;
            for (int rep = 0; rep < o.reps; ++rep) {
                const Sample& a = results[static_cast<std::size_t>(rep)][i];
                const Sample& b = results[static_cast<std::size_t>(rep)][j];
                if (b.outcome == Outcome::stall) ++stalls;
                if (a.outcome == Outcome::value && b.outcome == Outcome::value && b.value > 0)
                    ratios.push_back(a.value / b.value);
            }
            const char* better = ws[i]->better == Better::higher ? ">1_is_better" : "<1_is_better";
            if (ratios.empty())
                std::printf("ratio %s %s %s %s 0 %s\n", ws[i]->name, ws[i]->library, ws[j]->library,
                            stalls ? "STALL" : "n/a", better);
            else
                std::printf("ratio %s %s %s %.3f %zu %s\n", ws[i]->name, ws[i]->library, ws[j]->library,
                            median(ratios.data(), static_cast<int>(ratios.size())), ratios.size(), better);
        }
    }
    return 0;
}
