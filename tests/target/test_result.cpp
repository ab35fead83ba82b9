// SPDX-License-Identifier: MIT
// Conformance: Result<T> keeps every byte of its value through moves and copies, and its
// error paths. Regression: with an anonymous union { T; Error; } g++ 12 -O2 once moved a
// Result<{int, int}> through the Error member, whose padding lost bytes 1-3 of the value.
#include <type_traits>
#include <doctest/doctest.h>

#include <memory>
#include <utility>

#include "staticrt/queue/spsc_queue.hpp"
#include "staticrt/result.hpp"

using staticrt::Errc;
using staticrt::Result;

namespace {
struct IntPair {
    int a;
    int b;
    IntPair(int x, int y) noexcept : a(x), b(y) {}
};

Result<IntPair> make_pair_result(int x) noexcept { return IntPair(x, x + 1); }
Result<IntPair> make_error(Errc c) noexcept { return staticrt::unexpected(c, 42); }
}  // namespace

TEST_CASE("Result: a value survives move, copy and assignment bit for bit") {
    Result<IntPair> r = make_pair_result(0x12345678);
    REQUIRE(r);
    CHECK(r->a == 0x12345678);
    CHECK(r->b == 0x12345679);
    Result<IntPair> moved(std::move(r));
    CHECK(moved->a == 0x12345678);
    Result<IntPair> copied(moved);
    CHECK(copied->a == 0x12345678);
    copied = make_error(Errc::timeout);
    CHECK(copied.code() == Errc::timeout);
    copied = moved;
    CHECK(copied->b == 0x12345679);
}

TEST_CASE("Result: errors keep their code and OS code; code() never traps") {
    Result<IntPair> e = make_error(Errc::os_error);
    CHECK_FALSE(e);
    CHECK(e.error() == Errc::os_error);
    CHECK(e.error().os_code == 42);
    CHECK(make_pair_result(1).code() == Errc::ok);
    CHECK(e.value_or(IntPair(7, 8)).a == 7);
    Result<void> v;
    CHECK(v);
    Result<void> ve = staticrt::unexpected(Errc::closed);
    CHECK(ve.code() == Errc::closed);
}

// One way to return an error: `return unexpected(Errc::x);`. A bare Errc does not convert (it
// would read like a value, and `Result<Errc>` would be ambiguous).
static_assert(!std::is_convertible_v<Errc, Result<void>>, "an error is spelled unexpected(Errc::x)");
static_assert(!std::is_convertible_v<Errc, Result<int>>, "an error is spelled unexpected(Errc::x)");

TEST_CASE("Result: move-only values") {
    Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
    Result<std::unique_ptr<int>> m(std::move(r));
    REQUIRE(m);
    CHECK(**m == 5);
}

TEST_CASE("Result: a value popped from a queue through Result<T> is intact") {
    staticrt::SpscQueue<IntPair, 2> q;
    CHECK(q.try_emplace(1, 2));
    CHECK(q.emplace(staticrt::Deadline::poll(), 3, 4));
    auto a = q.pop();
    REQUIRE(a);
    CHECK(a->a == 1);
    CHECK(a->b == 2);
    auto b = q.pop();
    REQUIRE(b);
    CHECK(b->a == 3);
    CHECK(b->b == 4);
}
