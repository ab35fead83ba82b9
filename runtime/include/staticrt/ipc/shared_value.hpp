// SPDX-License-Identifier: MIT
// staticrt/ipc/shared_value.hpp — SharedValue<T> and SharedArray<T, N>: multiprocessing.Value
// and multiprocessing.Array, statically, in a named shared-memory segment with their lock.
//
// Create in one process, open by name in others (a forked child simply keeps using the
// parent's object). load()/store()/fetch_add() are lock-free atomics where T allows
// (std::atomic_ref<T>::is_always_lock_free); otherwise they take the lock. For compound
// updates hold get_lock() and use value() / operator[] — like Python's `with v.get_lock():`.
// One discipline per element: a lock-free atomic call does not take the lock, so a fetch_add()
// or store() in one process racing a locked `value() = value() + 1` in another loses updates.
// Write an element either only under get_lock() or only through atomic calls.
//
// A holder that died (a process killed inside the critical section) is reported, never hidden
// and never fatal: lock()/guard() return Errc::owner_died with the lock held until someone calls
// mark_consistent() (see process_mutex.hpp); the checked load(i, Deadline)/store(i, v, Deadline)
// report it too. The plain load()/store() of a locked T and the std::lock_guard idiom keep
// working after a death (no trap) and leave the state marked inconsistent for the checked calls.
//
// Memory ordering: atomic calls are seq_cst-free: store() releases, load() acquires
// ([sv.store]/[sv.load]); fetch_add() is acq_rel. Under get_lock() everything is ordered by the lock.
//
//   staticrt::ipc::SharedValue<long> counter;
//   (void)counter.create("demo-counter", 0);
//   { std::lock_guard g(counter.get_lock()); counter.value() += 1; }
//   { staticrt::ipc::ProcessMutexGuard g(counter.get_lock());          // checked form
//     if (g.owner_died()) { repair(); (void)g.mark_consistent(); } }
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>
#include <span>
#include <type_traits>

#include "staticrt/ipc/process_mutex.hpp"
#include "staticrt/ipc/shared_segment.hpp"

namespace staticrt::detail {
template <class T>
inline constexpr bool kAtomicFast = std::is_trivially_copyable_v<T> && std::atomic_ref<T>::is_always_lock_free &&
                                    (alignof(T) >= std::atomic_ref<T>::required_alignment);

template <class T, std::size_t N>
struct SharedBlock {
    ipc::ProcessMutex lock;
    alignas(std::atomic_ref<T>::required_alignment) T values[N];
};
}  // namespace staticrt::detail

namespace staticrt::ipc {

template <class T, std::size_t N>
class SharedArray {
    static_assert(std::is_trivially_copyable_v<T>,
                  "SharedArray<T, N>/SharedValue<T>: T must be trivially copyable to live in shared memory");
    static_assert(N > 0, "SharedArray<T, N>: N must be at least 1");

public:
    using Block = detail::SharedBlock<T, N>;
    static constexpr bool kLockFree = detail::kAtomicFast<T>;
    static constexpr std::size_t shared_bytes = SharedSegment<Block>::kBytes;  ///< for staticrt/footprint.hpp

    constexpr SharedArray() noexcept = default;

    /// Creates the segment; every element starts as `initial`.
    [[nodiscard]] Result<void> create(const char* name, const T& initial = T{}) noexcept {
        auto r = m_seg.create(name);
        if (!r) return r;
        for (auto& v : m_seg->values) v = initial;
        return ok();
    }
    /// Errc::permission_denied: another user's segment or one others may write (platform::OpenCheck).
    [[nodiscard]] Result<void> open(const char* name, Deadline deadline = Deadline::poll(),
                                    platform::OpenCheck check = platform::OpenCheck::owner_and_mode) noexcept {
        return m_seg.open(name, deadline, check);
    }
    void close() noexcept { m_seg.close(); }
    [[nodiscard]] bool is_open() const noexcept { return m_seg.is_open(); }
    [[nodiscard]] SharedSegment<Block>& segment() noexcept { return m_seg; }

    /// The lock that guards compound updates.
    [[nodiscard]] ProcessMutex& get_lock() const noexcept { return m_seg->lock; }
    /// Element i; hold get_lock() (or use only atomic calls) while other processes write.
    [[nodiscard]] T& operator[](std::size_t i) const noexcept { return m_seg->values[i]; }
    [[nodiscard]] std::span<T, N> span() const noexcept { return std::span<T, N>(m_seg->values); }
    [[nodiscard]] static constexpr std::size_t size() noexcept { return N; }

