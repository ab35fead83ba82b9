// SPDX-License-Identifier: MIT
// staticrt/ipc/shared_dict.hpp — SharedDict<Key, Value, N>: a fixed-capacity dictionary shared by
// processes (multiprocessing.Manager().dict(), without a manager process).
//
// The whole table lives inside the object: put it in shared memory (SharedSegment, or inside your
// own shared struct); it is position-independent. Up to N entries, open addressing (linear probing
// over a power-of-two table of about 1.5 N slots), guarded by a robust ProcessMutex. Keys and values
// are trivially copyable; keys are hashed and compared byte by byte, so a Key must have no padding
// (integers, enums, FixedString<M> for text). Every call that takes the lock takes a Deadline.
//
// Faults: a process that dies inside a call is noticed by the next caller, which gets
// Errc::owner_died once the table is repaired: the dead call's change is undone or completed
// (an assignment is rolled back from an undo record, a half-written new entry is dropped, the
// count recounted), never half-applied, and entries stored before are kept. Retry the call. A table scribbled by a buggy peer gives Errc::corrupted, never
// an out-of-bounds access (indices are computed locally, never read from shared memory).
//
// Thread roles: any thread of any process that maps it. Memory ordering: every call runs under the
// lock, so everything a call wrote is visible to the next call that takes it; size() is a relaxed
// read of a counter and may lag behind a concurrent call.
//
//   staticrt::ipc::SharedSegment<staticrt::ipc::SharedDict<staticrt::FixedString<15>, int, 64>> d;
//   (void)d.create("app-dict");  d->insert("apples", 3);  auto v = d->get("apples");  // 3
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <type_traits>

#include "staticrt/fixed_string.hpp"
#include "staticrt/ipc/process_mutex.hpp"
#include "staticrt/platform/result.hpp"
#include "staticrt/platform/time.hpp"

namespace staticrt::detail {
template <bool KeyCopyable, bool ValueCopyable, bool KeyUnique>
struct SharedDictTypesOk {
    static_assert(KeyCopyable,
                  "SharedDict<Key, Value, N>: Key must be trivially copyable to live in shared memory "
                  "(for text use staticrt::FixedString<N>, not std::string)");
    static_assert(ValueCopyable,
                  "SharedDict<Key, Value, N>: Value must be trivially copyable to live in shared memory "
                  "(plain data, no pointers or std::string)");
    static_assert(KeyUnique,
                  "SharedDict<Key, Value, N>: Key must have no padding bits (it is hashed and compared "
                  "byte by byte); use integers, enums, FixedString<N> or a struct without padding");
    static constexpr bool value = true;
};

/// FNV-1a over the bytes, then a murmur3 finaliser so low bits spread.
[[nodiscard]] inline std::uint32_t hash_bytes(const void* p, std::size_t n) noexcept {
    const auto* b = static_cast<const unsigned char*>(p);
    std::uint32_t h = 2166136261u;
    for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 16777619u;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}
}  // namespace staticrt::detail

namespace staticrt::ipc {

template <class Key, class Value, std::size_t N>
class SharedDict {
    static_assert(detail::SharedDictTypesOk<std::is_trivially_copyable_v<Key>, std::is_trivially_copyable_v<Value>,
                                            std::has_unique_object_representations_v<Key>>::value);
    static_assert(N > 0, "SharedDict<Key, Value, N>: N (the capacity) must be at least 1");
    static_assert(N <= (std::size_t{1} << 28), "SharedDict<Key, Value, N>: N is too large (at most 2^28)");

public:
    static constexpr std::size_t kCapacity = N;
    /// Table slots: a power of two of at least 1.5 N (+1 so a probe always meets a free slot).
    static constexpr std::uint32_t kSlots = static_cast<std::uint32_t>(std::bit_ceil(N + N / 2 + 1));

    /// One key and its value (what snapshot() copies out).
    struct Entry {
        Key key;
        Value value;
    };

    // ---- lifetime: construct once, in the process that creates the shared memory
    SharedDict() noexcept = default;
    SharedDict(const SharedDict&) = delete;
    SharedDict& operator=(const SharedDict&) = delete;
    ~SharedDict() = default;  ///< call only when no process uses it any more

