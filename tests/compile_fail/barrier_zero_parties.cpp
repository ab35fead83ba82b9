// SPDX-License-Identifier: MIT
// A Barrier of zero parties must not compile (here a constinit global; see also the local case).
// expect: barrier_parties_must_be_positive
// also: does not have a constant initializer
#include "staticrt/sync/barrier.hpp"

constinit staticrt::Barrier g_barrier{0};

int main() { return static_cast<int>(g_barrier.parties()); }
