// SPDX-License-Identifier: MIT
// Conformance: FixedString, SharedDict, Pipe and daemon threads on every target (x86-64,
// aarch64 and armhf under qemu, Windows under wine). Within one process: the objects are plain
// statics or live in a named SharedSegment; the cross-process and kill tests are in
// tests/host/test_ipc_vocabulary_kill.cpp and tests/stress/test_ipc_vocabulary_stress.cpp.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <random>
#include <thread>
#include <vector>

#include "skip.hpp"
#include "staticrt/fixed_string.hpp"
#include "staticrt/ipc/pipe.hpp"
#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/shared_dict.hpp"
#include "staticrt/ipc/shared_segment.hpp"
#include "staticrt/thread.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::FixedString;
namespace ipc = staticrt::ipc;

namespace {
struct SegName {
    char text[64];
    explicit SegName(const char* tag) {
        std::snprintf(text, sizeof text, "staticrt-tv-%lld-%s", static_cast<long long>(ipc::Process::current_pid()), tag);
    }
};
}  // namespace

TEST_CASE("FixedString: literals, run-time text, equality, no truncation") {
    constexpr FixedString<8> a{"apples"};
    static_assert(a.size() == 6);
    CHECK(a.view() == "apples");
    CHECK(std::strcmp(a.c_str(), "apples") == 0);
    CHECK(FixedString<8>{} .empty());
    auto b = FixedString<8>::from("apples");
    REQUIRE(b);
    CHECK(*b == a);
    CHECK_FALSE(*FixedString<8>::from("apple") == a);
    CHECK(FixedString<8>::from("12345678").has_value());
    CHECK(FixedString<8>::from("123456789").code() == Errc::invalid_argument);  // never truncated
    CHECK(FixedString<8>::from(std::string_view("a\0b", 3)).code() == Errc::invalid_argument);
}

using SmallDict = ipc::SharedDict<std::uint32_t, std::uint32_t, 8>;

TEST_CASE("SharedDict: insert/assign, get, contains, erase, size, full") {
    static SmallDict d;
    REQUIRE(d.clear());
    CHECK(d.size().value() == 0);
    CHECK(d.get(1).value() == std::nullopt);
    for (std::uint32_t k = 0; k < 8; ++k) CHECK(d.insert(k, k * 10).value() == true);
    CHECK(d.size().value() == 8);
    CHECK(d.insert(100, 1).code() == Errc::full);              // a new key when full
    CHECK(d.insert(3, 333).value() == false);                   // assigning an existing key is fine
    CHECK(d.get(3).value() == std::optional<std::uint32_t>{333});
    CHECK(d.contains(7).value());
    CHECK_FALSE(d.contains(100).value());
    CHECK(d.erase(7).value());
    CHECK_FALSE(d.erase(7).value());
    CHECK(d.size().value() == 7);
    CHECK(d.insert(100, 1).value());                            // room again
    CHECK(d.setdefault(100, 5).value() == 1);                   // present: unchanged
    CHECK(d.erase(100).value());
    CHECK(d.setdefault(100, 5).value() == 5);                   // absent: inserted
    SmallDict::Entry all[SmallDict::kCapacity];
    auto n = d.snapshot(all);
    REQUIRE(n);
    CHECK(*n == 8);
    std::uint32_t sum_keys = 0;
    for (std::size_t i = 0; i < *n; ++i) sum_keys += all[i].key;
    CHECK(sum_keys == 0 + 1 + 2 + 3 + 4 + 5 + 6 + 100);
    SmallDict::Entry two[2];
    CHECK(d.snapshot(two).value() == 2);                        // bounded by the caller's span
    REQUIRE(d.clear());
    CHECK(d.size().value() == 0);
    CHECK_FALSE(d.contains(3).value());
}

TEST_CASE("SharedDict: random insert/erase churn agrees with std::map (erased slots reused)") {
    static ipc::SharedDict<std::uint32_t, std::uint64_t, 16> d;
    REQUIRE(d.clear());
    std::map<std::uint32_t, std::uint64_t> ref;
    std::mt19937 rng(12345);
    int bad = 0;
    for (int step = 0; step < 20000; ++step) {
        const std::uint32_t k = rng() % 40;
        const int op = static_cast<int>(rng() % 3);
        if (op == 0) {
            const std::uint64_t v = rng();
            auto r = d.insert(k, v);
            if (ref.count(k) == 0 && ref.size() == 16) {
                bad += r.code() != Errc::full;
            } else {
                REQUIRE(r);
                bad += *r != (ref.count(k) == 0);
                ref[k] = v;
            }
        } else if (op == 1) {
            bad += d.erase(k).value() != (ref.erase(k) == 1);
        } else {
            auto g = d.get(k).value();
            auto it = ref.find(k);
            bad += g.has_value() != (it != ref.end());
            if (g && it != ref.end()) bad += *g != it->second;
        }
        if (step % 1000 == 0) bad += d.size().value() != ref.size();
    }
    CHECK(bad == 0);
    decltype(d)::Entry all[16];
    REQUIRE(d.snapshot(all).value() == ref.size());
}

