// SPDX-License-Identifier: MIT
// firmware_app_std — examples/firmware_app.cpp written the usual way, on std::thread +
// std::mutex + std::condition_variable + std::function + std::vector, for the comparison in
// docs/footprint.md (binary size, static RAM, heap allocations at run time). Not part of the
// library; built with the same flags as firmware_app (-fno-exceptions -fno-rtti -static).
// It counts its own heap allocations by replacing operator new.
//
//   $ ./firmware_app_std [cycles]
//   firmware_app_std: 200 cycles, 200 samples, 200 control outputs, checksum 300, heap allocations 44
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

namespace {
std::atomic<unsigned long> g_allocations{0};
}  // namespace

// Counting replacements (the program's own; the staticrt build never needs these).
void* operator new(std::size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    std::abort();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

struct Sample {
    std::uint32_t cycle;
    std::int32_t value;
};
struct Output {
    std::uint32_t cycle;
    std::int64_t command;
};

class WorkQueue {  // the usual mutex + condition_variable + std::function pool
public:
    explicit WorkQueue(unsigned workers) {
        for (unsigned i = 0; i < workers; ++i) m_threads.emplace_back([this] { run(); });
    }
    void submit(std::function<void()> f) {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_jobs.push_back(std::move(f));
            ++m_pending;
        }
        m_cv.notify_one();
    }
    void wait_idle() {
        std::unique_lock<std::mutex> lock(m_mutex);
        m_idle.wait(lock, [this] { return m_pending == 0; });
    }
    void stop() {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_stop = true;
        }
        m_cv.notify_all();
        for (auto& t : m_threads) t.join();
    }

private:
    void run() {
        for (;;) {
            std::function<void()> job;
            {
                std::unique_lock<std::mutex> lock(m_mutex);
                m_cv.wait(lock, [this] { return m_stop || !m_jobs.empty(); });
                if (m_jobs.empty()) return;
                job = std::move(m_jobs.front());
                m_jobs.pop_front();
            }
            job();
            std::lock_guard<std::mutex> lock(m_mutex);
            if (--m_pending == 0) m_idle.notify_all();
        }
    }
    std::mutex m_mutex;
    std::condition_variable m_cv, m_idle;
    std::deque<std::function<void()>> m_jobs;
    std::vector<std::thread> m_threads;
    unsigned m_pending = 0;
    bool m_stop = false;
};

template <class T>
class Channel {  // a mutex-protected std::vector used as a queue
public:
    void push(T v) {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_items.push_back(v);
        }
        m_cv.notify_one();
    }
    bool pop(T& out) {  // false: closed and empty
        std::unique_lock<std::mutex> lock(m_mutex);
        m_cv.wait(lock, [this] { return m_closed || m_head < m_items.size(); });
        if (m_head == m_items.size()) return false;
        out = m_items[m_head++];
        return true;
    }
    bool try_pop(T& out) {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (m_head == m_items.size()) return false;
        out = m_items[m_head++];
        return true;
    }
    void close() {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_closed = true;
        }
        m_cv.notify_all();
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::vector<T> m_items;
    std::size_t m_head = 0;
    bool m_closed = false;
};

std::int32_t read_sensor(std::uint32_t cycle) { return static_cast<std::int32_t>(cycle % 100); }
std::int64_t control_law(const Sample& s) {
    return static_cast<std::int64_t>(50 - s.value) * 3 + static_cast<std::int64_t>(s.cycle) * 1000;
}

}  // namespace

int main(int argc, char** argv) {
    const std::uint32_t cycles = argc > 1 ? static_cast<std::uint32_t>(std::strtoul(argv[1], nullptr, 10)) : 200;
    const unsigned long before = g_allocations.load();
    Channel<Sample> samples;
    Channel<Output> outputs;
    std::vector<std::string> log;  // the log: lines kept until they are printed
    std::mutex log_mutex;
    WorkQueue pool(2);
    std::thread producer([&] {
        auto next = std::chrono::steady_clock::now() + std::chrono::milliseconds(1);
        for (std::uint32_t cycle = 0; cycle < cycles; ++cycle) {
            std::this_thread::sleep_until(next);
            next += std::chrono::milliseconds(1);
            samples.push(Sample{cycle, read_sensor(cycle)});
        }
        samples.close();
    });
    std::uint32_t n_samples = 0, n_outputs = 0;
    std::int64_t checksum = 0;
    auto collect = [&] {
        Output o{};
        while (outputs.try_pop(o)) {
            ++n_outputs;
            checksum += o.command - static_cast<std::int64_t>(o.cycle) * 1000;
        }
    };
    Sample s{};
    while (samples.pop(s)) {
        ++n_samples;
        pool.submit([s, &outputs] { outputs.push(Output{s.cycle, control_law(s)}); });
        collect();
        if (s.cycle % 50 == 49) {
            std::lock_guard<std::mutex> lock(log_mutex);
            log.push_back("cycle " + std::to_string(s.cycle) + ": sensor " + std::to_string(s.value));
            std::printf("%s\n", log.back().c_str());
        }
    }
    producer.join();
    pool.wait_idle();
    collect();
    pool.stop();
    const unsigned long allocations = g_allocations.load() - before;
    std::printf("firmware_app_std: %u cycles, %u samples, %u control outputs, checksum %lld, heap allocations %lu\n",
                static_cast<unsigned>(cycles), static_cast<unsigned>(n_samples), static_cast<unsigned>(n_outputs),
                static_cast<long long>(checksum), allocations);
    return n_samples == cycles && n_outputs == cycles ? 0 : 3;
}
