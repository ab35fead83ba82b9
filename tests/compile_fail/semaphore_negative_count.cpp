// SPDX-License-Identifier: MIT
// A negative initial count must not compile (run-time values go through init(), which returns
// Errc::invalid_argument).
// also: does not have a constant initializer
// expect: sync_count_must_not_be_negative
#include "staticrt/sync/semaphore.hpp"

constinit staticrt::BoundedSemaphore g_slots{-1};

int main() { return static_cast<int>(g_slots.value()); }