TEST_CASE("SharedDict: FixedString keys in a named shared segment; update() from threads loses nothing") {
    using Dict = ipc::SharedDict<FixedString<15>, long, 32>;
    const SegName name("dict");
    ipc::SharedSegment<Dict> seg;
    REQUIRE(seg.create(name.text));
    ipc::SharedSegment<Dict> other;  // a second mapping, as another process would have
    REQUIRE(other.open(name.text, Deadline::after(10s)));
    REQUIRE(seg->insert("apples", 3));
    CHECK(other->get("apples").value() == std::optional<long>{3});
    static const FixedString<15> keys[4] = {"north", "south", "east", "west"};
    constexpr int kThreads = 4, kPerThread = 500;
    std::atomic<int> failures{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < kThreads; ++t)
        ts.emplace_back([&, t] {
            Dict& d = (t % 2 == 0) ? *seg : *other;
            for (int i = 0; i < kPerThread; ++i)
                if (!d.update(keys[i % 4], 0, [](long& v) noexcept { ++v; })) failures.fetch_add(1);
        });
    for (auto& t : ts) t.join();
    CHECK(failures.load() == 0);
    long total = 0;
    for (const auto& k : keys) total += seg->get(k).value().value_or(0);
    CHECK(total == kThreads * kPerThread);
    CHECK(seg->get("north").value() == std::optional<long>{kThreads * kPerThread / 4});
    CHECK(seg->size().value() == 5);
    other.close();
    seg.destroy();
}

TEST_CASE("SharedDict: a scribbled table reports corrupted, never reads out of bounds") {
    static SmallDict d;
    REQUIRE(d.clear());
    for (std::uint32_t k = 0; k < 5; ++k) REQUIRE(d.insert(k, k));
    // Layout (test knowledge): ProcessMutex, four 32-bit header words, the slots (state, key,
    // value), then a 12-byte undo record.
    constexpr std::size_t kHead = sizeof(ipc::ProcessMutex) + 16;
    constexpr std::size_t kEnd = kHead + SmallDict::kSlots * 12;
    static_assert(sizeof(SmallDict) >= kEnd + 12 && sizeof(SmallDict) < kEnd + 12 + alignof(SmallDict),
                  "test assumes the SharedDict layout");
    auto* bytes = reinterpret_cast<unsigned char*>(&d);
    std::vector<unsigned char> saved(bytes + kHead, bytes + kEnd);
    std::vector<unsigned char> header(bytes + sizeof(ipc::ProcessMutex), bytes + kHead);
    // Slot states scribbled: every probe meets an invalid state.
    std::memset(bytes + kHead, 0x7f, kEnd - kHead);
    CHECK(d.get(1).code() == Errc::corrupted);
    CHECK(d.insert(9, 9).code() == Errc::corrupted);
    SmallDict::Entry all[8];
    CHECK(d.snapshot(all).code() == Errc::corrupted);
    // Random scribbles: every call gives a value or corrupted (ASan/UBSan builds check the bounds).
    std::mt19937 rng(99);
    int unexpected = 0;
    for (int round = 0; round < 300; ++round) {
        for (std::size_t i = kHead; i < kEnd; ++i) bytes[i] = static_cast<unsigned char>(rng() % 5);
        for (std::uint32_t k = 0; k < 12; ++k) {
            const Errc e = d.insert(k, k).code();
            unexpected += !(e == Errc::ok || e == Errc::corrupted || e == Errc::full);
            const Errc g = d.get(k).code();
            unexpected += !(g == Errc::ok || g == Errc::corrupted);
        }
    }
    CHECK(unexpected == 0);
    // A scribbled header (count beyond N, wrong magic).
    std::memset(bytes + sizeof(ipc::ProcessMutex), 0x5a, 16);
    CHECK(d.size().code() == Errc::corrupted);
    CHECK(d.get(1).code() == Errc::corrupted);
    std::memcpy(bytes + sizeof(ipc::ProcessMutex), header.data(), header.size());
    std::memcpy(bytes + kHead, saved.data(), saved.size());
    CHECK(d.get(4).value() == std::optional<std::uint32_t>{4});
}

