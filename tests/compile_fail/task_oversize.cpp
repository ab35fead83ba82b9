// SPDX-License-Identifier: MIT
// A callable larger than the Task's slot must not compile; the message names the fix.
// expect: the callable is larger than the Task's slot
// also: incomplete definition of type 'staticrt::detail::TaskCallable
#include <array>

#include "staticrt/task.hpp"

int main() {
    std::array<char, 100> big{};
    staticrt::Task<32> t = [big] { (void)big; };
    t();
}
