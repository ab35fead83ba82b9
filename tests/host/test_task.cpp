// SPDX-License-Identifier: MIT
// Unit tests for staticrt::Task<Bytes, Signature>.
#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <utility>

#include "staticrt/task.hpp"

using staticrt::Task;

namespace {

struct Counted {
    static inline int alive = 0;
    static inline int moves = 0;
    int* hits;
    explicit Counted(int* h) noexcept : hits(h) { ++alive; }
    Counted(Counted&& o) noexcept : hits(o.hits) { ++alive; ++moves; }
    Counted(const Counted&) = delete;
    ~Counted() { --alive; }
    void operator()() noexcept { ++*hits; }
};

int add_one(int v) noexcept { return v + 1; }

}  // namespace

TEST(Task, DefaultConstructed_IsEmpty) {
    Task<32> t;
    EXPECT_FALSE(t);
    EXPECT_TRUE(t.empty());
    Task<32> n = nullptr;
    EXPECT_FALSE(n);
}

TEST(Task, Invoke_WithCapture_RunsCallable) {
    int hits = 0;
    Task<32> t = [&hits] { ++hits; };
    ASSERT_TRUE(t);
    t();
    t();
    EXPECT_EQ(hits, 2);
}

TEST(Task, Signature_WithArgumentsAndResult_ForwardsThem) {
    Task<16, int(int)> twice = [](int v) { return 2 * v; };
    EXPECT_EQ(twice(21), 42);
    Task<16, int(int)> fp = &add_one;
    EXPECT_EQ(fp(1), 2);
}

TEST(Task, MoveOnlyCapture_IsStoredAndInvoked) {
    auto p = std::make_unique<int>(5);
    Task<32, int()> t = [q = std::move(p)] { return *q; };
    EXPECT_EQ(t(), 5);
}

TEST(Task, Move_TransfersCallableAndEmptiesSource) {
    int hits = 0;
    Counted::alive = 0;
    {
        Task<32> a = Counted{&hits};
        EXPECT_EQ(Counted::alive, 1);
        Task<32> b = std::move(a);
        EXPECT_FALSE(a);  // NOLINT: testing moved-from state
        ASSERT_TRUE(b);
        EXPECT_EQ(Counted::alive, 1);
        b();
        Task<32> c;
        c = std::move(b);
        EXPECT_FALSE(b);  // NOLINT
        c();
        EXPECT_EQ(Counted::alive, 1);
    }
    EXPECT_EQ(hits, 2);
    EXPECT_EQ(Counted::alive, 0);
}

TEST(Task, Reset_DestroysCallable) {
    int hits = 0;
    Counted::alive = 0;
    Task<32> t = Counted{&hits};
    EXPECT_EQ(Counted::alive, 1);
    t.reset();
    EXPECT_FALSE(t);
    EXPECT_EQ(Counted::alive, 0);
    t.reset();  // idempotent
    t = nullptr;
    EXPECT_FALSE(t);
}

TEST(Task, AssignCallable_ReplacesAndDestroysOld) {
    int hits = 0;
    Counted::alive = 0;
    Task<32> t = Counted{&hits};
    t = [&hits] { hits += 10; };
    EXPECT_EQ(Counted::alive, 0);
    t();
    EXPECT_EQ(hits, 10);
}

TEST(Task, Widen_FromSmallerTask_KeepsCallable) {
    int hits = 0;
    Task<16> small = [&hits] { ++hits; };
    Task<64> big = std::move(small);
    EXPECT_FALSE(small);  // NOLINT
    big();
    EXPECT_EQ(hits, 1);
}

TEST(Task, Fits_ReportsSizeAlignmentAndMovability) {
    struct Big {
        std::array<char, 40> data{};
        void operator()() const noexcept {}
    };
    struct NoMove {
        NoMove() = default;
        NoMove(NoMove&&) = delete;
        void operator()() const noexcept {}
    };
    EXPECT_FALSE(Task<32>::fits<Big>);
    EXPECT_TRUE(Task<40>::fits<Big>);
    EXPECT_FALSE(Task<64>::fits<NoMove>);
    EXPECT_LE(sizeof(Task<32>), 32 + alignof(std::max_align_t));
}

TEST(TaskDeathTest, Invoke_WhenEmpty_Traps) {
    EXPECT_DEATH(
        {
            Task<32> t;
            t();
        },
        "invoked an empty Task");
}
