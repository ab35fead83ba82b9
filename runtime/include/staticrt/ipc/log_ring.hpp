// staticrt/ipc/log_ring.hpp — a lock-free multi-producer log ring for shared memory: any thread
// of any process writes whole lines without blocking; one drain writes them out whole.
//
// Producers (any number, any process mapping the ring): write() copies one line into a slot
// (a bounded MPMC sequence ring: claim by CAS on the tail, publish by the slot's sequence), with
// the process id, OS thread id and a monotonic timestamp. When the ring is full the line is
// dropped and counted — never silently: the drain emits "staticrt.logring: N lines dropped" in
// order. Lines longer than LineBytes are cut and counted in truncated(). The drain (one thread
// of one process at a time) formats "[pid:tid +seconds.micros] text\n" and hands each line to a
// sink in one call, so lines never interleave. Position-independent: place it in a
// SharedSegment. Limitation: a producer killed between claiming and publishing a slot stalls
// the drain at that slot (see docs/processes.md).
//
// Memory ordering: a line's text and metadata are written before [log.publish] (release) and
// read after [log.consume] (acquire); the drain returns the slot with [log.free] (release),
// which [log.claim] (acquire) in a producer pairs with.
//
//   staticrt::ipc::SharedSegment<staticrt::ipc::LogRing<>> ring;   // create / open by name
//   ring->write("worker 3 started");
//   ring->drain_to(staticrt::platform::StandardStream::err);     // in the logging process
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "staticrt/ipc/detail/shared_wait.hpp"
#include "staticrt/platform/process.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/thread.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"

namespace staticrt::ipc {

/// Where the drain sends each formatted line (including its '\n'); one call per line.
using LogSink = void (*)(void* context, const char* line, std::size_t bytes) noexcept;

namespace detail {
/// Formats "[pid:tid +s.micros] text\n" into out (capacity cap); returns the length.
std::size_t format_log_line(char* out, std::size_t cap, std::int64_t pid, std::uint64_t tid, std::int64_t ns,
                            const char* text, std::size_t len) noexcept;
void sink_to_standard(void* stream, const char* line, std::size_t bytes) noexcept;
}  // namespace detail

template <std::size_t Slots = 1024, std::size_t LineBytes = 200>
class LogRing {
    static_assert(Slots >= 2 && (Slots & (Slots - 1)) == 0, "LogRing<Slots>: Slots must be a power of two >= 2, e.g. 1024");
    static_assert(Slots <= (1u << 30), "LogRing<Slots>: at most 2^30 slots (32-bit sequence numbers)");
    static_assert(LineBytes >= 16, "LogRing<..., LineBytes>: LineBytes must be at least 16");

public:
    static constexpr std::size_t kSlots = Slots;
    static constexpr std::size_t kLineBytes = LineBytes;
    /// Bytes of one formatted line: prefix + text + '\n'.
    static constexpr std::size_t kFormattedBytes = LineBytes + 96;

    LogRing() noexcept {
        for (std::size_t i = 0; i < Slots; ++i) m_slots[i].seq.store(static_cast<std::uint32_t>(i), std::memory_order_relaxed);
        m_start_ns = Instant::now().ns();
    }
    LogRing(const LogRing&) = delete;
    LogRing& operator=(const LogRing&) = delete;

