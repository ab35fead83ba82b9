// SPDX-License-Identifier: MIT
// staticrt/ipc/pipe.hpp — Pipe<Bytes>: a duplex, message-framed channel between two processes
// (multiprocessing.Pipe()), in shared memory.
//
// A Pipe holds two single-producer/single-consumer byte rings of Bytes each (one per direction)
// and the state of its two ends. Put it in shared memory (SharedSegment<Pipe<4096>>, or inside
// your own shared struct; it is position-independent); each side calls connect(0) or connect(1)
// once and gets a process-local PipeConnection. Messages keep their boundaries: each is stored
// as a 4-byte length and its bytes; one message is at most Bytes - 4 bytes (a larger one is
// Errc::invalid_argument, never split).
//
// EOF: recv() returns the messages sent before the peer closed, then Errc::closed; so does a
// peer whose connecting thread or process died (detected through a robust lock each end holds
// while connected, and the peer's pid; on a platform without robust locks — qemu-user — only
// the pid). send() to a closed or dead peer is Errc::closed (Python's BrokenPipeError). A dead
// peer is noticed within a polling slice of 20 ms of the wait.
//
// Thread roles: one thread sends and one thread receives on each connection at a time (like a
// Connection object in Python). The thread that connects holds the end's liveness lock: close
// the connection from that thread (or let it end with the process).
// Memory ordering: everything a sender wrote before send() is visible to the receiver once
// recv() returned that message ([pipe.publish] release / [pipe.avail] acquire).
//
//   SharedSegment<Pipe<4096>> seg;  (void)seg.create("app-pipe");
//   auto parent = seg->connect(0);            // the child opens the segment and connects 1
//   (void)parent->send(42, Deadline::never());
//   int v = parent->recv<int>(Deadline::after(1s)).value_or(-1);
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

#include "staticrt/ipc/process_mutex.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/time.hpp"

namespace staticrt::detail {
inline constexpr std::uint32_t kPipeMagic = 0x50495045u;  // "PIPE"

/// One direction: a byte ring written by one end and read by the other.
struct PipeRing {
    alignas(64) std::atomic<std::uint32_t> tail{0};       ///< bytes published (free-running); writer
    std::atomic<std::uint32_t> readers_waiting{0};         ///< reader parked on tail
    alignas(64) std::atomic<std::uint32_t> head{0};       ///< bytes consumed (free-running); reader
    std::atomic<std::uint32_t> writers_waiting{0};         ///< writer parked on head
};

/// One end: its state and the liveness lock its connecting thread holds.
struct PipeEnd {
    static constexpr std::uint32_t kUnconnected = 0, kOpen = 1, kClosed = 2;
    ipc::ProcessMutex alive;
    std::atomic<std::int64_t> pid{0};
    std::atomic<std::uint32_t> state{kUnconnected};
};

/// The shared part every Pipe<Bytes> starts with; the rings' bytes follow it.
struct PipeShared {
    std::uint32_t magic = kPipeMagic;
    std::uint32_t bytes = 0;
    PipeEnd end[2];
    PipeRing ring[2];  ///< ring[i] is written by end i and read by end 1 - i
};
}  // namespace staticrt::detail

namespace staticrt::ipc {

/// One process's end of a Pipe. Move-only; closes on destruction (in the process that connected).
class PipeConnection {
public:
    constexpr PipeConnection() noexcept = default;
    PipeConnection(const PipeConnection&) = delete;
    PipeConnection& operator=(const PipeConnection&) = delete;
    PipeConnection(PipeConnection&& o) noexcept { take(o); }
    PipeConnection& operator=(PipeConnection&& o) noexcept {
        if (this != &o) {
            close();
            take(o);
        }
        return *this;
    }
    ~PipeConnection() { close(); }

    /// Sends one message (conn.send_bytes). Blocks while the ring has no room for it.
    /// Errc::invalid_argument: larger than max_message(); Errc::closed: this end or the peer
    /// closed (or the peer died); Errc::timeout; Errc::corrupted: the ring's indices are invalid.
    [[nodiscard]] Result<void> send_bytes(std::span<const std::byte> message, Deadline deadline) noexcept;
    /// Receives one message into `out` and returns its length (conn.recv_bytes).
    /// Errc::closed: the peer closed or died and every message it sent was received (EOF);
    /// Errc::invalid_argument: the next message is larger than `out` (it stays in the pipe);
    /// Errc::timeout; Errc::corrupted: a length or index read from shared memory is invalid.
    [[nodiscard]] Result<std::size_t> recv_bytes(std::span<std::byte> out, Deadline deadline) noexcept;
    /// True when a message can be received now or before the deadline (conn.poll(timeout));
    /// false at the deadline. Errc::closed at EOF.
    [[nodiscard]] Result<bool> poll(Deadline deadline = Deadline::poll()) noexcept;

