// SPDX-License-Identifier: MIT
// proc_queue: Python's multiprocessing.Queue example, with an MpmcQueue in shared memory.
//
// Python:
//   def f(q):
//       q.put([42, None, 'hello'])
//   q = Queue()
//   p = Process(target=f, args=(q,)); p.start()
//   print(q.get())    # prints "[42, None, 'hello']"
//   p.join()
//
// Differences: a fixed capacity (16 items here), items are trivially copyable values (no
// pickling), and the queue lives in a named shared segment the child opens by name. Several
// processes may put and get at once (multi-producer, multi-consumer).
#include <chrono>
#include <cstdio>

#include "staticrt/fixed_string.hpp"
#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/shared_segment.hpp"
#include "staticrt/queue/mpmc_queue.hpp"

namespace ipc = staticrt::ipc;
using staticrt::Deadline;
using namespace std::chrono_literals;

struct Message {  // [42, None, 'hello'] as plain data
    int number;
    bool none;
    staticrt::FixedString<15> text;
};
using Queue = staticrt::MpmcQueue<Message, 16, staticrt::WaitScope::process_shared>;

static int f(int argc, const char* const* argv) noexcept {
    static ipc::SharedSegment<Queue> q;
    if (argc < 1 || !q.open(argv[0], Deadline::after(10s))) return 2;
    return q->push(Message{42, true, "hello"}, Deadline::after(10s)) ? 0 : 3;
}

int main(int argc, char** argv) {
    (void)ipc::register_entry("f", &f);
    ipc::child_main_hook(argc, argv);

    char name[64];
    std::snprintf(name, sizeof name, "staticrt-example-queue-%lld", static_cast<long long>(ipc::Process::current_pid()));
    ipc::SharedSegment<Queue> q;
    if (!q.create(name)) return 1;
    const char* args[] = {name, nullptr};
    ipc::Process p;
    if (!p.start("f", args)) return 1;
    auto m = q->pop(Deadline::after(30s));  // q.get()
    if (m) std::printf("[%d, %s, '%s']\n", m->number, m->none ? "None" : "?", m->text.c_str());
    (void)p.join(Deadline::after(30s));
    if (!m && p.exit_code() == 127) {
        std::printf("the child could not start (an emulator without binfmt_misc)\n");
        return 0;
    }
    return m && m->number == 42 ? 0 : 1;
}
