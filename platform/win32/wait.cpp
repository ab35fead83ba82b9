// SPDX-License-Identifier: MIT
// Win32 wait-on-address.
//
// WaitScope::process_private: WaitOnAddress / WakeByAddressSingle / WakeByAddressAll. Its timeout
// is relative, in milliseconds, on the interrupt-time clock, and it may return early or
// spuriously: each round re-computes the time left to the Deadline on the monotonic clock,
// rounded UP to a whole millisecond, so Errc::timeout is only reported once the deadline has
// passed on Instant::now().
//
// WaitScope::process_shared: WaitOnAddress only sees threads of its own process, so a word in a
// staticrt shared-memory segment is parked on through a PARKING TABLE shared by every staticrt
// process of the session (a named section, "Local\staticrt-parking-v1", zero-filled = empty):
//  - a word is named by (segment identity, offset in the segment) — shared_memory.cpp keeps the
//    table of this process's mappings — so the name is the same in every process whatever
//    address its view got (position-independent);
//  - a waiter (with its auto-reset event "Local\staticrt-park-<pid>-<tid>", made on the thread's
//    first such wait and closed when the thread exits) claims a slot of the table (key, pid,
//    tid), publishes it as `waiting`, issues a seq_cst fence, re-checks the word, and only then
//    sleeps on its event (WaitForSingleObject with the deadline);
//  - a waker (after the caller changed the word) issues a seq_cst fence, scans the slots of the
//    word's bucket (and the overflow area) for `waiting` slots with the word's key, moves each
//    to `woken` with a CAS and signals that thread's event by name (OpenEvent + SetEvent);
//    wake_one stops after the first thread it signalled.
// The two fences make the Dekker pair "publish slot / re-check word" vs "change word / scan
// slots": at least one side sees the other, so no wake-up is lost (docs/memory-ordering.md,
// "platform (Win32)"). A waiter whose process died leaves its slot behind; the event it owned
// died with it, so a waker that cannot open the event frees the slot and wakes the next waiter,
// and a waiter that finds no free slot frees such slots first. When every slot is taken the
// wait fails with Errc::exhausted. No heap: the table is static shared memory, slots are fixed.
//
// A process_shared word that is NOT inside a staticrt segment (a process-shared primitive kept
// in ordinary memory, or memory shared by means staticrt does not know) is waited on with
// WaitOnAddress — woken at once by a waker of the same process — whose rounds are capped at
// 1, 2, 4 ... 64 ms so that a change made by another process is still seen, late but without
// busy polling.
#include "win32_detail.hpp"

#include <cstdio>

#include "staticrt/platform/wait.hpp"

