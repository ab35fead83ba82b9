// SPDX-License-Identifier: MIT
// FixedString never truncates: a literal longer than its capacity does not compile.
// expect: the string literal is longer than N characters
// also: is outside the bounds of array type
// also: must be initialized by a constant expression
#include "staticrt/fixed_string.hpp"
constexpr staticrt::FixedString<4> s{"apples"};
int main() { return static_cast<int>(s.size()); }