TEST_CASE("Pipe: duplex messages keep their boundaries; sizes, poll, timeouts") {
    static ipc::Pipe<64> p;  // 60-byte messages at most
    auto a = p.connect(0);
    auto b = p.connect(1);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(p.connect(0).code() == Errc::invalid_argument);  // each end once
    CHECK(p.connect(2).code() == Errc::invalid_argument);
    CHECK(a->max_message() == 60);
    CHECK_FALSE(b->poll().value());
    CHECK(b->recv<int>(Deadline::after(5ms)).code() == Errc::timeout);
    REQUIRE(a->send(42));
    const char hello[] = "hello";
    REQUIRE(a->send_bytes(std::as_bytes(std::span(hello, 5)), Deadline::never()));
    REQUIRE(a->send_bytes({}, Deadline::never()));  // an empty message is a message
    CHECK(b->poll().value());
    CHECK(b->recv<long long>(Deadline::poll()).code() == Errc::invalid_argument);  // 4 bytes, not 8: stays
    CHECK(b->recv<int>(Deadline::poll()).value() == 42);
    std::byte small[3];
    CHECK(b->recv_bytes(small, Deadline::poll()).code() == Errc::invalid_argument);  // stays in the pipe
    std::byte buf[60];
    auto n = b->recv_bytes(buf, Deadline::poll());
    REQUIRE(n);
    CHECK(std::memcmp(buf, "hello", *n) == 0);
    CHECK(*n == 5);
    CHECK(b->recv_bytes(buf, Deadline::poll()).value() == 0);
    // The other direction, and a full ring.
    std::byte big[61] = {};
    CHECK(b->send_bytes(big, Deadline::poll()).code() == Errc::invalid_argument);  // never split
    REQUIRE(b->send_bytes(std::span(big, 60), Deadline::poll()));
    CHECK(b->send(1, Deadline::after(5ms)).code() == Errc::timeout);  // 64 bytes: no room for 4 + 4
    CHECK(a->recv_bytes(buf, Deadline::poll()).value() == 60);
    REQUIRE(b->send(7, Deadline::poll()));
    CHECK(a->recv<int>().value() == 7);
}

TEST_CASE("Pipe: close drains, then EOF both ways; send to a closed peer is closed") {
    static ipc::Pipe<256> p;
    auto a = p.connect(0);
    auto b = p.connect(1);
    REQUIRE(a);
    REQUIRE(b);
    for (int i = 0; i < 5; ++i) REQUIRE(a->send(i));
    a->close();
    CHECK_FALSE(a->is_open());
    CHECK(a->send(1).code() == Errc::closed);
    for (int i = 0; i < 5; ++i) CHECK(b->recv<int>(Deadline::poll()).value() == i);  // drained first
    CHECK(b->recv<int>(Deadline::never()).code() == Errc::closed);                  // then EOF
    CHECK(b->poll(Deadline::never()).code() == Errc::closed);
    CHECK(b->send(5).code() == Errc::closed);  // BrokenPipeError
}

TEST_CASE("Pipe: a blocked recv wakes on close from another thread") {
    static ipc::Pipe<256> p;
    auto a = p.connect(0);
    REQUIRE(a);
    std::atomic<int> got{0};
    std::thread peer([&] {
        auto b = p.connect(1);
        if (!b || !b->send(11)) return;
        // wait until the main thread received it, then close: recv() must wake with EOF.
        while (got.load() == 0) std::this_thread::yield();
        b->close();
    });
    CHECK(a->recv<int>(Deadline::after(30s)).value() == 11);
    got.store(1);
    CHECK(a->recv<int>(Deadline::after(30s)).code() == Errc::closed);
    peer.join();
}

TEST_CASE("Pipe: duplex stress between two threads: every message once, in order, intact") {
    static ipc::Pipe<512> p;
    constexpr std::uint32_t kCount = 3000;
    // Sends kCount messages of 4..200 bytes (seq number + pattern), receives kCount from the peer;
    // returns the number of problems seen (counted, not asserted: this runs in two threads).
    auto run = [](ipc::PipeConnection& c, std::uint32_t seed) -> int {
        int bad = 0;
        std::uint32_t sent = 0, received = 0;
        std::byte buf[256];
        while ((sent < kCount || received < kCount) && bad == 0) {
            if (sent < kCount) {
                const std::uint32_t len = 4 + (sent * 37 + seed) % 197;
                std::byte out[256];
                std::memcpy(out, &sent, 4);
                for (std::uint32_t i = 4; i < len; ++i) out[i] = static_cast<std::byte>((sent + i) & 0xff);
                auto r = c.send_bytes(std::span(out, len), Deadline::poll());
                if (r) ++sent;
                else bad += r.code() != Errc::timeout;
            }
            if (received < kCount) {
                auto n = c.recv_bytes(buf, sent < kCount ? Deadline::poll() : Deadline::after(30s));
                if (!n) {
                    bad += n.code() != Errc::timeout;
                    continue;
                }
                std::uint32_t seq = 0;
                std::memcpy(&seq, buf, 4);
                bad += seq != received;  // nothing lost, duplicated or reordered
                bad += *n != 4 + (seq * 37 + (seed ^ 1)) % 197;
                for (std::uint32_t i = 4; i < *n; ++i) bad += buf[i] != static_cast<std::byte>((seq + i) & 0xff);
                ++received;
            }
        }
        return bad;
    };
    auto a = p.connect(0);
    REQUIRE(a);
    std::atomic<int> peer_bad{-1};
    std::thread t([&] {
        auto b = p.connect(1);
        if (!b) return;
        const int bad = run(*b, 1);
        // Keep the end open until the other side has everything it needs.
        (void)b->recv<int>(Deadline::after(60s));
        peer_bad.store(bad);
    });
    CHECK(run(*a, 0) == 0);
    REQUIRE(a->send(0));
    t.join();
    CHECK(peer_bad.load() == 0);
}

