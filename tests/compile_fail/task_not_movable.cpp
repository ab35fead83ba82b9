// SPDX-License-Identifier: MIT
// A callable that cannot be moved (Task relocates callables when it moves) must not compile.
// expect: the callable must be nothrow move-constructible
// also: incomplete definition of type 'staticrt::detail::TaskCallable
#include "staticrt/task.hpp"

struct Pinned {
    Pinned() = default;
    Pinned(const Pinned&) noexcept = default;
    Pinned(Pinned&&) = delete;
    void operator()() const noexcept {}
};

int main() {
    const Pinned p;
    staticrt::Task<32> t = p;
    t();
}
