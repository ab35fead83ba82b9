// SPDX-License-Identifier: MIT
// staticrt/ipc/shared_segment.hpp — one object of type T in a named shared-memory segment.
//
// The creating process constructs T in place (create); other processes map it by name (open)
// and see the same object, possibly at another address — so T must be position-independent:
// no pointers into itself, no virtual functions, no heap (staticrt's shared primitives and
// queues, plain data, atomics). The creator's SharedSegment removes the name when it is
// destroyed (the memory lives on while others map it); it never runs ~T() — call destroy()
// when nobody uses the object any more.
//
// Memory ordering: create() publishes the constructed T with a release store of the header's
// ready word; open() acquires it, so the opener sees a fully constructed object.
//
//   staticrt::ipc::SharedSegment<Counters> seg;
//   if (seg.create("app-counters")) seg->hits.fetch_add(1, std::memory_order_relaxed);
//   ... elsewhere: seg.open("app-counters", Deadline::after(1s));
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include "staticrt/platform/process.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/shared_memory.hpp"
#include "staticrt/platform/time.hpp"

namespace staticrt::detail {
inline constexpr std::uint32_t kSegmentMagic = 0x53524950u;  // "SRIP"
struct SegmentHeader {
    std::atomic<std::uint32_t> ready;  ///< kSegmentMagic once the object is constructed
    std::uint32_t align;
    std::uint64_t size;
    std::uint64_t id;  ///< unique per create() (pid, time, serial): tells a re-created name apart
};
/// A fresh SegmentHeader::id.
[[nodiscard]] inline std::uint64_t next_segment_id() noexcept {
    static constinit std::atomic<std::uint32_t> serial{0};
    // [seg.serial] relaxed: only uniqueness matters.
    const std::uint64_t s = serial.fetch_add(1, std::memory_order_relaxed);
    return (static_cast<std::uint64_t>(platform::current_process_id()) << 40) ^
           static_cast<std::uint64_t>(Instant::now().ns()) ^ (s << 20) ^ 1u;
}
}  // namespace staticrt::detail

namespace staticrt::ipc {

template <class T>
class SharedSegment {
    static_assert(!std::is_polymorphic_v<T>,
                  "SharedSegment<T>: T has virtual functions; a vtable pointer is only valid in one process");
    static_assert(!std::is_reference_v<T> && !std::is_array_v<T>, "SharedSegment<T>: use a struct, not a reference/array");
    static_assert(alignof(T) <= 4096, "SharedSegment<T>: T is over-aligned beyond a page");

public:
    constexpr SharedSegment() noexcept = default;
    SharedSegment(const SharedSegment&) = delete;
    SharedSegment& operator=(const SharedSegment&) = delete;
    SharedSegment(SharedSegment&& o) noexcept : m_shm(std::move(o.m_shm)), m_object(o.m_object), m_owner(o.m_owner) {
        o.m_object = nullptr;
        o.m_owner = false;
    }
    ~SharedSegment() { close(); }

    /// Creates the segment and constructs T(args...) in it. Errors as SharedMemory::create
    /// (Errc::exhausted: the name is taken).
    template <class... Args>
    [[nodiscard]] Result<void> create(const char* name, Args&&... args) noexcept {
        if (auto r = m_shm.create(name, kBytes); !r) return r;
        auto* h = header();
        h->align = alignof(T);
        h->size = sizeof(T);
        h->id = detail::next_segment_id();
        m_object = ::new (object_address()) T(std::forward<Args>(args)...);
        m_owner = true;
        // [seg.ready] release: publishes the constructed T; pairs with [seg.open].
        h->ready.store(detail::kSegmentMagic, std::memory_order_release);
        return ok();
    }

    /// Maps an existing segment, waiting (until `deadline`) for its creator to finish.
    /// Errc::invalid_argument: no such name (os_code ENOENT) or the segment holds another type;
    /// Errc::timeout: the creator did not finish in time.
    /// Errc::permission_denied: another user's segment, or one others may write (see
    /// platform::OpenCheck; pass OpenCheck::none to opt out).
    [[nodiscard]] Result<void> open(const char* name, Deadline deadline = Deadline::poll(),
                                    platform::OpenCheck check = platform::OpenCheck::owner_and_mode) noexcept {
        for (;;) {
            auto r = m_shm.open(name, check);
            if (r) break;
            if (r.code() != Errc::would_block) return r;
            if (deadline.expired() || deadline.is_poll()) return unexpected(Errc::timeout);
            platform::sleep_for(std::chrono::milliseconds(1));
        }
        if (m_shm.size() < kBytes) {
            m_shm.close();
            return unexpected(Errc::invalid_argument);
        }
        auto* h = header();
        // [seg.open] acquire: pairs with [seg.ready].
        while (h->ready.load(std::memory_order_acquire) != detail::kSegmentMagic) {
            if (deadline.expired() || deadline.is_poll()) {
                m_shm.close();
                return unexpected(Errc::timeout);
            }
            platform::sleep_for(std::chrono::microseconds(200));
        }
        if (h->size != sizeof(T) || h->align != alignof(T)) {
            m_shm.close();
            return unexpected(Errc::invalid_argument);
        }
        m_object = std::launder(reinterpret_cast<T*>(object_address()));
        m_owner = false;
        return ok();
    }

    /// Unmaps; the creator also removes the name. Does not run ~T().
    void close() noexcept {
        if (m_owner && m_shm.is_mapped()) (void)platform::SharedMemory::unlink(m_shm.name());
        m_shm.close();
        m_object = nullptr;
        m_owner = false;
    }
    /// Runs ~T() (creator only, when no other process uses it), then close(). 
    void destroy() noexcept {
        if (m_owner && m_object != nullptr) m_object->~T();
        close();
    }
    /// Gives up ownership of the name: close() will not unlink it (e.g. in a forked child).
    void disown() noexcept { m_owner = false; }

    [[nodiscard]] bool is_open() const noexcept { return m_object != nullptr; }
    [[nodiscard]] bool owns_name() const noexcept { return m_owner; }
    [[nodiscard]] T* get() const noexcept { return m_object; }
    [[nodiscard]] T& operator*() const noexcept { return *m_object; }
    [[nodiscard]] T* operator->() const noexcept { return m_object; }
    [[nodiscard]] const char* name() const noexcept { return m_shm.name(); }
    /// The start of the mapping (the header line; T follows at kHeaderBytes) and its size:
    /// what ProcessPool::map_shared() turns into position-independent offsets.
    [[nodiscard]] const void* mapping() const noexcept { return m_shm.data(); }
    [[nodiscard]] std::size_t mapping_bytes() const noexcept { return m_shm.size(); }
    /// The id create() stored in the header (0 when not open).
    [[nodiscard]] std::uint64_t id() const noexcept { return is_open() ? header()->id : 0; }

    /// Bytes of the segment: a header cache line, then T.
    static constexpr std::size_t kHeaderBytes = alignof(T) > 64 ? alignof(T) : 64;
    static constexpr std::size_t kBytes = kHeaderBytes + sizeof(T);
    static constexpr std::size_t shared_bytes = kBytes;  ///< for staticrt/footprint.hpp

private:
    [[nodiscard]] detail::SegmentHeader* header() const noexcept {
        return static_cast<detail::SegmentHeader*>(m_shm.data());
    }
    [[nodiscard]] void* object_address() const noexcept {
        return static_cast<unsigned char*>(m_shm.data()) + kHeaderBytes;
    }

    platform::SharedMemory m_shm;
    T* m_object = nullptr;
    bool m_owner = false;
};

}  // namespace staticrt::ipc
