// SPDX-License-Identifier: MIT
// proc_value_array: Python's shared-memory Value and Array example.
//
// Python:
//   def f(n, a):
//       n.value = 3.1415927
//       for i in range(len(a)): a[i] = -a[i]
//   num = Value('d', 0.0); arr = Array('i', range(10))
//   p = Process(target=f, args=(num, arr)); p.start(); p.join()
//   print(num.value)   # 3.1415927
//   print(arr[:])      # [0, -1, -2, -3, -4, -5, -6, -7, -8, -9]
//
// Differences: the length and type are template arguments, the objects are named segments the
// child opens by name, and a compound update holds get_lock() explicitly (as `with a.get_lock():`).
#include <chrono>
#include <cstdio>
#include <mutex>

#include "staticrt/ipc/process.hpp"
#include "staticrt/ipc/shared_value.hpp"

namespace ipc = staticrt::ipc;
using staticrt::Deadline;
using namespace std::chrono_literals;

static int f(int argc, const char* const* argv) noexcept {
    static ipc::SharedValue<double> n;
    static ipc::SharedArray<int, 10> a;
    if (argc < 2 || !n.open(argv[0], Deadline::after(10s)) || !a.open(argv[1], Deadline::after(10s))) return 2;
    n.store(3.1415927);
    std::lock_guard lock(a.get_lock());
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = -a[i];
    return 0;
}

int main(int argc, char** argv) {
    (void)ipc::register_entry("f", &f);
    ipc::child_main_hook(argc, argv);

    char num_name[64], arr_name[64];
    const long long pid = static_cast<long long>(ipc::Process::current_pid());
    std::snprintf(num_name, sizeof num_name, "staticrt-example-num-%lld", pid);
    std::snprintf(arr_name, sizeof arr_name, "staticrt-example-arr-%lld", pid);
    ipc::SharedValue<double> num;
    ipc::SharedArray<int, 10> arr;
    if (!num.create(num_name, 0.0) || !arr.create(arr_name)) return 1;
    for (int i = 0; i < 10; ++i) arr[static_cast<std::size_t>(i)] = i;  // range(10)
    const char* args[] = {num_name, arr_name, nullptr};
    ipc::Process p;
    if (!p.start("f", args) || !p.join(Deadline::after(30s))) return 1;
    if (p.exit_code() == 127) {
        std::printf("the child could not start (an emulator without binfmt_misc)\n");
        return 0;
    }
    std::printf("%.7f\n[", num.load());
    for (std::size_t i = 0; i < arr.size(); ++i) std::printf(i ? ", %d" : "%d", arr.load(i));
    std::printf("]\n");
    return num.load() > 3.14 && arr.load(9) == -9 ? 0 : 1;
}
