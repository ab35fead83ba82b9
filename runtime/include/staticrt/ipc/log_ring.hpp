// SPDX-License-Identifier: MIT
// staticrt/ipc/log_ring.hpp — a lock-free multi-producer log ring for shared memory: any thread
// of any process writes whole lines without blocking; one drain writes them out whole.
//
// Producers (any number, any process mapping the ring): write() copies one line into a slot
// (a bounded sequence ring: a producer claims the slot at the tail by a CAS of the slot's word —
// sequence and its process id together — then moves the tail on, which any producer helps
// with; it publishes by the slot's sequence), with the process id, OS thread id and a
// monotonic timestamp. When the ring is full the line is
// dropped and counted — never silently: the drain emits "staticrt.logring: N lines dropped" in
// order. Lines longer than LineBytes are cut and counted in truncated(). The drain (one thread
// of one process at a time) formats "[pid:tid +seconds.micros] text\n" and hands each line to a
// sink in one call, so lines never interleave. Position-independent: place it in a
// SharedSegment. A producer killed between claiming and publishing a slot does not stall the
// drain for good: once the slot has been waited on for kDeadWriterCheckNs, the drain asks
// whether the claiming process still exists; when it does not, the slot is taken back (a CAS
// against the claim word), its torn line is never printed, and the loss is counted in
// dropped() and reported ("staticrt.logring: 1 line lost: writer <pid> died while writing it").
//
// Untrusted shared memory: the drain clamps a slot's length to LineBytes (a scribbled len never
// reads past the slot), and write() gives up after kMaxWriteSpins attempts at claiming, counting
// the line as dropped and corrupted() (a "non-blocking" write never spins forever on garbage).
//
// Memory ordering: a line's text and metadata are written before [log.publish] (release) and
// read after [log.consume] (acquire); the drain returns the slot with [log.free] (release),
// which [log.claim] (acquire) in a producer pairs with. A dead writer's slot is freed by
// [log.reclaim] (a CAS that fails if the writer published after all).
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

#include "staticrt/detail/event_count.hpp"
#include "staticrt/ipc/detail/shared_wait.hpp"
#include "staticrt/platform/process.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/thread.hpp"
#include "staticrt/platform/time.hpp"
#include "staticrt/platform/wait.hpp"

namespace staticrt::ipc {

/// Where the drain sends each formatted line (including its '\n'); one call per line.
using LogSink = void (*)(void* context, const char* line, std::size_t bytes) noexcept;

}  // namespace staticrt::ipc

namespace staticrt::detail {
/// Test hook: when set, write() calls it between claiming its slot and publishing the line
/// (tests make a writer die there). nullptr in programs.
using LogRingHook = void (*)() noexcept;
inline constinit LogRingHook log_ring_claim_hook = nullptr;
/// Formats "[pid:tid +s.micros] text\n" into out (capacity cap); returns the length.
std::size_t format_log_line(char* out, std::size_t cap, std::int64_t pid, std::uint64_t tid, std::int64_t ns,
                            const char* text, std::size_t len) noexcept;
void sink_to_standard(void* stream, const char* line, std::size_t bytes) noexcept;
}  // namespace staticrt::detail

namespace staticrt::ipc {

template <std::size_t Slots = 1024, std::size_t LineBytes = 200>
class LogRing {
    static_assert(Slots >= 2 && (Slots & (Slots - 1)) == 0, "LogRing<Slots>: Slots must be a power of two >= 2, e.g. 1024");
    static_assert(Slots <= (1u << 30), "LogRing<Slots>: at most 2^30 slots (32-bit sequence numbers)");
    static_assert(LineBytes >= 16, "LogRing<..., LineBytes>: LineBytes must be at least 16");
    static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
                  "LogRing: needs lock-free 64-bit atomics (the slot word must work across processes)");

public:
    static constexpr std::size_t kSlots = Slots;
    static constexpr std::size_t kLineBytes = LineBytes;
    /// Bytes of one formatted line: prefix + text + '\n'.
    static constexpr std::size_t kFormattedBytes = LineBytes + 96;
    /// How long the drain waits on a claimed, unpublished slot before it checks whether the
    /// writer's process still exists (and then again at most this often).
    static constexpr std::int64_t kDeadWriterCheckNs = 20'000'000;
    /// Claim attempts after which write() declares the ring corrupt and drops the line. A live
    /// ring needs a handful (each failed attempt means another producer made progress).
    static constexpr std::uint32_t kMaxWriteSpins = 1u << 16;