    // ---- calls under the lock (Errc::timeout, Errc::owner_died (repaired: retry), Errc::corrupted,
    //      Errc::broken, Errc::invalid_argument (this thread already holds the lock))
    /// d[key] = value: inserts or assigns. Returns true when the key was new.
    /// Errc::full: the key is new and N entries are stored.
    Result<bool> insert(const Key& key, const Value& value, Deadline deadline = Deadline::never()) noexcept;
    /// Inserts only when absent (dict.setdefault); returns the value now stored.
    Result<Value> setdefault(const Key& key, const Value& value, Deadline deadline = Deadline::never()) noexcept;
    /// d.get(key): the value, or std::nullopt when absent.
    Result<std::optional<Value>> get(const Key& key, Deadline deadline = Deadline::never()) const noexcept;
    /// key in d.
    Result<bool> contains(const Key& key, Deadline deadline = Deadline::never()) const noexcept;
    /// del d[key]: true when it was present.
    Result<bool> erase(const Key& key, Deadline deadline = Deadline::never()) noexcept;
    /// Atomic read-modify-write: inserts `initial` when absent, then calls f(Value&) under the lock
    /// (keep it short; it must not take this dict's lock) and returns the new value.
    /// d[k] = d.get(k, initial) + 1, as one step: update(k, 0, [](int& v) noexcept { ++v; }).
    template <class F>
    Result<Value> update(const Key& key, const Value& initial, F&& f, Deadline deadline = Deadline::never()) noexcept;
    /// Copies up to out.size() entries (in table order) and returns how many: a consistent
    /// snapshot to iterate over (dict.items()). Pass a span of kCapacity entries to get all.
    Result<std::size_t> snapshot(std::span<Entry> out, Deadline deadline = Deadline::never()) const noexcept;
    /// Removes every entry.
    Result<void> clear(Deadline deadline = Deadline::never()) noexcept;

    // ---- observers (no lock)
    /// len(d), read without the lock. Errc::corrupted: the counter exceeds N.
    [[nodiscard]] Result<std::size_t> size() const noexcept {
        // [dict.count] relaxed: a snapshot of a counter written under the lock.
        const std::uint32_t n = m_count.load(std::memory_order_relaxed);
        if (n > N) return unexpected(Errc::corrupted);
        return std::size_t{n};
    }
    [[nodiscard]] static constexpr std::size_t capacity() noexcept { return N; }
    /// How many times a caller found a dead owner's lock and repaired the table.
    [[nodiscard]] std::uint32_t repairs() const noexcept {
        return m_repairs.load(std::memory_order_relaxed);  // [dict.repairs] relaxed: a statistic
    }

private:
    static constexpr std::uint32_t kMagic = 0x53444354u;  // "SDCT"
    static constexpr std::uint32_t kMask = kSlots - 1;
    static constexpr std::uint32_t kNone = 0xffffffffu;
    enum : std::uint32_t { kEmpty = 0, kFull = 1, kErased = 2, kWriting = 3 };

    struct Slot {
        // Written under the lock; atomic so the crash-order stores below are real stores.
        std::atomic<std::uint32_t> state{kEmpty};
        Key key{};
        Value value{};
    };
    struct Probe {
        std::uint32_t found = kNone;  ///< the key's slot
        std::uint32_t free = kNone;   ///< the first erased/empty slot on the way
    };

    /// Takes the lock; on owner_died repairs the table, releases it and reports owner_died.
    Result<void> acquire(Deadline deadline) const noexcept;
    void release() const noexcept { m_lock.unlock(); }
    [[nodiscard]] bool header_ok() const noexcept {
        return m_magic == kMagic && m_slots_n == kSlots && m_count.load(std::memory_order_relaxed) <= N;
    }
    [[nodiscard]] Result<Probe> probe(const Key& key) const noexcept;
    void repair() const noexcept;
    /// A new entry into free slot i in crash order: kWriting, data, kFull.
    void write_new(std::uint32_t i, const Key& key, const Value& value) const noexcept;
    /// A new value for full slot i: the old one is saved in the undo record first.
    void assign(std::uint32_t i, const Value& value) const noexcept;
    void erase_slot(std::uint32_t i) const noexcept;
    [[nodiscard]] std::uint32_t state_of(std::uint32_t i) const noexcept {
        // [dict.state] relaxed: under the lock (the lock orders it between holders).
        return m_slots[i].state.load(std::memory_order_relaxed);
    }
    static std::uint32_t home(const Key& key) noexcept { return detail::hash_bytes(&key, sizeof(Key)) & kMask; }
    static bool same(const Key& a, const Key& b) noexcept { return std::memcmp(&a, &b, sizeof(Key)) == 0; }

