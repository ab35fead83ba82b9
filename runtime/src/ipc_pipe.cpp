// SPDX-License-Identifier: MIT
// PipeConnection: the capacity-erased part of Pipe<Bytes> — framing over two SPSC byte rings,
// parking on the ring indices, and peer-liveness checks (robust lock + pid).
#include "staticrt/ipc/pipe.hpp"

#include <chrono>

#include "staticrt/platform/process.hpp"
#include "staticrt/platform/wait.hpp"

namespace staticrt::ipc {
namespace {

using detail::PipeEnd;
using detail::PipeRing;
using detail::PipeShared;

constexpr platform::WaitScope kScope = platform::WaitScope::process_shared;
/// A waiter re-checks the peer's liveness at least this often (a dead peer wakes nobody).
constexpr auto kLivenessSlice = std::chrono::milliseconds(20);
constexpr std::uint32_t kLenBytes = 4;

Deadline earliest(Deadline a, Deadline b) noexcept { return a.instant().ns() <= b.instant().ns() ? a : b; }

void copy_in(unsigned char* ring, std::uint32_t bytes, std::uint32_t pos, const void* src, std::size_t n) noexcept {
    const std::uint32_t off = pos & (bytes - 1);
    const std::size_t first = n < bytes - off ? n : bytes - off;
    std::memcpy(ring + off, src, first);
    std::memcpy(ring, static_cast<const unsigned char*>(src) + first, n - first);
}

void copy_out(const unsigned char* ring, std::uint32_t bytes, std::uint32_t pos, void* dst, std::size_t n) noexcept {
    const std::uint32_t off = pos & (bytes - 1);
    const std::size_t first = n < bytes - off ? n : bytes - off;
    std::memcpy(dst, ring + off, first);
    std::memcpy(static_cast<unsigned char*>(dst) + first, ring, n - first);
}

/// Parks while `word` still holds `seen`, until the deadline or one liveness slice.
void park(const std::atomic<std::uint32_t>& word, std::uint32_t seen, std::atomic<std::uint32_t>& waiting,
          Deadline deadline) noexcept {
    // [pipe.park] seq_cst: Dekker pair with [pipe.wake]: either the waker's seq_cst store of `word`
    // precedes this re-check (no sleep), or its seq_cst load of `waiting` sees this increment (it wakes).
    waiting.fetch_add(1, std::memory_order_seq_cst);
    if (word.load(std::memory_order_seq_cst) == seen)
        (void)platform::wait(word, seen, earliest(deadline, Deadline::after(kLivenessSlice)), kScope);
    waiting.fetch_sub(1, std::memory_order_relaxed);  // relaxed: only a hint for wakers
}

/// Stores a new index and wakes a parked peer.
void advance(std::atomic<std::uint32_t>& word, std::uint32_t value, const std::atomic<std::uint32_t>& waiting) noexcept {
    // [pipe.wake] seq_cst (also the release of [pipe.publish]/[pipe.consumed]): pairs with [pipe.park].
    word.store(value, std::memory_order_seq_cst);
    if (waiting.load(std::memory_order_seq_cst) != 0) platform::wake_all(word, kScope);
}

void wake_everyone(PipeShared& s) noexcept {
    for (auto& r : s.ring) {
        platform::wake_all(r.tail, kScope);
        platform::wake_all(r.head, kScope);
    }
}

}  // namespace

Result<PipeConnection> PipeConnection::connect(PipeShared& shared, unsigned char* data, std::uint32_t bytes,
                                               unsigned side) noexcept {
    if (side > 1) return unexpected(Errc::invalid_argument);
    if (shared.magic != detail::kPipeMagic || shared.bytes != bytes) return unexpected(Errc::corrupted);
    PipeEnd& e = shared.end[side];
    // The liveness lock first: held by this thread while the end is open; its owner ending is the
    // peer's EOF. A peer probes it only once the state reads kOpen (below), so it is free now
    // unless the end is (or was) connected.
    auto r = e.alive.lock(Deadline::poll());
    if (!r && r.code() != Errc::owner_died) return unexpected(Errc::invalid_argument);  // held: connected
    if (!r) (void)e.alive.mark_consistent();  // a previous owner died; the state check below decides
    std::uint32_t expected = PipeEnd::kUnconnected;
    // [pipe.claim] acq_rel: one connect() per end wins; pairs with itself in a racing connect().
    if (!e.state.compare_exchange_strong(expected, PipeEnd::kOpen, std::memory_order_acq_rel,
                                         std::memory_order_relaxed)) {
        (void)e.alive.unlock_checked();
        return unexpected(Errc::invalid_argument);  // connected before (open or closed)
    }
    const std::int64_t pid = platform::current_process_id();
    // [pipe.pid] release: pairs with the acquire load in peer_gone().
    e.pid.store(pid, std::memory_order_release);
    PipeConnection c;
    c.m_shared = &shared;
    c.m_data = data;
    c.m_bytes = bytes;
    c.m_side = side;
    c.m_pid = pid;
    return c;
}

void PipeConnection::close() noexcept {
    if (m_shared == nullptr) return;
    PipeShared& s = *m_shared;
    m_shared = nullptr;
    if (m_pid != platform::current_process_id()) return;  // a copy in a forked child: forget it
    PipeEnd& e = s.end[m_side];
    // [pipe.close] release: every message published before is visible to a peer that sees kClosed
    // (pairs with the acquire load in peer_gone()).
    e.state.store(PipeEnd::kClosed, std::memory_order_release);
    (void)e.alive.unlock_checked();  // not_owner when another thread connected: that lock ends with it
    wake_everyone(s);
}

bool PipeConnection::peer_gone() noexcept {
    PipeEnd& peer = m_shared->end[1 - m_side];
    // [pipe.peer] acquire: pairs with [pipe.close] / [pipe.pid].
    const std::uint32_t st = peer.state.load(std::memory_order_acquire);
    if (st == PipeEnd::kClosed) return true;
    if (st != PipeEnd::kOpen) return st != PipeEnd::kUnconnected;  // garbage: treat as gone
    bool dead = false;
    auto r = peer.alive.lock(Deadline::poll());
    if (r.code() == Errc::owner_died) {
        dead = true;  // its connecting thread (or process) ended without close()
        (void)peer.alive.mark_consistent();
        (void)peer.alive.unlock_checked();
    } else if (r) {
        (void)peer.alive.unlock_checked();  // between its connect() steps, or it closed from another thread
    } else if (!peer.alive.robust()) {
        const std::int64_t pid = peer.pid.load(std::memory_order_acquire);
        dead = pid > 0 && !platform::process_exists(static_cast<platform::ProcessId>(pid));
    }
    if (dead) {
        // Mark it, so the next check is cheap. release: pairs with [pipe.peer].
        peer.state.store(PipeEnd::kClosed, std::memory_order_release);
        wake_everyone(*m_shared);
        return true;
    }
    return peer.state.load(std::memory_order_acquire) == PipeEnd::kClosed;
}

Result<void> PipeConnection::send_bytes(std::span<const std::byte> message, Deadline deadline) noexcept {
    if (m_shared == nullptr) return unexpected(Errc::closed);
    if (message.size() > max_message()) return unexpected(Errc::invalid_argument);
    PipeRing& ring = m_shared->ring[m_side];
    unsigned char* data = m_data + static_cast<std::size_t>(m_side) * m_bytes;
    const std::uint32_t need = kLenBytes + static_cast<std::uint32_t>(message.size());
    // relaxed: this end is the only writer of tail.
    const std::uint32_t tail = ring.tail.load(std::memory_order_relaxed);
    for (;;) {
        // [pipe.free] acquire: pairs with [pipe.consumed]; the reader is done with those bytes.
        const std::uint32_t head = ring.head.load(std::memory_order_acquire);
        const std::uint32_t used = tail - head;
        if (used > m_bytes) return unexpected(Errc::corrupted);
        if (peer_gone()) return unexpected(Errc::closed);
        if (m_bytes - used >= need) {
            const std::uint32_t len = static_cast<std::uint32_t>(message.size());
            copy_in(data, m_bytes, tail, &len, kLenBytes);
            if (!message.empty()) copy_in(data, m_bytes, tail + kLenBytes, message.data(), message.size());
            // [pipe.publish] (seq_cst in advance()): the frame's bytes before the new tail; pairs with [pipe.avail].
            advance(ring.tail, tail + need, ring.readers_waiting);
            return ok();
        }
        if (deadline.is_poll() || deadline.expired()) return unexpected(Errc::timeout);
        park(ring.head, head, ring.writers_waiting, deadline);
    }
}

Result<std::uint32_t> PipeConnection::wait_message(Deadline deadline) noexcept {
    if (m_shared == nullptr) return unexpected(Errc::closed);
    PipeRing& ring = m_shared->ring[1 - m_side];
    const unsigned char* data = m_data + static_cast<std::size_t>(1 - m_side) * m_bytes;
    // relaxed: this end is the only writer of head.
    const std::uint32_t head = ring.head.load(std::memory_order_relaxed);
    for (;;) {
        // [pipe.avail] acquire: pairs with [pipe.publish]; the frame's bytes are visible.
        std::uint32_t tail = ring.tail.load(std::memory_order_acquire);
        if (tail == head) {
            if (peer_gone()) {
                // The peer closed after its last publish: re-read once so nothing sent is lost.
                tail = ring.tail.load(std::memory_order_acquire);  // [pipe.avail]
                if (tail == head) return unexpected(Errc::closed);
            }
        }
        const std::uint32_t avail = tail - head;
        if (avail > m_bytes) return unexpected(Errc::corrupted);
        if (avail != 0) {
            if (avail < kLenBytes) return unexpected(Errc::corrupted);  // frames are published whole
            std::uint32_t len = 0;
            copy_out(data, m_bytes, head, &len, kLenBytes);
            if (len > m_bytes - kLenBytes || len > avail - kLenBytes) return unexpected(Errc::corrupted);
            return len;
        }
        if (deadline.is_poll() || deadline.expired()) return unexpected(Errc::timeout);
        park(ring.tail, tail, ring.readers_waiting, deadline);
    }
}

Result<std::size_t> PipeConnection::receive(std::span<std::byte> out, bool exact, Deadline deadline) noexcept {
    auto len = wait_message(deadline);
    if (!len) return unexpected(len.error());
    if (*len > out.size() || (exact && *len != out.size())) return unexpected(Errc::invalid_argument);
    PipeRing& ring = m_shared->ring[1 - m_side];
    const unsigned char* data = m_data + static_cast<std::size_t>(1 - m_side) * m_bytes;
    const std::uint32_t head = ring.head.load(std::memory_order_relaxed);  // relaxed: our own index
    if (*len != 0) copy_out(data, m_bytes, head + kLenBytes, out.data(), *len);
    // [pipe.consumed] (seq_cst in advance()): we are done with the bytes; pairs with [pipe.free].
    advance(ring.head, head + kLenBytes + *len, ring.writers_waiting);
    return std::size_t{*len};
}

Result<std::size_t> PipeConnection::recv_bytes(std::span<std::byte> out, Deadline deadline) noexcept {
    return receive(out, false, deadline);
}

Result<bool> PipeConnection::poll(Deadline deadline) noexcept {
    auto len = wait_message(deadline);
    if (len) return true;
    if (len.code() == Errc::timeout) return false;
    return unexpected(len.error());
}

}  // namespace staticrt::ipc
