// SPDX-License-Identifier: MIT
// A constant count above SyncCount::kMax (2^31 - 1) must not compile.
// expect: sync_count_is_too_large
// also: does not have a constant initializer
#include "staticrt/sync/semaphore.hpp"

constinit staticrt::Semaphore g_sem{3000000000u};

int main() { return static_cast<int>(g_sem.value()); }
