// SPDX-License-Identifier: MIT
// A run-time signed count cannot be checked at compile time: it must go through init().
// expect: is not a constant expression
#include "staticrt/sync/semaphore.hpp"

int main(int argc, char**) {
    staticrt::Semaphore s{argc};
    return static_cast<int>(s.value());
}