namespace staticrt::platform {
namespace {

void* addr(const std::atomic<std::uint32_t>& word) noexcept {
    // The wait word is the atomic's object representation (size and lock-freedom checked in wait.hpp).
    return const_cast<std::atomic<std::uint32_t>*>(&word);
}

// ------------------------------------------------------------------ the parking table

constexpr std::size_t kBuckets = 64;
constexpr std::size_t kBucketSlots = 16;
constexpr std::size_t kOverflowSlots = 256;
constexpr char kTableName[] = "Local\\staticrt-parking-v1";

// Slot state: low 2 bits of `ctl`; the rest counts claims (so a CAS from a stale read fails).
constexpr std::uint32_t kFree = 0;
constexpr std::uint32_t kClaimed = 1;
constexpr std::uint32_t kWaiting = 2;
constexpr std::uint32_t kWoken = 3;
constexpr std::uint32_t state_of(std::uint32_t ctl) noexcept { return ctl & 3u; }
constexpr std::uint32_t with_state(std::uint32_t ctl, std::uint32_t st) noexcept { return (ctl & ~3u) | st; }

struct Slot {
    std::atomic<std::uint32_t> ctl;
    std::atomic<std::uint32_t> pid;
    std::atomic<std::uint64_t> key;
    std::atomic<std::uint32_t> tid;
    std::uint32_t reserved;
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free && std::atomic<std::uint32_t>::is_always_lock_free,
              "the parking table needs lock-free atomics (they are shared between processes)");

template <std::size_t N>
struct Region {
    alignas(64) std::atomic<std::uint32_t> parked;  ///< slots of this region not free (a hint for wakers)
    Slot slots[N];
};

struct Table {
    Region<kBucketSlots> buckets[kBuckets];
    Region<kOverflowSlots> overflow;
};
static_assert(sizeof(Slot) == 24 && sizeof(Table) == 34'880,
              "the parking table is a cross-process format: change kTableName's version with its layout");

constinit std::atomic<Table*> g_table{nullptr};

// Maps the session's parking table (creating it zero-filled if no process has it yet).
Table* table(Error& error) noexcept {
    // [park.table] acquire: pairs with the acq_rel CAS below that published the view.
    Table* t = g_table.load(std::memory_order_acquire);
    if (t != nullptr) return t;
    HANDLE h = ::CreateFileMappingA(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE, 0, static_cast<DWORD>(sizeof(Table)),
                                    kTableName);
    if (h == nullptr) {
        error = win32::last_error();
        return nullptr;
    }
    void* view = ::MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, sizeof(Table));
    if (view == nullptr) {
        error = win32::last_error();
        ::CloseHandle(h);
        return nullptr;
    }
    Table* expected = nullptr;
    // [park.table] acq_rel: publishes the view; a loser unmaps its own and uses the winner's.
    if (g_table.compare_exchange_strong(expected, static_cast<Table*>(view), std::memory_order_acq_rel,
                                        std::memory_order_acquire))
        return static_cast<Table*>(view);  // `h` stays open for the life of the process: wine drops
                                           // a section's name with its last handle, views or not
    ::UnmapViewOfFile(view);
    ::CloseHandle(h);
    return expected;
}

std::uint64_t key_of(const win32::SharedWordKey& k) noexcept {
    std::uint64_t x = k.segment ^ (k.offset * 0x9E37'79B9'7F4A'7C15ull);
    x ^= x >> 31;
    x *= 0xBF58'476D'1CE4'E5B9ull;
    x ^= x >> 29;
    return x;
}

void event_name(std::uint32_t pid, std::uint32_t tid, char (&out)[64]) noexcept {
    std::snprintf(out, sizeof out, "Local\\staticrt-park-%lu-%lu", static_cast<unsigned long>(pid),
                  static_cast<unsigned long>(tid));
}

// Signals the parked thread (pid, tid). false: its event is gone, i.e. the thread left its wait
// for good (its process died, or it is just leaving after another wake-up).
bool signal(std::uint32_t pid, std::uint32_t tid) noexcept {
    char name[64];
    event_name(pid, tid, name);
    HANDLE h = ::OpenEventA(EVENT_MODIFY_STATE, FALSE, name);
    if (h == nullptr) return false;
    ::SetEvent(h);
    ::CloseHandle(h);
    return true;
}

template <std::size_t N>
Slot* claim_in(Region<N>& r, std::uint64_t key, std::uint32_t pid, std::uint32_t tid) noexcept {
    for (Slot& s : r.slots) {
        std::uint32_t c = s.ctl.load(std::memory_order_relaxed);
        if (state_of(c) != kFree) continue;
        // [park.claim] acquire: takes the slot; the bumped count makes stale CASes of wakers fail.
        if (!s.ctl.compare_exchange_strong(c, with_state(c + 4, kClaimed), std::memory_order_acquire,
                                           std::memory_order_relaxed))
            continue;
        s.key.store(key, std::memory_order_relaxed);
        s.pid.store(pid, std::memory_order_relaxed);
        s.tid.store(tid, std::memory_order_relaxed);
        // [park.count] relaxed: ordered before the re-check by the fence in park().
        r.parked.fetch_add(1, std::memory_order_relaxed);
        // [park.publish] release: key/pid/tid are visible to a waker that reads `waiting`
        // ([park.scan]); the seq_cst fence in park() orders it before the re-check of the word.
        s.ctl.store(with_state(c + 4, kWaiting), std::memory_order_release);
        return &s;
    }
    return nullptr;
}

// Frees slots whose owner is gone (claimed or waiting, but the owner's event no longer exists).
template <std::size_t N>
void reap_in(Region<N>& r) noexcept {
    for (Slot& s : r.slots) {
        std::uint32_t c = s.ctl.load(std::memory_order_acquire);
        const std::uint32_t st = state_of(c);
        if (st != kClaimed && st != kWaiting) continue;
        char name[64];
        event_name(s.pid.load(std::memory_order_relaxed), s.tid.load(std::memory_order_relaxed), name);
        HANDLE h = ::OpenEventA(SYNCHRONIZE, FALSE, name);
        if (h != nullptr) {
            ::CloseHandle(h);
            continue;
        }
        // [park.reap] acq_rel: only if nobody changed the slot since we read it.
        if (s.ctl.compare_exchange_strong(c, with_state(c, kFree), std::memory_order_acq_rel, std::memory_order_relaxed))
            r.parked.fetch_sub(1, std::memory_order_relaxed);
    }
}

// The waiter leaves its slot (waiting or woken -> free). Returns true when a waker had woken it.
bool leave(Slot& s, std::atomic<std::uint32_t>& parked) noexcept {
    // [park.leave] acquire: a waker's [park.wake] CAS is seen (the only other writer while our
    // event exists); the new state is free for the next claimer.
    std::uint32_t c = s.ctl.load(std::memory_order_acquire);
    for (;;) {
        const std::uint32_t st = state_of(c);
        if (st == kFree) return true;  // not reachable while our event exists; be safe
        if (s.ctl.compare_exchange_weak(c, with_state(c, kFree), std::memory_order_acq_rel, std::memory_order_acquire)) {
            parked.fetch_sub(1, std::memory_order_relaxed);
            return st == kWoken;
        }
    }
}

// Each thread's park event, created on its first process-shared wait and kept until the thread
// exits. A kept event may carry the signal of a waker that came late for an earlier wait: the
// next wait then returns at once, a spurious return callers allow.
constinit win32::ThreadKeptHandle g_park_event;

HANDLE create_park_event(std::uint32_t pid, std::uint32_t tid) noexcept {
    char name[64];
    event_name(pid, tid, name);
    // Auto-reset. If a waker still holds an earlier object of this name open, we get that object
    // back, maybe signalled: one spurious return.
    return ::CreateEventA(nullptr, FALSE, FALSE, name);
}

// The calling thread's kept event; nullptr when none can be kept (the caller then makes one for
// this wait only and closes it after).
HANDLE thread_park_event(std::uint32_t pid, std::uint32_t tid) noexcept {
    return g_park_event.get([pid, tid] { return create_park_event(pid, tid); });
}

Result<void> park(const win32::SharedWordKey& wk, const std::atomic<std::uint32_t>& word, std::uint32_t expected,
                  Deadline deadline) noexcept {
    Error error{Errc::os_error, 0};
    Table* t = table(error);
    if (t == nullptr) return unexpected(error);
    const std::uint64_t key = key_of(wk);
    const auto pid = static_cast<std::uint32_t>(::GetCurrentProcessId());
    const auto tid = static_cast<std::uint32_t>(::GetCurrentThreadId());
    HANDLE ev = thread_park_event(pid, tid);
    const bool owned = ev == nullptr;  // not kept: an event for this wait only
    if (owned) ev = create_park_event(pid, tid);
    if (ev == nullptr) return unexpected(win32::last_error());

    auto& bucket = t->buckets[key % kBuckets];
    std::atomic<std::uint32_t>* parked = &bucket.parked;
    Slot* s = claim_in(bucket, key, pid, tid);
    if (s == nullptr) {
        parked = &t->overflow.parked;
        s = claim_in(t->overflow, key, pid, tid);
    }
    if (s == nullptr) {  // full: free slots of dead processes, then try once more
        reap_in(bucket);
        reap_in(t->overflow);
        parked = &bucket.parked;
        s = claim_in(bucket, key, pid, tid);
        if (s == nullptr) {
            parked = &t->overflow.parked;
            s = claim_in(t->overflow, key, pid, tid);
        }
    }
    if (s == nullptr) {
        if (owned) ::CloseHandle(ev);
        return unexpected(Errc::exhausted);
    }

    // [park.fence] seq_cst: orders [park.publish] before the re-check below; pairs with
    // [wake.fence] (Dekker: the waker changes the word, fences, then scans the slots).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    Result<void> out = ok();
    // [park.recheck] relaxed: after the fence; decides only whether to sleep.
    if (word.load(std::memory_order_relaxed) == expected) {
        for (;;) {
            const DWORD ms = win32::timeout_ms(deadline);
            const DWORD r = ms == 0 ? WAIT_TIMEOUT : ::WaitForSingleObject(ev, ms);
            if (r == WAIT_OBJECT_0) break;  // woken (or a spurious signal): the caller re-checks
            if (r == WAIT_TIMEOUT) {
                if (deadline.expired()) {
                    out = unexpected(Errc::timeout);
                    break;
                }
                continue;  // Win32 timed out early on its coarser clock
            }
            out = unexpected(win32::last_error());
            break;
        }
    }
    const bool woken = leave(*s, *parked);
    if (owned) ::CloseHandle(ev);
    // A wake-up that raced with the deadline, or a word that changed meanwhile, is a success
    // (like the futex). [park.poll] relaxed: picks the return code only.
    if (!out && out.code() == Errc::timeout && (woken || word.load(std::memory_order_relaxed) != expected)) return ok();
    return out;
}

template <std::size_t N>
std::uint32_t wake_in(Region<N>& r, std::uint64_t key, std::uint32_t max) noexcept {
    // [wake.count] relaxed: after [wake.fence]; 0 means no slot of this region was published
    // before the fence, so every waiter to come re-checks the word after our change.
    if (r.parked.load(std::memory_order_relaxed) == 0) return 0;
    std::uint32_t woke = 0;
    for (Slot& s : r.slots) {
        // [park.scan] acquire: pairs with [park.publish]; key/pid/tid are those of this claim.
        std::uint32_t c = s.ctl.load(std::memory_order_acquire);
        if (state_of(c) != kWaiting || s.key.load(std::memory_order_relaxed) != key) continue;
        const std::uint32_t pid = s.pid.load(std::memory_order_relaxed);
        const std::uint32_t tid = s.tid.load(std::memory_order_relaxed);
        // [park.wake] acq_rel: waiting -> woken for this very claim (the claim count is in `c`).
        if (!s.ctl.compare_exchange_strong(c, with_state(c, kWoken), std::memory_order_acq_rel, std::memory_order_relaxed))
            continue;
        if (signal(pid, tid)) {
            if (++woke >= max) return woke;
            continue;
        }
        // The event is gone: the owner died (or already left after another wake-up). Free the
        // slot if it is still this claim's, and let the wake-up go to the next waiter.
        std::uint32_t w = with_state(c, kWoken);
        // [park.reap] acq_rel.
        if (s.ctl.compare_exchange_strong(w, with_state(c, kFree), std::memory_order_acq_rel, std::memory_order_relaxed))
            r.parked.fetch_sub(1, std::memory_order_relaxed);
    }
    return woke;
}

void wake_shared(const win32::SharedWordKey& wk, std::uint32_t max) noexcept {
    Error error{Errc::os_error, 0};
    Table* t = table(error);
    if (t == nullptr) return;  // no table: nobody of this session could have parked through it either
    // [wake.fence] seq_cst: orders the caller's change of the word before the scan; pairs with
    // [park.fence].
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const std::uint64_t key = key_of(wk);
    const std::uint32_t woke = wake_in(t->buckets[key % kBuckets], key, max);
    if (woke < max) (void)wake_in(t->overflow, key, max - woke);
}

// ------------------------------------------------------------------ WaitOnAddress

// `cap_ms` bounds each round (INFINITE: none); see the file comment.
Result<void> wait_on_address(const std::atomic<std::uint32_t>& word, std::uint32_t expected, Deadline deadline,
                             DWORD cap_ms) noexcept {
    for (;;) {
        DWORD ms = win32::timeout_ms(deadline);
        if (ms == 0) {
            // The deadline has passed (or poll()). Like a futex: a word that already differs is a
            // success, an unchanged one a timeout.
            // [wait.poll] relaxed: only picks the return code; the caller re-loads with acquire.
            return word.load(std::memory_order_relaxed) == expected ? Result<void>(unexpected(Errc::timeout)) : ok();
        }
        if (ms > cap_ms) ms = cap_ms;
        std::uint32_t compare = expected;
        // WaitOnAddress compares *addr with `compare` atomically with parking (no lost wake-up) and
        // returns TRUE at once when they differ, when woken, or spuriously.
        if (::WaitOnAddress(addr(word), &compare, sizeof compare, ms)) return ok();
        const DWORD err = ::GetLastError();
        if (err != ERROR_TIMEOUT) return unexpected(Errc::os_error, static_cast<int>(err));
        if (cap_ms != INFINITE) {
            // [wait.shared.poll] relaxed: a change by another process (no wake reaches us).
            if (word.load(std::memory_order_relaxed) != expected) return ok();
            cap_ms = cap_ms >= 32 ? 64 : cap_ms * 2;
        }
        // ERROR_TIMEOUT: loop; the next round reports timeout only if the monotonic deadline passed.
    }
}

template <std::size_t N>
std::uint32_t parked_in(const Region<N>& r, std::uint64_t key) noexcept {
    std::uint32_t n = 0;
    for (const Slot& s : r.slots) {
        // [park.scan] acquire: pairs with [park.publish]; the key is that of this claim.
        if (state_of(s.ctl.load(std::memory_order_acquire)) == kWaiting && s.key.load(std::memory_order_relaxed) == key)
            ++n;
    }
    return n;
}

}  // namespace

Result<void> wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected, Deadline deadline,
                  WaitScope scope) noexcept {
    if (scope == WaitScope::process_private) return wait_on_address(word, expected, deadline, INFINITE);
    // [wait.poll] relaxed: only picks the return code; the caller re-loads with acquire.
    if (word.load(std::memory_order_relaxed) != expected) return ok();
    if (deadline.is_poll() || deadline.expired()) return unexpected(Errc::timeout);
    win32::SharedWordKey k;
    if (win32::shared_word_key(&word, k)) return park(k, word, expected, deadline);
    return wait_on_address(word, expected, deadline, 1);
}

void wake_one(const std::atomic<std::uint32_t>& word, WaitScope scope) noexcept {
    win32::SharedWordKey k;
    if (scope == WaitScope::process_shared && win32::shared_word_key(&word, k)) {
        wake_shared(k, 1);
        return;
    }
    ::WakeByAddressSingle(addr(word));
}

void wake_all(const std::atomic<std::uint32_t>& word, WaitScope scope) noexcept {
    win32::SharedWordKey k;
    if (scope == WaitScope::process_shared && win32::shared_word_key(&word, k)) {
        wake_shared(k, 0xFFFF'FFFFu);
        return;
    }
    ::WakeByAddressAll(addr(word));
}

Result<std::uint32_t> parked_on(const std::atomic<std::uint32_t>& word, WaitScope scope) noexcept {
    win32::SharedWordKey k;
    if (scope != WaitScope::process_shared || !win32::shared_word_key(&word, k)) return unexpected(Errc::not_supported);
    Error error{Errc::os_error, 0};
    Table* t = table(error);
    if (t == nullptr) return unexpected(error);
    const std::uint64_t key = key_of(k);
    return parked_in(t->buckets[key % kBuckets], key) + parked_in(t->overflow, key);
}

}  // namespace staticrt::platform
