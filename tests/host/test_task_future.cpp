// SPDX-License-Identifier: MIT
// Future<T> / Promise<T> / ResultSlots: values, errors, waiting, recycling, exhaustion.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "eventually.hpp"
#include "staticrt/exec/future.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::Error;
using staticrt::Result;
using staticrt::ResultSlots;

namespace {

TEST(ResultSlots, Make_WhenFree_ReturnsConnectedPair) {
    ResultSlots<4> slots;
    auto pf = slots.make<int>();
    ASSERT_TRUE(pf);
    EXPECT_TRUE(pf->promise.valid());
    EXPECT_TRUE(pf->future.valid());
    EXPECT_FALSE(pf->future.ready());
    ASSERT_TRUE(pf->promise.set_value(42));
    EXPECT_TRUE(pf->future.ready());
    auto v = pf->future.get();
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, 42);
    EXPECT_FALSE(pf->future.valid());
}

TEST(ResultSlots, Make_WhenAllInUse_ReturnsExhausted) {
    ResultSlots<2> slots;
    auto a = slots.make<int>();
    auto b = slots.make<int>();
    ASSERT_TRUE(a);
    ASSERT_TRUE(b);
    auto c = slots.make<int>();
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error(), Errc::exhausted);
    auto d = slots.make<int>(Deadline::after(1ms));
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error(), Errc::timeout);
}

TEST(ResultSlots, Slot_WhenFutureConsumedAndPromiseWritten_IsRecycled) {
    ResultSlots<1> slots;
    for (int i = 0; i < 1000; ++i) {
        auto pf = slots.make<int>();
        ASSERT_TRUE(pf) << i;
        (void)pf->promise.set_value(i);
        EXPECT_EQ(*pf->future.get(), i);
    }
}

TEST(ResultSlots, Slot_WhenFutureDroppedBeforeResult_IsRecycledByWriter) {
    ResultSlots<1> slots;
    auto pf = slots.make<int>();
    ASSERT_TRUE(pf);
    pf->future.reset();
    EXPECT_EQ(slots.make<int>().error(), Errc::exhausted);
    (void)pf->promise.set_value(1);
    EXPECT_TRUE(slots.make<int>());
}

TEST(ResultSlots, Slot_WhenFutureDroppedAfterResult_IsRecycled) {
    ResultSlots<1> slots;
    {
        auto pf = slots.make<int>();
        ASSERT_TRUE(pf);
        (void)pf->promise.set_value(1);
    }
    EXPECT_TRUE(slots.make<int>());
}

TEST(ResultSlots, Make_WhenWaitingAndSlotFrees_Succeeds) {
    staticrt::test::Watchdog wd{30s};
    ResultSlots<1> slots;
    auto pf = slots.make<int>();
    ASSERT_TRUE(pf);
    std::thread t([&] {
        std::this_thread::sleep_for(20ms);
        (void)pf->promise.set_value(3);
        pf->future.reset();
    });
    auto again = slots.make<int>(Deadline::after(10s));
    EXPECT_TRUE(again);
    t.join();
}

TEST(Promise, Destroy_WithoutValue_FutureReportsBroken) {
    ResultSlots<1> slots;
    auto pf = slots.make<int>();
    ASSERT_TRUE(pf);
    { auto p = std::move(pf->promise); }
    auto r = pf->future.get();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), Errc::broken);
}

TEST(Promise, SetError_FutureReportsThatError) {
    ResultSlots<1> slots;
    auto pf = slots.make<long>();
    ASSERT_TRUE(pf);
    ASSERT_TRUE(pf->promise.set_error(Error{Errc::os_error, 5}));
    auto r = pf->future.get();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), (Error{Errc::os_error, 5}));
}

TEST(Promise, Set_Twice_ReturnsInvalidArgument) {
    ResultSlots<1> slots;
    auto pf = slots.make<int>();
    ASSERT_TRUE(pf);
    EXPECT_TRUE(pf->promise.set_value(1));
    EXPECT_EQ(pf->promise.set_value(2).code(), Errc::invalid_argument);
    EXPECT_EQ(*pf->future.get(), 1);
}

TEST(Promise, Void_SetValue_FutureSucceeds) {
    ResultSlots<1> slots;
    auto pf = slots.make<void>();
    ASSERT_TRUE(pf);
    EXPECT_TRUE(pf->promise.set_value());
    EXPECT_TRUE(pf->future.get());
}

TEST(Future, Get_BeforeResultWithPollDeadline_ReturnsTimeoutAndStaysValid) {
    ResultSlots<1> slots;
    auto pf = slots.make<int>();
    ASSERT_TRUE(pf);
    EXPECT_EQ(pf->future.get(Deadline::poll()).code(), Errc::timeout);
    EXPECT_EQ(pf->future.wait_for(2ms).code(), Errc::timeout);
    EXPECT_EQ(pf->future.wait_until(std::chrono::steady_clock::now() + 1ms).code(), Errc::timeout);
    EXPECT_TRUE(pf->future.valid());
    (void)pf->promise.set_value(7);
    EXPECT_TRUE(pf->future.wait());
    EXPECT_EQ(*pf->future.get(), 7);
}

TEST(Future, Get_OnInvalidFuture_ReturnsInvalidArgument) {
    staticrt::Future<int> f;
    EXPECT_FALSE(f.valid());
    EXPECT_FALSE(f.ready());
    EXPECT_EQ(f.get().code(), Errc::invalid_argument);
    EXPECT_EQ(f.wait().code(), Errc::invalid_argument);
}

