// SPDX-License-Identifier: MIT
// The counting allocator itself: every C and C++ allocation function it claims to replace is
// really counted (a function it missed would let a header template allocate unseen). Each call
// goes through a volatile function pointer so the compiler cannot elide the allocation.
#include <gtest/gtest.h>

#include <malloc.h>

#include <cstdlib>
#include <new>

#include "counting_alloc.hpp"

namespace {
template <class F>
F opaque(F f) {
    F volatile v = f;
    return v;
}
}  // namespace

TEST(NoHeapCounter, EveryAllocationFunction_CountedOnce) {
    using staticrt::test::AllocationCounter;
    {
        AllocationCounter c;
        void* p = opaque(&std::malloc)(24);
        EXPECT_EQ(c.count(), 1u) << "malloc";
        p = opaque(&std::realloc)(p, 4096);
        EXPECT_EQ(c.count(), 2u) << "realloc";
        std::free(p);
        void* q = opaque(&std::calloc)(3, 8);
        EXPECT_EQ(c.count(), 3u) << "calloc";
        std::free(q);
    }
    {
        AllocationCounter c;
        void* p = opaque(&aligned_alloc)(64, 128);
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(c.count(), 1u) << "aligned_alloc";
        std::free(p);
    }
    {
        AllocationCounter c;
        void* p = nullptr;
        ASSERT_EQ(opaque(&posix_memalign)(&p, 64, 128), 0);
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 64, 0u);
        EXPECT_EQ(c.count(), 1u) << "posix_memalign";
        std::free(p);
    }
    {
        AllocationCounter c;
        void* p = opaque(&memalign)(64, 128);
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(c.count(), 1u) << "memalign";
        std::free(p);
    }
    {
        AllocationCounter c;
        void* p = opaque(&valloc)(128);
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(c.count(), 1u) << "valloc";
        std::free(p);
    }
    {
        AllocationCounter c;
        void* p = opaque(&pvalloc)(128);
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(c.count(), 1u) << "pvalloc";
        std::free(p);
    }
    {
        AllocationCounter c;
        void* (*plain)(std::size_t) = &::operator new;
        void* (*aligned)(std::size_t, std::align_val_t) = &::operator new;
        void* a = opaque(plain)(16);
        void* b = opaque(aligned)(16, std::align_val_t{64});
        EXPECT_EQ(c.count(), 2u) << "operator new, aligned operator new";
        ::operator delete(a);
        ::operator delete(b, std::align_val_t{64});
    }
}
