// SPDX-License-Identifier: MIT
// A run-time party count cannot be checked at compile time, signed or not: it must go through
// init(), which returns Errc::invalid_argument for 0, a negative or a too-large count.
// expect: is not a constant expression
#include "staticrt/sync/barrier.hpp"

int main(int argc, char**) {
    staticrt::Barrier b{static_cast<unsigned>(argc)};
    return static_cast<int>(b.parties());
}