    LogRing() noexcept {
        for (std::size_t i = 0; i < Slots; ++i) m_slots[i].word.store(pack(static_cast<std::uint32_t>(i), 0), std::memory_order_relaxed);
        m_start_ns = Instant::now().ns();
    }
    LogRing(const LogRing&) = delete;
    LogRing& operator=(const LogRing&) = delete;

    /// Any thread of any process. Copies the line (a trailing '\n' is removed; longer than
    /// LineBytes is cut and counted). false: the ring is full and the line was dropped (counted).
    bool write(std::string_view line) noexcept {
        if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
        const auto me = static_cast<std::uint32_t>(platform::current_process_id());
        // [log.tail] relaxed: only a starting guess; the slot CAS below decides.
        std::uint32_t pos = m_tail.load(std::memory_order_relaxed);
        Slot* slot = nullptr;
        for (std::uint32_t spins = 0;; ++spins) {
            if (spins == kMaxWriteSpins) {
                // [log.corrupt] / [log.drop] relaxed: statistics.
                m_corrupted.fetch_add(1, std::memory_order_relaxed);
                m_dropped.fetch_add(1, std::memory_order_relaxed);
                return false;
            }
            slot = &m_slots[pos & (Slots - 1)];
            // [log.claim] acquire: pairs with [log.free]/[log.reclaim], so the drain's reads of the slot are done.
            std::uint64_t w = slot->word.load(std::memory_order_acquire);
            const auto dif = static_cast<std::int32_t>(seq_of(w) - pos);
            if (dif == 0) {
                if (pid_of(w) == 0) {
                    // [log.claim] acquire CAS: the slot is ours, with our pid in it for the drain.
                    if (slot->word.compare_exchange_weak(w, pack(pos, me), std::memory_order_acquire,
                                                         std::memory_order_relaxed)) {
                        // [log.tail.cas] relaxed: helping; ownership is carried by the slot word.
                        std::uint32_t expected = pos;
                        (void)m_tail.compare_exchange_strong(expected, pos + 1, std::memory_order_relaxed);
                        break;
                    }
                    continue;  // re-read the slot
                }
                // Claimed by another producer that has not moved the tail yet: help, then go on.
                if (m_tail.compare_exchange_strong(pos, pos + 1, std::memory_order_relaxed)) ++pos;  // [log.tail.cas]
            } else if (dif < 0) {
                // [log.drop] relaxed: a statistic; the drain reports it.
                m_dropped.fetch_add(1, std::memory_order_relaxed);
                return false;
            } else {
                pos = m_tail.load(std::memory_order_relaxed);  // [log.tail] see above
            }
        }
        if (auto hook = detail::log_ring_claim_hook; hook != nullptr) hook();
        std::size_t n = line.size();
        if (n > LineBytes) {
            n = LineBytes;
            m_truncated.fetch_add(1, std::memory_order_relaxed);  // [log.trunc] relaxed: a statistic
        }
        std::memcpy(slot->text, line.data(), n);
        slot->len = static_cast<std::uint32_t>(n);
        slot->pid = static_cast<std::int64_t>(me);
        slot->tid = platform::current_thread_id();
        slot->ns = Instant::now().ns();
        // [log.publish] release: the line is complete; pairs with [log.consume].
        slot->word.store(pack(pos + 1, me), std::memory_order_release);
        // The waiting layer's notify after the publishing store: one count load (and a fence)
        // when the drain is not asleep in wait_for_lines().
        m_lines.notify_one();
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
            const std::uint64_t w = slot.word.load(std::memory_order_acquire);
            if (seq_of(w) != pos + 1) {
                if (seq_of(w) != pos || pid_of(w) == 0 || !reclaim_if_writer_died(slot, pos, w)) break;
                report_dead_writer(sink, context, buf, count, pid_of(w));
                continue;
            }
            // The len a writer stored is untrusted: never read past the slot's text.
            const std::size_t len = slot.len < LineBytes ? slot.len : LineBytes;
            const std::size_t n = detail::format_log_line(buf, sizeof buf, slot.pid, slot.tid,
                                                          since_start(slot.ns),
                                                          slot.text, len);
            // [log.free] release: our reads of the slot are done; pairs with [log.claim].
            slot.word.store(pack(pos + static_cast<std::uint32_t>(Slots), 0), std::memory_order_release);
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
    /// Also returns (at most every kDeadWriterCheckNs) while the next line is claimed but not
    /// published, so that the caller's drain() can check whether its writer died.
    [[nodiscard]] Result<void> wait_for_lines(Deadline deadline) noexcept {
        // The waiting layer's prepare / re-check / commit loop; write() is the notifier.
        auto key = m_lines.prepare_wait();
        Result<void> out = ok();
        for (;;) {
            if (has_lines()) break;
            // An epoch that keeps changing without lines (a scribbling peer) must not outlast
            // the deadline.
            if (deadline.expired()) {
                out = unexpected(Errc::timeout);
                break;
            }
            Deadline until = deadline;
            bool capped = false;  // the next line is claimed, not published: wake to check its writer
            if (head_claimed()) {
                const Deadline check = Deadline::at(Instant(Instant::now().ns() + kDeadWriterCheckNs));
                capped = deadline.instant().ns() > check.instant().ns();
                if (capped) until = check;
            }
            auto r = m_lines.commit_wait(key, until);
            if (!r && r.code() == Errc::not_supported) r = detail::shared_sleep(until);  // no shared futex
            if (!r && r.code() != Errc::timeout) {
                out = r;
                break;
            }
            if (capped) break;  // a line, or time for drain() to check the writer
        }
        m_lines.cancel_wait();
        return out;
    }

    /// Drain side: a published line is waiting.
    [[nodiscard]] bool has_lines() const noexcept {
        const std::uint32_t pos = m_head.load(std::memory_order_relaxed);
        // [log.consume] acquire (peek): pairs with [log.publish].
        return seq_of(m_slots[pos & (Slots - 1)].word.load(std::memory_order_acquire)) == pos + 1;
    }
    /// Lines dropped because the ring was full, plus lines lost because their writer died while
    /// writing them (since creation).
    [[nodiscard]] std::uint64_t dropped() const noexcept { return m_dropped.load(std::memory_order_relaxed); }
    /// Of dropped(): lines lost to writers that died between claiming and publishing.
    [[nodiscard]] std::uint64_t lost_to_dead_writers() const noexcept {
        return m_dead_writer_lines.load(std::memory_order_relaxed);  // [log.dead] relaxed: a statistic
    }
    /// Lines cut to LineBytes.
    [[nodiscard]] std::uint64_t truncated() const noexcept { return m_truncated.load(std::memory_order_relaxed); }
    /// Writes that gave up because the ring's words made no sense (kMaxWriteSpins); also in dropped().
    [[nodiscard]] std::uint64_t corrupted() const noexcept { return m_corrupted.load(std::memory_order_relaxed); }

private:
    struct Slot {
        std::atomic<std::uint64_t> word;  ///< sequence << 32 | pid of the claiming writer (0: none)
        std::uint32_t len;
        std::int64_t pid;
        std::uint64_t tid;
        std::int64_t ns;
        char text[LineBytes];
    };

    /// ns - m_start_ns without signed overflow (both may be scribbled).
    [[nodiscard]] std::int64_t since_start(std::int64_t ns) const noexcept {
        return static_cast<std::int64_t>(static_cast<std::uint64_t>(ns) - static_cast<std::uint64_t>(m_start_ns));
    }

    static constexpr std::uint64_t pack(std::uint32_t seq, std::uint32_t pid) noexcept {
        return static_cast<std::uint64_t>(seq) << 32 | pid;
    }
    static constexpr std::uint32_t seq_of(std::uint64_t w) noexcept { return static_cast<std::uint32_t>(w >> 32); }
    static constexpr std::uint32_t pid_of(std::uint64_t w) noexcept { return static_cast<std::uint32_t>(w); }

    /// Drain side: the next slot is claimed by a writer but not published.
    [[nodiscard]] bool head_claimed() const noexcept {
        const std::uint32_t pos = m_head.load(std::memory_order_relaxed);  // [log.head] drain-only
        // [log.consume] relaxed peek: only decides whether to look again later.
        const std::uint64_t w = m_slots[pos & (Slots - 1)].word.load(std::memory_order_relaxed);
        return seq_of(w) == pos && pid_of(w) != 0;
    }

    /// The slot at `pos` has been claimed (word w) and not published. Once that has lasted
    /// kDeadWriterCheckNs and the claiming process no longer exists, frees the slot (the line is
    /// lost, never printed) and moves the head on. True when it did.
    bool reclaim_if_writer_died(Slot& slot, std::uint32_t pos, std::uint64_t w) noexcept {
        const std::int64_t now = Instant::now().ns();
        if (m_stall_pos != pos || m_stall_word != w) {  // a new stall: start the clock
            m_stall_pos = pos;
            m_stall_word = w;
            m_stall_check_ns = now + kDeadWriterCheckNs;
            return false;
        }
        if (now < m_stall_check_ns) return false;
        m_stall_check_ns = now + kDeadWriterCheckNs;
        if (platform::process_exists(static_cast<platform::ProcessId>(pid_of(w)))) return false;
        // [log.reclaim] release CAS: frees the slot for the next round like [log.free] (pairs with
        // [log.claim]); fails, keeping the line, if the writer published after all.
        std::uint64_t expected = w;
        if (!slot.word.compare_exchange_strong(expected, pack(pos + static_cast<std::uint32_t>(Slots), 0),
                                               std::memory_order_release, std::memory_order_relaxed))
            return false;
        m_head.store(pos + 1, std::memory_order_relaxed);  // [log.head] drain-only
        m_stall_word = 0;
        // [log.drop] / [log.dead] relaxed: statistics. Reported here, not again by report_drops().
        m_dropped.fetch_add(1, std::memory_order_relaxed);
        m_dead_writer_lines.fetch_add(1, std::memory_order_relaxed);
        ++m_reported_drops;
        return true;
    }

    void report_dead_writer(LogSink sink, void* context, char* buf, std::size_t& count, std::uint32_t pid) noexcept {
        char text[96] = "staticrt.logring: 1 line lost: writer ";
        std::size_t n = std::strlen(text);
        char digits[24];
        std::size_t k = 0;
        std::uint64_t v = pid;
        do {
            digits[k++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0);
        while (k > 0) text[n++] = digits[--k];
        constexpr char kTail[] = " died while writing it";
        std::memcpy(text + n, kTail, sizeof kTail - 1);
        n += sizeof kTail - 1;
        const std::size_t len = detail::format_log_line(buf, kFormattedBytes, platform::current_process_id(),
                                                        platform::current_thread_id(), since_start(Instant::now().ns()),
                                                        text, n);
        sink(context, buf, len);
        ++count;
    }

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
                                                        platform::current_thread_id(), since_start(Instant::now().ns()),
                                                        text, n);
        sink(context, buf, len);
        ++count;
    }


    // producers
    alignas(64) std::atomic<std::uint32_t> m_tail{0};
    std::atomic<std::uint64_t> m_dropped{0};
    std::atomic<std::uint64_t> m_truncated{0};
    std::atomic<std::uint64_t> m_dead_writer_lines{0};
    std::atomic<std::uint64_t> m_corrupted{0};
    // drain
    alignas(64) std::atomic<std::uint32_t> m_head{0};
    staticrt::detail::EventCount<staticrt::detail::OsWaitPolicy, platform::WaitScope::process_shared> m_lines;  ///< the drain waits here
    std::uint64_t m_reported_drops = 0;
    std::int64_t m_start_ns = 0;
    std::uint32_t m_stall_pos = 0;     ///< head position of the stall being timed
    std::uint64_t m_stall_word = 0;    ///< its claim word (0: no stall timed)
    std::int64_t m_stall_check_ns = 0; ///< when to check the writer next
    alignas(64) Slot m_slots[Slots];
};

}  // namespace staticrt::ipc
