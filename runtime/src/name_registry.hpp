// SPDX-License-Identifier: MIT
// runtime/src/name_registry.hpp — a fixed table of (name, function pointer) pairs that threads
// add to without a lock and look up from any thread: the entry-point registry
// (ipc::register_entry) and the pool-function registry (ipc::register_pool_function).
//
// Not installed: only runtime/src/*.cpp include it. Names are not copied: a name must outlive
// the process (a string literal). Entries are never removed.
//
// Memory ordering: add() claims a slot with a relaxed fetch_add, writes name and function, then
// publishes the slot with a release store of `ready`; find() loads `ready` with acquire before
// reading the name ([registry.publish] / [registry.lookup] in docs/memory-ordering.md).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "staticrt/result.hpp"

namespace staticrt::detail {

template <class Fn, std::size_t Capacity, std::size_t MaxName>
class NameRegistry {
public:
    constexpr NameRegistry() noexcept = default;
    NameRegistry(const NameRegistry&) = delete;
    NameRegistry& operator=(const NameRegistry&) = delete;

    /// Adds `name` -> `fn`. Errc::invalid_argument: null or empty name, a name longer than
    /// MaxName, a null fn, or a name already added; Errc::exhausted: Capacity names added.
    [[nodiscard]] Result<void> add(const char* name, Fn fn) noexcept {
        if (name == nullptr || fn == nullptr || name[0] == '\0' || std::strlen(name) > MaxName)
            return unexpected(Errc::invalid_argument);
        if (find(name) != nullptr) return unexpected(Errc::invalid_argument);
        // [registry.claim] relaxed: only hands out distinct slots; publication is [registry.publish].
        const std::uint32_t i = m_count.fetch_add(1, std::memory_order_relaxed);
        if (i >= Capacity) {
            m_count.fetch_sub(1, std::memory_order_relaxed);  // [registry.claim] relaxed
            return unexpected(Errc::exhausted);
        }
        m_slots[i].name = name;
        m_slots[i].fn = fn;
        // [registry.publish] release: makes name/fn visible; pairs with [registry.lookup].
        m_slots[i].ready.store(1, std::memory_order_release);
        return ok();
    }

    /// The function added under `name`; nullptr when there is none (or name is null).
    [[nodiscard]] Fn find(const char* name) const noexcept {
        if (name == nullptr) return nullptr;
        for (const Slot& s : m_slots) {
            // [registry.lookup] acquire: pairs with [registry.publish].
            if (s.ready.load(std::memory_order_acquire) == 1 && std::strcmp(s.name, name) == 0) return s.fn;
        }
        return nullptr;
    }

private:
    struct Slot {
        const char* name = nullptr;
        Fn fn = nullptr;
        std::atomic<std::uint32_t> ready{0};  ///< 1 once name/fn are written
    };
    Slot m_slots[Capacity] = {};
    std::atomic<std::uint32_t> m_count{0};
};

}  // namespace staticrt::detail
