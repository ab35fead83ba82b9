// SPDX-License-Identifier: MIT
// heap_place.so: an LD_PRELOAD library for bench/ab/peers_ab.py --heap-offsets (not part of the
// runtime: a benchmark tool, so it may allocate).
//
// Every over-aligned `operator new` of kMinBytes or more (the peer program's queues, allocated
// by make_unique with alignas(kCacheLine)) gets pages of its own from mmap, at in-page offset
// STATICRT_AB_HEAP_OFFSET (read once; a multiple of the alignment, below 4096). Without it such
// a queue lands wherever malloc's free lists put it: next to the objects
// the program allocated before (the thread states, the workload registry), at an in-page offset
// fixed by that history. That history differs between two builds of the peer program whenever
// the harness changes (a workload more in the registry), so an A/B of the same queue code then
// compares two neighbourhoods (docs/bench/waiting-layer-ab.md, "Heap placement"). With this
// library both sides of a round put the queue in the same kind of place, and peers_ab.py draws
// the offset anew each round.
#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <new>

namespace {

constexpr std::size_t kPage = 4096;
constexpr std::size_t kMinBytes = kPage;  // smaller blocks keep malloc's placement
constexpr int kMaxBlocks = 256;  // live placed blocks at a time (a measurement holds a few)

struct Block {
    void* user;
    void* base;
    std::size_t len;
};
Block g_blocks[kMaxBlocks];
std::mutex g_lock;

void* placed(std::size_t n, std::size_t align) {
    static const std::size_t off = [] {
        const char* env = std::getenv("STATICRT_AB_HEAP_OFFSET");  // set once per process by peers_ab.py
        return env != nullptr ? static_cast<std::size_t>(std::strtoull(env, nullptr, 0)) : std::size_t{0};
    }();
    if (off >= kPage || off % align != 0) {
        std::fprintf(stderr, "heap_place: offset %zu is not a multiple of %zu below %zu\n", off, align, kPage);
        std::abort();
    }
    const std::size_t len = (off + n + kPage - 1) / kPage * kPage;
    void* base = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return nullptr;
    void* user = static_cast<char*>(base) + off;
    std::lock_guard<std::mutex> g(g_lock);
    for (Block& b : g_blocks) {
        if (b.user == nullptr) {
            b = {user, base, len};
            return user;
        }
    }
    std::fprintf(stderr, "heap_place: more than %d placed blocks alive\n", kMaxBlocks);
    std::abort();
}

bool unplace(void* p) {
    std::lock_guard<std::mutex> g(g_lock);
    for (Block& b : g_blocks) {
        if (b.user == p) {
            munmap(b.base, b.len);
            b = {};
            return true;
        }
    }
    return false;
}

void* aligned_new(std::size_t n, std::align_val_t a) {
    const std::size_t align = static_cast<std::size_t>(a);
    void* p = n >= kMinBytes && align <= kPage ? placed(n, align) : nullptr;
    if (p == nullptr && posix_memalign(&p, align, n == 0 ? 1 : n) != 0) p = nullptr;
    if (p == nullptr) std::abort();  // the peer program is built without exceptions in mind
    return p;
}

void aligned_delete(void* p) {
    if (p != nullptr && !unplace(p)) std::free(p);
}

}  // namespace

void* operator new(std::size_t n, std::align_val_t a) { return aligned_new(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return aligned_new(n, a); }
void operator delete(void* p, std::align_val_t) noexcept { aligned_delete(p); }
void operator delete[](void* p, std::align_val_t) noexcept { aligned_delete(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { aligned_delete(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { aligned_delete(p); }
