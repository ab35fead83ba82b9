// SPDX-License-Identifier: MIT
// A run-time count (signed or unsigned) cannot be checked at compile time: it must go through
// init(), which returns Errc::invalid_argument for a negative or too-large value.
// expect: is not a constant expression
#include "staticrt/sync/semaphore.hpp"

int main(int argc, char**) {
    staticrt::Semaphore s{argc};
    return static_cast<int>(s.value());
}