    // Everything below is shared memory: read as untrusted input. mutable: const calls lock.
    mutable ProcessMutex m_lock;
    std::uint32_t m_magic = kMagic;
    std::uint32_t m_slots_n = kSlots;
    mutable std::atomic<std::uint32_t> m_count{0};
    mutable std::atomic<std::uint32_t> m_repairs{0};
    mutable Slot m_slots[kSlots];
    // The undo record of an assignment in progress (one holder at a time): repair() restores it.
    mutable std::atomic<std::uint32_t> m_undo_valid{0};
    mutable std::uint32_t m_undo_slot = 0;
    mutable Value m_undo_value{};
};

// ---------------------------------------------------------------------------------------------
// Template bodies.

template <class K, class V, std::size_t N>
Result<void> SharedDict<K, V, N>::acquire(Deadline deadline) const noexcept {
    auto r = m_lock.lock(deadline);
    if (r) {
        if (header_ok()) return ok();
        release();
        return unexpected(Errc::corrupted);
    }
    if (r.code() != Errc::owner_died) return r;
    // A holder died mid-call: drop its half-written entry, recount, and hand back a sound table.
    repair();
    (void)m_lock.mark_consistent();
    release();
    return unexpected(Errc::owner_died);
}

template <class K, class V, std::size_t N>
void SharedDict<K, V, N>::repair() const noexcept {
    // relaxed loads/stores: under the lock ([dict.state]).
    if (m_undo_valid.load(std::memory_order_relaxed) != 0) {
        const std::uint32_t i = m_undo_slot;
        if (i < kSlots) {  // validated: shared memory
            std::memcpy(&m_slots[i].value, &m_undo_value, sizeof(V));
            m_slots[i].state.store(kFull, std::memory_order_relaxed);
        }
        std::atomic_signal_fence(std::memory_order_seq_cst);  // [dict.crash]
        m_undo_valid.store(0, std::memory_order_relaxed);
    }
    std::uint32_t n = 0;
    for (std::uint32_t i = 0; i < kSlots; ++i) {
        const std::uint32_t s = state_of(i);
        if (s == kFull) {
            ++n;
        } else if (s != kEmpty && s != kErased) {
            // kWriting (the dead holder's entry) or garbage: dropped. relaxed: under the lock.
            m_slots[i].state.store(kErased, std::memory_order_relaxed);
        }
    }
    // n > N (more full slots than the capacity) only in a scribbled table: header_ok() then
    // fails, and every later call reports Errc::corrupted.
    m_count.store(n, std::memory_order_relaxed);      // [dict.count] relaxed: under the lock
    m_repairs.fetch_add(1, std::memory_order_relaxed);  // [dict.repairs] relaxed: a statistic
}

template <class K, class V, std::size_t N>
auto SharedDict<K, V, N>::probe(const K& key) const noexcept -> Result<Probe> {
    Probe p;
    std::uint32_t i = home(key);
    for (std::uint32_t n = 0; n < kSlots; ++n, i = (i + 1) & kMask) {
        const std::uint32_t s = state_of(i);
        if (s == kEmpty) {
            if (p.free == kNone) p.free = i;
            return p;
        }
        if (s == kErased) {
            if (p.free == kNone) p.free = i;
        } else if (s == kFull) {
            if (same(m_slots[i].key, key)) {
                p.found = i;
                return p;
            }
        } else {
            return unexpected(Errc::corrupted);  // kWriting outside a call, or garbage
        }
    }
    return p;
}

template <class K, class V, std::size_t N>
void SharedDict<K, V, N>::write_new(std::uint32_t i, const K& key, const V& value) const noexcept {
    Slot& s = m_slots[i];
    // [dict.crash] relaxed + signal fences: the lock orders these stores between live holders; the
    // fences keep them in program order, so a holder that dies (like a signal at any instruction)
    // leaves kWriting on a half-written slot, which repair() drops.
    s.state.store(kWriting, std::memory_order_relaxed);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    std::memcpy(&s.key, &key, sizeof(K));
    std::memcpy(&s.value, &value, sizeof(V));
    std::atomic_signal_fence(std::memory_order_seq_cst);
    s.state.store(kFull, std::memory_order_relaxed);
}

template <class K, class V, std::size_t N>
void SharedDict<K, V, N>::assign(std::uint32_t i, const V& value) const noexcept {
    // [dict.crash] as in write_new(): undo record, then the value, then the record is retired; a
    // holder dying in between leaves a valid record that repair() rolls back.
    m_undo_slot = i;
    std::memcpy(&m_undo_value, &m_slots[i].value, sizeof(V));
    std::atomic_signal_fence(std::memory_order_seq_cst);
    m_undo_valid.store(1, std::memory_order_relaxed);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    std::memcpy(&m_slots[i].value, &value, sizeof(V));
    std::atomic_signal_fence(std::memory_order_seq_cst);
    m_undo_valid.store(0, std::memory_order_relaxed);
}

template <class K, class V, std::size_t N>
void SharedDict<K, V, N>::erase_slot(std::uint32_t i) const noexcept {
    // relaxed stores: under the lock ([dict.state]). One store removes the entry (crash-atomic).
    m_slots[i].state.store(kErased, std::memory_order_relaxed);
    m_count.store(m_count.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    // Tidy: a run of erased slots followed by an empty one is not on any probe path: empty it.
    if (state_of((i + 1) & kMask) == kEmpty) {
        for (std::uint32_t n = 0; n < kSlots && state_of(i) == kErased; ++n, i = (i - 1) & kMask)
            m_slots[i].state.store(kEmpty, std::memory_order_relaxed);
    }
}

template <class K, class V, std::size_t N>
Result<bool> SharedDict<K, V, N>::insert(const K& key, const V& value, Deadline deadline) noexcept {
    if (auto r = acquire(deadline); !r) return unexpected(r.error());
    Result<bool> out = false;
    if (auto p = probe(key); !p) {
        out = unexpected(p.error());
    } else if (p->found != kNone) {
        assign(p->found, value);
    } else if (m_count.load(std::memory_order_relaxed) >= N || p->free == kNone) {
        out = unexpected(Errc::full);
    } else {
        write_new(p->free, key, value);
        m_count.store(m_count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);  // [dict.count]
        out = true;
    }
    release();
    return out;
}

template <class K, class V, std::size_t N>
template <class F>
Result<V> SharedDict<K, V, N>::update(const K& key, const V& initial, F&& f, Deadline deadline) noexcept {
    static_assert(std::is_nothrow_invocable_v<F&, V&>, "SharedDict::update: f must be callable as f(Value&) noexcept");
    if (auto r = acquire(deadline); !r) return unexpected(r.error());
    Result<V> out = unexpected(Errc::full);
    if (auto p = probe(key); !p) {
        out = unexpected(p.error());
    } else if (p->found != kNone || (m_count.load(std::memory_order_relaxed) < N && p->free != kNone)) {
        const bool fresh = p->found == kNone;
        const std::uint32_t i = fresh ? p->free : p->found;
        V v = fresh ? initial : m_slots[i].value;
        f(v);
        if (fresh) write_new(i, key, v);
        else assign(i, v);
        if (fresh) m_count.store(m_count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        out = v;
    }
    release();
    return out;
}

template <class K, class V, std::size_t N>
Result<V> SharedDict<K, V, N>::setdefault(const K& key, const V& value, Deadline deadline) noexcept {
    return update(key, value, [](V&) noexcept {}, deadline);
}

template <class K, class V, std::size_t N>
Result<std::optional<V>> SharedDict<K, V, N>::get(const K& key, Deadline deadline) const noexcept {
    if (auto r = acquire(deadline); !r) return unexpected(r.error());
    Result<std::optional<V>> out = std::optional<V>{};
    if (auto p = probe(key); !p) out = unexpected(p.error());
    else if (p->found != kNone) out = std::optional<V>{m_slots[p->found].value};
    release();
    return out;
}

template <class K, class V, std::size_t N>
Result<bool> SharedDict<K, V, N>::contains(const K& key, Deadline deadline) const noexcept {
    if (auto r = acquire(deadline); !r) return unexpected(r.error());
    auto p = probe(key);
    release();
    if (!p) return unexpected(p.error());
    return p->found != kNone;
}

template <class K, class V, std::size_t N>
Result<bool> SharedDict<K, V, N>::erase(const K& key, Deadline deadline) noexcept {
    if (auto r = acquire(deadline); !r) return unexpected(r.error());
    Result<bool> out = false;
    if (auto p = probe(key); !p) {
        out = unexpected(p.error());
    } else if (p->found != kNone) {
        erase_slot(p->found);
        out = true;
    }
    release();
    return out;
}

template <class K, class V, std::size_t N>
Result<std::size_t> SharedDict<K, V, N>::snapshot(std::span<Entry> out, Deadline deadline) const noexcept {
    if (auto r = acquire(deadline); !r) return unexpected(r.error());
    std::size_t n = 0;
    bool bad = false;
    for (std::uint32_t i = 0; i < kSlots && n < out.size(); ++i) {
        const std::uint32_t s = state_of(i);
        if (s == kFull) {
            std::memcpy(&out[n].key, &m_slots[i].key, sizeof(K));
            std::memcpy(&out[n].value, &m_slots[i].value, sizeof(V));
            ++n;
        } else if (s != kEmpty && s != kErased) {
            bad = true;
            break;
        }
    }
    release();
    if (bad) return unexpected(Errc::corrupted);
    return n;
}

template <class K, class V, std::size_t N>
Result<void> SharedDict<K, V, N>::clear(Deadline deadline) noexcept {
    if (auto r = acquire(deadline); !r) return r;
    // relaxed: under the lock ([dict.state]). Full slots first become erased, then everything
    // empty: a holder dying at any point leaves a table without unreachable entries, which
    // repair() recounts. The signal fence keeps the two passes in order ([dict.crash]).
    for (std::uint32_t i = 0; i < kSlots; ++i)
        if (state_of(i) == kFull) m_slots[i].state.store(kErased, std::memory_order_relaxed);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    for (std::uint32_t i = 0; i < kSlots; ++i) m_slots[i].state.store(kEmpty, std::memory_order_relaxed);
    m_count.store(0, std::memory_order_relaxed);
    release();
    return ok();
}

}  // namespace staticrt::ipc