    /// Takes the lock until `deadline`; see ProcessMutexGuard (owner_died: held, repair, mark_consistent()).
    [[nodiscard]] ProcessMutexGuard guard(Deadline deadline = Deadline::never()) const noexcept {
        return ProcessMutexGuard(get_lock(), deadline);
    }
    /// Element i, reporting: Errc::owner_died (a lock holder died and nobody marked the state
    /// consistent: no value is returned, repair under guard()), Errc::timeout. Lock-free T: always ok.
    [[nodiscard]] Result<T> load(std::size_t i, Deadline deadline) const noexcept {
        if constexpr (kLockFree) {
            return load(i);
        } else {
            ProcessMutexGuard g(get_lock(), deadline);
            if (!g.status()) return unexpected(g.status().error());
            return Result<T>(m_seg->values[i]);
        }
    }
    /// Stores v into element i, reporting as load(i, Deadline); on an error nothing is stored.
    [[nodiscard]] Result<void> store(std::size_t i, const T& v, Deadline deadline) const noexcept {
        if constexpr (kLockFree) {
            store(i, v);
            return ok();
        } else {
            ProcessMutexGuard g(get_lock(), deadline);
            if (!g.status()) return g.status();
            m_seg->values[i] = v;
            return ok();
        }
    }

    [[nodiscard]] T load(std::size_t i) const noexcept {
        if constexpr (kLockFree) {
            // [sv.load] acquire: pairs with [sv.store] / [sv.rmw].
            return std::atomic_ref<T>(m_seg->values[i]).load(std::memory_order_acquire);
        } else {
            std::lock_guard g(get_lock());
            return m_seg->values[i];
        }
    }
    void store(std::size_t i, const T& v) const noexcept {
        if constexpr (kLockFree) {
            // [sv.store] release: pairs with [sv.load].
            std::atomic_ref<T>(m_seg->values[i]).store(v, std::memory_order_release);
        } else {
            std::lock_guard g(get_lock());
            m_seg->values[i] = v;
        }
    }
    /// Adds `d`, returns the previous value (integral T; lock-free where possible).
    T fetch_add(std::size_t i, T d) const noexcept
        requires std::is_integral_v<T>
    {
        if constexpr (kLockFree) {
            // [sv.rmw] acq_rel: pairs with other [sv.rmw], [sv.load].
            return std::atomic_ref<T>(m_seg->values[i]).fetch_add(d, std::memory_order_acq_rel);
        } else {
            std::lock_guard g(get_lock());
            const T old = m_seg->values[i];
            m_seg->values[i] = static_cast<T>(old + d);
            return old;
        }
    }

private:
    SharedSegment<Block> m_seg;
};

template <class T>
class SharedValue {
public:
    static constexpr bool kLockFree = SharedArray<T, 1>::kLockFree;
    static constexpr std::size_t shared_bytes = SharedArray<T, 1>::shared_bytes;  ///< for staticrt/footprint.hpp

    [[nodiscard]] Result<void> create(const char* name, const T& initial = T{}) noexcept { return m_a.create(name, initial); }
    [[nodiscard]] Result<void> open(const char* name, Deadline deadline = Deadline::poll(),
                                    platform::OpenCheck check = platform::OpenCheck::owner_and_mode) noexcept {
        return m_a.open(name, deadline, check);
    }
    void close() noexcept { m_a.close(); }
    [[nodiscard]] bool is_open() const noexcept { return m_a.is_open(); }

    [[nodiscard]] ProcessMutex& get_lock() const noexcept { return m_a.get_lock(); }
    /// The value itself; hold get_lock() while other processes may write it.
    [[nodiscard]] T& value() const noexcept { return m_a[0]; }
    [[nodiscard]] T load() const noexcept { return m_a.load(0); }
    void store(const T& v) const noexcept { m_a.store(0, v); }
    /// Checked forms: Errc::owner_died / Errc::timeout (see SharedArray::load(i, Deadline)).
    [[nodiscard]] Result<T> load(Deadline deadline) const noexcept { return m_a.load(0, deadline); }
    [[nodiscard]] Result<void> store(const T& v, Deadline deadline) const noexcept { return m_a.store(0, v, deadline); }
    /// Takes the lock until `deadline` (ProcessMutexGuard).
    [[nodiscard]] ProcessMutexGuard guard(Deadline deadline = Deadline::never()) const noexcept { return m_a.guard(deadline); }
    [[nodiscard]] bool is_consistent() const noexcept { return get_lock().is_consistent(); }
    T fetch_add(T d) const noexcept
        requires std::is_integral_v<T>
    {
        return m_a.fetch_add(0, d);
    }

private:
    SharedArray<T, 1> m_a;
};

}  // namespace staticrt::ipc
