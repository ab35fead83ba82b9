// SPDX-License-Identifier: MIT
// proc_manager_dict: Python's Manager().dict() example, with a SharedDict in shared memory.
//
// Python:
//   def f(d):
//       d[1] = '1'; d['2'] = 2; d[0.25] = None
//   with Manager() as manager:
//       d = manager.dict()
//       p = Process(target=f, args=(d,)); p.start(); p.join()
//       print(d)                # {1: '1', '2': 2, 0.25: None}
//
// Then four processes count words into the same dict; update() is one atomic step
// (Python's d[k] = d.get(k, 0) + 1 through a manager is not).
// Differences: no manager process (the table lives in shared memory, guarded by a robust lock),
// fixed capacity (a new key when full is Errc::full), keys and values of one fixed type each.
#include <chrono>
#include <cstdio>

#include "staticrt/fixed_string.hpp"
#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/shared_dict.hpp"
#include "staticrt/ipc/shared_segment.hpp"

namespace ipc = staticrt::ipc;
using staticrt::Deadline;
using staticrt::FixedString;
using namespace std::chrono_literals;

using Dict = ipc::SharedDict<FixedString<15>, long, 32>;

static int f(int argc, const char* const* argv) noexcept {
    static ipc::SharedSegment<Dict> d;
    if (argc < 1 || !d.open(argv[0], Deadline::after(10s))) return 2;
    if (!d->insert("1", 1) || !d->insert("2", 2) || !d->insert("0.25", 0)) return 3;
    return 0;
}

static int count_words(int argc, const char* const* argv) noexcept {
    static ipc::SharedSegment<Dict> d;
    if (argc < 1 || !d.open(argv[0], Deadline::after(10s))) return 2;
    static const char* const words[] = {"spam", "eggs", "spam", "ham", "spam"};
    for (int round = 0; round < 100; ++round)
        for (const char* w : words) {
            auto key = FixedString<15>::from(w);
            if (!key || !d->update(*key, 0, [](long& n) noexcept { ++n; })) return 3;
        }
    return 0;
}

static void print(const Dict& d) {
    Dict::Entry items[Dict::kCapacity];
    const std::size_t n = d.snapshot(items).value_or(0);
    std::printf("{");
    for (std::size_t i = 0; i < n; ++i) std::printf(i ? ", '%s': %ld" : "'%s': %ld", items[i].key.c_str(), items[i].value);
    std::printf("}\n");
}

int main(int argc, char** argv) {
    (void)ipc::register_entry("f", &f);
    (void)ipc::register_entry("count_words", &count_words);
    ipc::child_main_hook(argc, argv);

    char name[64];
    std::snprintf(name, sizeof name, "staticrt-example-dict-%lld", static_cast<long long>(ipc::Process::current_pid()));
    ipc::SharedSegment<Dict> d;
    if (!d.create(name)) return 1;
    const char* args[] = {name, nullptr};

    ipc::Process p;
    if (!p.start("f", args) || !p.join(Deadline::after(30s))) return 1;
    if (p.exit_code() == 127) {
        std::printf("the child could not start (an emulator without binfmt_misc)\n");
        return 0;
    }
    print(*d);
    if (!d->clear()) return 1;

    ipc::Process counters[4];
    for (auto& c : counters)
        if (!c.start("count_words", args)) return 1;
    for (auto& c : counters)
        if (!c.join(Deadline::after(30s)) || c.exit_code() != 0) return 1;
    print(*d);  // {'spam': 1200, 'eggs': 400, 'ham': 400} in some order
    const long spam = d->get("spam").value_or(std::nullopt).value_or(0);
    return spam == 4 * 100 * 3 ? 0 : 1;
}
