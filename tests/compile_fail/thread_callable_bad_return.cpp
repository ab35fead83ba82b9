// SPDX-License-Identifier: MIT
// A Thread's callable returns void or Result<void>; anything else must not compile.
// expect: the callable must return void or Result<void>
// also: no viable conversion from returned value of type 'int'
// also: could not convert
#include "staticrt/thread.hpp"

staticrt::Thread<64 * 1024> g_thread;

int main() { (void)g_thread.start([] { return 42; }); }
