// SPDX-License-Identifier: MIT
// A Thread stores its callable inline: one larger than its task slot must not compile.
// expect: the callable is larger than the Task's slot
// also: incomplete definition of type 'staticrt::detail::TaskCallable
#include <array>

#include "staticrt/thread.hpp"

staticrt::Thread<64 * 1024> g_thread;

int main() {
    std::array<char, 256> big{};
    (void)g_thread.start([big] { (void)big; });
}