TEST(Future, Get_FromOtherThread_WakesSleepingReader) {
    staticrt::test::Watchdog wd{30s};
    ResultSlots<1> slots;
    auto pf = slots.make<int>();
    ASSERT_TRUE(pf);
    std::thread t([&] {
        std::this_thread::sleep_for(20ms);
        (void)pf->promise.set_value(99);
    });
    auto r = pf->future.get();
    t.join();
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, 99);
}

TEST(Future, Move_TransfersOwnership) {
    ResultSlots<1> slots;
    auto pf = slots.make<int>();
    ASSERT_TRUE(pf);
    staticrt::Future<int> g = std::move(pf->future);
    EXPECT_FALSE(pf->future.valid());
    EXPECT_TRUE(g.valid());
    (void)pf->promise.set_value(5);
    EXPECT_EQ(*g.get(), 5);
}

TEST(Future, MoveOnlyValue_IsDelivered) {
    ResultSlots<1> slots;
    auto pf = slots.make<std::unique_ptr<int>>();
    ASSERT_TRUE(pf);
    (void)pf->promise.set_value(std::make_unique<int>(8));
    auto r = pf->future.get();
    ASSERT_TRUE(r);
    EXPECT_EQ(**r, 8);
}

TEST(Future, WriterOnOtherThread_EveryResultArrivesOnce) {
    staticrt::test::Watchdog wd{60s};
    static ResultSlots<64> slots;
    constexpr int kRounds = 20000;
    // The reader makes pairs and hands each promise to the writer thread through a one-slot
    // mailbox; the writer sets it; the reader gets it (sometimes after dropping a future, so
    // the writer recycles the slot).
    std::atomic<staticrt::Promise<int>*> mailbox{nullptr};
    std::atomic<bool> done{false};
    std::thread writer([&] {
        int i = 0;
        while (!done.load()) {
            staticrt::Promise<int>* p = mailbox.exchange(nullptr);
            if (p == nullptr) {
                std::this_thread::yield();
                continue;
            }
            (void)p->set_value(i++);
            delete p;
        }
    });
    long long sum = 0;
    int dropped = 0;
    for (int i = 0; i < kRounds; ++i) {
        auto pf = slots.make<int>(Deadline::after(10s));
        ASSERT_TRUE(pf);
        auto* p = new staticrt::Promise<int>(std::move(pf->promise));
        while (mailbox.load() != nullptr) std::this_thread::yield();
        mailbox.store(p);
        if (i % 7 == 0) {
            pf->future.reset();
            ++dropped;
            continue;
        }
        auto v = pf->future.get(Deadline::after(10s));
        ASSERT_TRUE(v);
        sum += *v;
    }
    while (mailbox.load() != nullptr) std::this_thread::yield();
    done.store(true);
    writer.join();
    long long expect = 0;
    for (int i = 0; i < kRounds; ++i) expect += (i % 7 == 0) ? 0 : i;
    EXPECT_EQ(sum, expect);
    EXPECT_GT(dropped, 0);
    // Every slot came back: all 64 can be taken at once.
    std::vector<staticrt::PromiseFuture<int>> all;
    for (int i = 0; i < 64; ++i) {
        auto pf = slots.make<int>(Deadline::after(10s));
        ASSERT_TRUE(pf) << i;
        all.push_back(std::move(*pf));
    }
}

}  // namespace

// close(): a make() asleep waiting for a free slot returns Errc::closed, and so does every later
// make() that finds no free slot; a free slot is still handed out.
TEST(ResultSlots, Close_WakesBlockedMake_WithClosed) {
    staticrt::test::Watchdog wd{30s};
    ResultSlots<1> slots;
    auto held = slots.make<int>();
    ASSERT_TRUE(held);
    Errc got = Errc::ok;
    std::thread t([&] { got = slots.make<int>(Deadline::never()).code(); });
    ASSERT_TRUE(staticrt::test::eventually([&] { return slots.waiting() == 1; }));  // registered to sleep
    slots.close();
    t.join();
    EXPECT_EQ(got, Errc::closed);
    EXPECT_EQ(slots.waiting(), 0u);
    EXPECT_EQ(slots.make<int>(Deadline::never()).code(), Errc::closed);
    EXPECT_EQ(slots.make<int>().code(), Errc::exhausted);  // a poll still says exhausted
    ASSERT_TRUE(held->promise.set_value(1));
    EXPECT_EQ(*held->future.get(), 1);
    EXPECT_TRUE(slots.make<int>(Deadline::never()));  // free again: handed out
}

// release() wakes a make() asleep for a slot (the waiting layer's notify path).
TEST(ResultSlots, Release_WakesBlockedMake) {
    staticrt::test::Watchdog wd{30s};
    ResultSlots<1> slots;
    auto held = slots.make<int>();
    ASSERT_TRUE(held);
    bool ok = false;
    std::thread t([&] {
        auto p = slots.make<int>(Deadline::never());
        ok = static_cast<bool>(p);
    });
    ASSERT_TRUE(staticrt::test::eventually([&] { return slots.waiting() == 1; }));
    ASSERT_TRUE(held->promise.set_value(7));
    EXPECT_EQ(*held->future.get(), 7);  // recycles the slot, wakes the waiter
    t.join();
    EXPECT_TRUE(ok);
}
