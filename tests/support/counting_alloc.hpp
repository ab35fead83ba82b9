// SPDX-License-Identifier: MIT
// counting_alloc.hpp — counts every heap allocation of the process (tests/noheap only).
//
//   staticrt::test::AllocationCounter c;   // starts counting
//   ... use a primitive ...
//   EXPECT_EQ(c.count(), 0u);
//
// counting_alloc.cpp replaces malloc/calloc/realloc/free, aligned_alloc/posix_memalign/memalign/
// valloc/pvalloc (glibc: through __libc_* entry points) and every operator new/delete, so both C
// and C++ allocations are seen (tests/noheap/test_noheap_counter.cpp checks each one).
#pragma once

#include <cstddef>

namespace staticrt::test {

/// Total allocations (any of the functions above, operator new of any form) since process start.
std::size_t allocation_count() noexcept;

class AllocationCounter {
public:
    AllocationCounter() noexcept : m_start(allocation_count()) {}
    [[nodiscard]] std::size_t count() const noexcept { return allocation_count() - m_start; }

private:
    std::size_t m_start;
};

}  // namespace staticrt::test
