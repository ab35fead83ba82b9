// SPDX-License-Identifier: MIT
// proc_pipe: Python's multiprocessing Pipe example, with a Pipe in shared memory.
//
// Python:
//   def f(conn):
//       conn.send([42, None, 'hello'])
//       conn.close()
//   parent_conn, child_conn = Pipe()
//   p = Process(target=f, args=(child_conn,)); p.start()
//   print(parent_conn.recv())   # prints "[42, None, 'hello']"
//   p.join()
//
// Differences: messages are bytes or trivially copyable values (no pickling), the pipe has a fixed
// capacity per direction, and each end is connected by the process that uses it. After the child
// closed (or died), recv() returns Errc::closed — Python's EOFError.
#include <chrono>
#include <cstdio>

#include "staticrt/fixed_string.hpp"
#include "staticrt/ipc/pipe.hpp"
#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/shared_segment.hpp"

namespace ipc = staticrt::ipc;
using staticrt::Deadline;
using namespace std::chrono_literals;

struct Message {  // [42, None, 'hello'] as plain data
    int number;
    bool none;
    staticrt::FixedString<15> text;
};

static int f(int argc, const char* const* argv) noexcept {
    static ipc::SharedSegment<ipc::Pipe<4096>> pipe;
    if (argc < 1 || !pipe.open(argv[0], Deadline::after(10s))) return 2;
    auto child_conn = pipe->connect(1);
    if (!child_conn) return 3;
    if (!child_conn->send(Message{42, true, "hello"})) return 4;
    child_conn->close();
    return 0;
}

int main(int argc, char** argv) {
    (void)ipc::register_entry("f", &f);
    ipc::child_main_hook(argc, argv);

    char name[64];
    std::snprintf(name, sizeof name, "staticrt-example-pipe-%lld", static_cast<long long>(ipc::Process::current_pid()));
    ipc::SharedSegment<ipc::Pipe<4096>> pipe;
    if (!pipe.create(name)) return 1;
    auto parent_conn = pipe->connect(0);
    if (!parent_conn) return 1;
    const char* args[] = {name, nullptr};
    ipc::Process p;
    if (!p.start("f", args)) return 1;
    auto m = parent_conn->recv<Message>(Deadline::after(30s));
    if (m) std::printf("[%d, %s, '%s']\n", m->number, m->none ? "None" : "?", m->text.c_str());
    // Python's EOFError: the child closed its end, nothing is left.
    auto eof = parent_conn->recv<Message>(Deadline::after(30s));
    std::printf("next recv: %s\n", staticrt::to_string(eof.code()));
    (void)p.join(Deadline::after(30s));
    parent_conn->close();  // before the segment is unmapped
    if (!m && p.exit_code() == 127) {
        std::printf("the child could not start (an emulator without binfmt_misc)\n");
        return 0;
    }
    return m && m->number == 42 && eof.code() == staticrt::Errc::closed && p.exit_code() == 0 ? 0 : 1;
}
