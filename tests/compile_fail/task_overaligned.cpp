// SPDX-License-Identifier: MIT
// An over-aligned callable cannot live in the Task's max-aligned slot.
// expect: the callable is over-aligned
// also: incomplete definition of type 'staticrt::detail::TaskCallable
#include "staticrt/task.hpp"

struct alignas(64) Wide {
    char c = 0;
    void operator()() const noexcept {}
};

int main() {
    staticrt::Task<128> t = Wide{};
    t();
}