    /// Any thread of any process. Copies the line (a trailing '\n' is removed; longer than
    /// LineBytes is cut and counted). false: the ring is full and the line was dropped (counted).
    bool write(std::string_view line) noexcept {
        if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
        // [log.tail] relaxed: only a starting guess; the CAS below decides.
        std::uint32_t pos = m_tail.load(std::memory_order_relaxed);
        Slot* slot = nullptr;
        for (;;) {
            slot = &m_slots[pos & (Slots - 1)];
            // [log.claim] acquire: pairs with [log.free], so the drain's reads of the slot are done.
            const std::uint32_t seq = slot->seq.load(std::memory_order_acquire);
            const auto dif = static_cast<std::int32_t>(seq - pos);
            if (dif == 0) {
                // [log.tail.cas] relaxed: the slot's ownership is carried by its sequence, not the tail.
                if (m_tail.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
            } else if (dif < 0) {
                // [log.drop] relaxed: a statistic; the drain reports it.
                m_dropped.fetch_add(1, std::memory_order_relaxed);
                return false;
            } else {
                pos = m_tail.load(std::memory_order_relaxed);  // [log.tail] see above
            }
        }
        std::size_t n = line.size();
        if (n > LineBytes) {
            n = LineBytes;
            m_truncated.fetch_add(1, std::memory_order_relaxed);  // [log.trunc] relaxed: a statistic
        }
        std::memcpy(slot->text, line.data(), n);
        slot->len = static_cast<std::uint32_t>(n);
        slot->pid = platform::current_process_id();
        slot->tid = platform::current_thread_id();
        slot->ns = Instant::now().ns();
        // [log.publish] release: the line is complete; pairs with [log.consume].
        slot->seq.store(pos + 1, std::memory_order_release);
        // [log.signal] seq_cst (with [log.waiting] load and the drain's [log.sleep] store): either
        // the drain sees this bump before sleeping, or we see it waiting and wake it.
        m_signal.fetch_add(1, std::memory_order_seq_cst);
        if (m_waiting.load(std::memory_order_seq_cst) != 0) platform::wake_one(m_signal, platform::WaitScope::process_shared);
        return true;
    }

    /// The one drain. Sends every published line (and a drop report when lines were dropped
    /// since the last call) to sink; returns the number of lines sent.
    std::size_t drain(LogSink sink, void* context) noexcept {
        std::size_t count = 0;
        char buf[kFormattedBytes];
        for (;;) {
            report_drops(sink, context, buf, count);
            const std::uint32_t pos = m_head.load(std::memory_order_relaxed);  // [log.head] drain-only
            Slot& slot = m_slots[pos & (Slots - 1)];
            // [log.consume] acquire: pairs with [log.publish].
            if (slot.seq.load(std::memory_order_acquire) != pos + 1) break;
            const std::size_t n = detail::format_log_line(buf, sizeof buf, slot.pid, slot.tid, slot.ns - m_start_ns,
                                                          slot.text, slot.len);
            // [log.free] release: our reads of the slot are done; pairs with [log.claim].
            slot.seq.store(pos + static_cast<std::uint32_t>(Slots), std::memory_order_release);
            m_head.store(pos + 1, std::memory_order_relaxed);  // [log.head] drain-only
            sink(context, buf, n);
            ++count;
        }
        return count;
    }
    /// drain() to stdout / stderr (one write(2) per line).
    std::size_t drain_to(platform::StandardStream stream) noexcept {
        auto s = stream;
        return drain(&detail::sink_to_standard, &s);
    }

    /// Blocks until at least one line is published or the deadline passes. Errc::timeout.
    [[nodiscard]] Result<void> wait_for_lines(Deadline deadline) noexcept {
        for (;;) {
            const std::uint32_t sig = m_signal.load(std::memory_order_seq_cst);  // [log.signal] see write()
            if (has_lines()) return ok();
            // [log.sleep] seq_cst: see [log.signal].
            m_waiting.store(1, std::memory_order_seq_cst);
            if (has_lines()) {
                m_waiting.store(0, std::memory_order_relaxed);
                return ok();
            }
            auto r = detail::shared_wait(m_signal, sig, deadline);
            m_waiting.store(0, std::memory_order_relaxed);  // [log.sleep] a late wake-up is harmless
            if (!r) return r;
        }
    }

    /// Drain side: a published line is waiting.
    [[nodiscard]] bool has_lines() const noexcept {
        const std::uint32_t pos = m_head.load(std::memory_order_relaxed);
        // [log.consume] acquire (peek): pairs with [log.publish].
        return m_slots[pos & (Slots - 1)].seq.load(std::memory_order_acquire) == pos + 1;
    }
    /// Lines dropped because the ring was full (since creation).
    [[nodiscard]] std::uint64_t dropped() const noexcept { return m_dropped.load(std::memory_order_relaxed); }
    /// Lines cut to LineBytes.
    [[nodiscard]] std::uint64_t truncated() const noexcept { return m_truncated.load(std::memory_order_relaxed); }

private:
    void report_drops(LogSink sink, void* context, char* buf, std::size_t& count) noexcept {
        // [log.drop] relaxed: a statistic; exactness is guaranteed by counting, not by ordering.
        const std::uint64_t d = m_dropped.load(std::memory_order_relaxed);
        if (d == m_reported_drops) return;
        char text[64] = "staticrt.logring: ";
        std::size_t n = std::strlen(text);
        char digits[24];
        std::size_t k = 0;
        std::uint64_t v = d - m_reported_drops;
        do {
            digits[k++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0);
        while (k > 0) text[n++] = digits[--k];
        std::memcpy(text + n, " lines dropped", 14);
        n += 14;
        m_reported_drops = d;
        const std::size_t len = detail::format_log_line(buf, kFormattedBytes, platform::current_process_id(),
                                                        platform::current_thread_id(), Instant::now().ns() - m_start_ns,
                                                        text, n);
        sink(context, buf, len);
        ++count;
    }

    struct Slot {
        std::atomic<std::uint32_t> seq;
        std::uint32_t len;
        std::int64_t pid;
        std::uint64_t tid;
        std::int64_t ns;
        char text[LineBytes];
    };

    // producers
    alignas(64) std::atomic<std::uint32_t> m_tail{0};
    std::atomic<std::uint32_t> m_signal{0};
    std::atomic<std::uint64_t> m_dropped{0};
    std::atomic<std::uint64_t> m_truncated{0};
    // drain
    alignas(64) std::atomic<std::uint32_t> m_head{0};
    std::atomic<std::uint32_t> m_waiting{0};
    std::uint64_t m_reported_drops = 0;
    std::int64_t m_start_ns = 0;
    alignas(64) Slot m_slots[Slots];
};

}  // namespace staticrt::ipc
