// SPDX-License-Identifier: MIT
// A Barrier of zero parties must not compile anywhere, not only when constant-initialised: the
// party count is a consteval PartyCount (1 .. 2^31-1), so no run-time trap is left to hit.
// expect: barrier_parties_must_be_positive
// also: is not a constant expression
#include "staticrt/sync/barrier.hpp"

int main() {
    staticrt::Barrier b{0};
    return static_cast<int>(b.parties());
}
