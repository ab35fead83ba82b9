// SPDX-License-Identifier: MIT
// A Thread whose stack is below the platform minimum must not compile.
// expect: StackBytes is below platform::kMinStackBytes
#include "staticrt/thread.hpp"

staticrt::Thread<1024> g_thread;

int main() { return g_thread.joinable() ? 1 : 0; }
