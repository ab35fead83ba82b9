// SPDX-License-Identifier: MIT
// The doctest conformance suite's main: runs on every target (host, qemu, wine).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
