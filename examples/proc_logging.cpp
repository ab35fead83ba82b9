// SPDX-License-Identifier: MIT
// proc_logging: three processes log through one LogRing; the parent drains whole lines to
// stderr with pid, thread id and time. Nothing interleaves; drops would be reported.
#include <cstdio>
#include <cstdlib>

#include "staticrt/ipc/log_ring.hpp"
#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/shared_segment.hpp"

namespace ipc = staticrt::ipc;
using staticrt::Deadline;
using Ring = ipc::LogRing<256, 120>;

static int worker(int argc, const char* const* argv) noexcept {
    ipc::SharedSegment<Ring> ring;
    if (argc < 2 || !ring.open(argv[0], Deadline::after(std::chrono::seconds(10)))) return 2;
    char line[120];
    for (int i = 0; i < 5; ++i) {
        const int n = std::snprintf(line, sizeof line, "worker %s: step %d of 5", argv[1], i + 1);
        (void)ring->write(std::string_view(line, static_cast<std::size_t>(n)));
    }
    return 0;
}

int main(int argc, char** argv) {
    (void)ipc::register_entry("worker", &worker);
    ipc::child_main_hook(argc, argv);

    char name[64];
    std::snprintf(name, sizeof name, "staticrt-example-log-%lld", static_cast<long long>(ipc::Process::current_pid()));
    ipc::SharedSegment<Ring> ring;
    if (!ring.create(name)) return 1;
    (void)ring->write("parent: starting 3 workers");
    const char* ids[] = {"A", "B", "C"};
    ipc::Process ps[3];
    for (int i = 0; i < 3; ++i) {
        const char* args[] = {name, ids[i], nullptr};
        if (!ps[i].start("worker", args)) return 1;
    }
    for (auto& p : ps) {
        while (p.join(Deadline::poll()).code() == staticrt::Errc::timeout) {
            (void)ring->wait_for_lines(Deadline::after(std::chrono::milliseconds(10)));
            (void)ring->drain_to(staticrt::platform::StandardStream::err);
        }
    }
    (void)ring->write("parent: all workers done");
    (void)ring->drain_to(staticrt::platform::StandardStream::err);
    std::printf("%llu lines dropped\n", static_cast<unsigned long long>(ring->dropped()));
    return 0;
}