TEST_CASE("Pipe: a peer thread that ends without close() is EOF (robust liveness lock)") {
    static ipc::Pipe<256> p;
    auto a = p.connect(0);
    REQUIRE(a);
    std::thread peer([&] {
        auto b = p.connect(1);
        if (!b || !b->send(5)) return;
        ipc::PipeConnection leaked = std::move(*b);
        // The end "dies" with its thread: leave the connection open and the lock held.
        new (&leaked) ipc::PipeConnection();  // forget it without close()
    });
    peer.join();
    CHECK(a->recv<int>(Deadline::after(30s)).value() == 5);
    ipc::ProcessMutex probe;
    if (!probe.robust()) STATICRT_SKIP("no-robust-mutex", "robust mutexes are not emulated (qemu-user)");
    CHECK(a->recv<int>(Deadline::after(30s)).code() == Errc::closed);
    CHECK(a->send(1).code() == Errc::closed);
}

TEST_CASE("Pipe: scribbled ring indices and lengths report corrupted") {
    static ipc::Pipe<128> p;
    auto a = p.connect(0);
    auto b = p.connect(1);
    REQUIRE(a);
    REQUIRE(b);
    auto* shared = reinterpret_cast<staticrt::detail::PipeShared*>(&p);  // test knowledge: first member
    REQUIRE(a->send(1));
    shared->ring[0].tail.store(shared->ring[0].head.load() + 1000);  // more than the ring holds
    CHECK(b->recv<int>(Deadline::poll()).code() == Errc::corrupted);
    CHECK(a->send(2, Deadline::poll()).code() == Errc::corrupted);
    shared->ring[0].tail.store(shared->ring[0].head.load() + 2);  // a partial frame
    CHECK(b->recv<int>(Deadline::poll()).code() == Errc::corrupted);
    // A length larger than what was published.
    const std::uint32_t head = shared->ring[0].head.load();
    shared->ring[0].tail.store(head + 8);
    auto* data = reinterpret_cast<unsigned char*>(shared) + sizeof(staticrt::detail::PipeShared);
    const std::uint32_t huge = 0x7fffffff;
    std::memcpy(data + (head % 128), &huge, 4);
    CHECK(b->recv<int>(Deadline::poll()).code() == Errc::corrupted);
}

namespace {
staticrt::Thread<256 * 1024> g_daemon;  // static storage: a daemon runs on it until exit
constinit std::atomic<std::uint32_t> g_daemon_ticks{0};
}  // namespace

TEST_CASE("Thread: a daemon thread may still run when the Thread is destroyed (at exit)") {
    // g_daemon is never joined: its destructor runs at process exit while it still loops, which
    // must not trap (the suite would then fail with a contract violation after the last case).
    REQUIRE(g_daemon.start(
        [] {
            for (;;) {
                g_daemon_ticks.fetch_add(1, std::memory_order_relaxed);
                staticrt::platform::sleep_for(1ms);
            }
        },
        {.name = "daemon", .daemon = true}));
    while (g_daemon_ticks.load(std::memory_order_relaxed) < 3) std::this_thread::yield();
    CHECK(g_daemon.is_alive());
    CHECK(g_daemon.join(Deadline::after(1ms)).code() == Errc::timeout);  // still joinable as usual
}

TEST_CASE("Thread: a daemon thread can still be joined") {
    static staticrt::Thread<256 * 1024> t;
    std::atomic<int> ran{0};
    REQUIRE(t.start([&ran] { ran.store(1); }, {.daemon = true}));
    REQUIRE(t.join(Deadline::after(30s)));
    CHECK(ran.load() == 1);
    CHECK_FALSE(t.joinable());
}