    /// conn.send(obj) for a trivially copyable T: one message of sizeof(T) bytes.
    template <class T>
    [[nodiscard]] Result<void> send(const T& value, Deadline deadline = Deadline::never()) noexcept {
        static_assert(std::is_trivially_copyable_v<T>,
                      "PipeConnection::send<T>: T must be trivially copyable (its bytes are copied through "
                      "shared memory); send a struct of plain data, or bytes with send_bytes()");
        return send_bytes(std::as_bytes(std::span<const T, 1>(&value, 1)), deadline);
    }
    /// conn.recv() of a T sent with send<T>(). Errc::invalid_argument: the next message is not
    /// sizeof(T) bytes (it stays in the pipe: read it with recv_bytes()).
    template <class T>
    [[nodiscard]] Result<T> recv(Deadline deadline = Deadline::never()) noexcept {
        static_assert(std::is_trivially_copyable_v<T> && std::is_default_constructible_v<T>,
                      "PipeConnection::recv<T>: T must be trivially copyable and default-constructible");
        T value{};
        auto r = receive(std::as_writable_bytes(std::span<T, 1>(&value, 1)), true, deadline);
        if (!r) return unexpected(r.error());
        return value;
    }

    /// Closes this end: the peer's recv() drains what was sent, then reports Errc::closed.
    /// In a process other than the one that connected (a forked child holding a copy) it only
    /// forgets the end. Idempotent.
    void close() noexcept;
    [[nodiscard]] bool is_open() const noexcept { return m_shared != nullptr; }
    /// Which end (0 or 1) this is.
    [[nodiscard]] unsigned side() const noexcept { return m_side; }
    /// The largest message: the ring's bytes minus the 4-byte length.
    [[nodiscard]] std::size_t max_message() const noexcept { return m_bytes - 4; }

    /// Used by Pipe<Bytes>::connect().
    [[nodiscard]] static Result<PipeConnection> connect(detail::PipeShared& shared, unsigned char* data,
                                                       std::uint32_t bytes, unsigned side) noexcept;

private:
    void take(PipeConnection& o) noexcept {
        m_shared = o.m_shared;
        m_data = o.m_data;
        m_bytes = o.m_bytes;
        m_side = o.m_side;
        m_pid = o.m_pid;
        o.m_shared = nullptr;
    }
    [[nodiscard]] Result<std::size_t> receive(std::span<std::byte> out, bool exact, Deadline deadline) noexcept;
    /// Waits until a whole message is readable; returns its length.
    [[nodiscard]] Result<std::uint32_t> wait_message(Deadline deadline) noexcept;
    /// True when the peer closed or died (a dead peer is marked closed).
    [[nodiscard]] bool peer_gone() noexcept;

    detail::PipeShared* m_shared = nullptr;  // null: not connected / closed
    unsigned char* m_data = nullptr;         // ring[0]'s bytes; ring[1]'s follow
    std::uint32_t m_bytes = 0;
    unsigned m_side = 0;
    std::int64_t m_pid = 0;  // the connecting process
};

template <std::size_t Bytes = 4096>
class Pipe {
    static_assert(Bytes >= 64 && (Bytes & (Bytes - 1)) == 0,
                  "Pipe<Bytes>: Bytes (each direction's ring) must be a power of two of at least 64, e.g. 4096");
    static_assert(Bytes <= (std::size_t{1} << 30), "Pipe<Bytes>: Bytes must be at most 1 GiB");

public:
    static constexpr std::size_t kBytes = Bytes;
    static constexpr std::size_t kMaxMessage = Bytes - 4;

    /// Construct once, in the process that creates the shared memory.
    Pipe() noexcept { m_shared.bytes = static_cast<std::uint32_t>(Bytes); }
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;

    /// Connects end 0 or 1 (once per end). The calling thread holds the end's liveness lock until
    /// close(). Errc::invalid_argument: side > 1 or the end was connected before;
    /// Errc::corrupted: the shared header is invalid.
    [[nodiscard]] Result<PipeConnection> connect(unsigned side) noexcept {
        return PipeConnection::connect(m_shared, &m_data[0][0], static_cast<std::uint32_t>(Bytes), side);
    }

private:
    detail::PipeShared m_shared;
    alignas(64) unsigned char m_data[2][Bytes] = {};
};

}  // namespace staticrt::ipc
