// SPDX-License-Identifier: MIT
// No-heap checks of the Python-vocabulary pieces: a SharedDict in a named segment (insert,
// assign, update, get, erase, snapshot, full), a Pipe between two threads (connect, send, recv,
// poll, close, EOF) and a daemon Thread's join allocate nothing (its start: glibc's one DTV).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>

#include "ipc_test_support.hpp"
#include "counting_alloc.hpp"
#include "staticrt/fixed_string.hpp"
#include "staticrt/ipc/pipe.hpp"
#include "staticrt/ipc/shared_dict.hpp"
#include "staticrt/ipc/shared_segment.hpp"
#include "staticrt/thread.hpp"
#include "watchdog.hpp"

using namespace std::chrono_literals;
using staticrt::Deadline;
using staticrt::Errc;
using staticrt::test::AllocationCounter;
namespace ipc = staticrt::ipc;
namespace test = staticrt::test;

namespace {
char g_dict_name[64];
using Dict = ipc::SharedDict<staticrt::FixedString<15>, long, 4>;
ipc::Pipe<256> g_pipe;
staticrt::Thread<256 * 1024> g_thread;
}  // namespace

TEST(NoHeapIpcVocabulary, SharedDictInSegment_ZeroAllocations) {
    std::snprintf(g_dict_name, sizeof g_dict_name, "%s", test::shm_name("nh-dict").c_str());
    AllocationCounter c;
    {
        ipc::SharedSegment<Dict> d;
        ASSERT_TRUE(d.create(g_dict_name));
        bool ok = true;
        ok &= d->insert("a", 1).value_or(false);
        ok &= d->insert("b", 2).value_or(false);
        ok &= !d->insert("a", 10).value_or(true);  // assign
        ok &= d->update("c", 0, [](long& v) noexcept { v += 5; }).value_or(0) == 5;
        ok &= d->setdefault("d", 7).value_or(0) == 7;
        ok &= d->insert("e", 1).code() == Errc::full;
        ok &= d->get("a").value_or(std::nullopt).value_or(0) == 10;
        ok &= d->erase("b").value_or(false);
        Dict::Entry all[4];
        ok &= d->snapshot(all).value_or(0) == 3;
        ok &= d->size().value_or(0) == 3;
        ok &= static_cast<bool>(d->clear());
        d.destroy();
        EXPECT_TRUE(ok);
    }
    EXPECT_EQ(c.count(), 0u);
}

TEST(NoHeapIpcVocabulary, PipeBetweenThreadsAndDaemonThread_ZeroAllocations) {
    test::Watchdog wd{60s};
    static std::atomic<int> echoed{0};
    // Thread start is outside the counted region: glibc callocs one DTV per pthread_create
    // (see NoHeapPlatform.StartJoin_AfterWarmUp_OnlyGlibcDtvPerStartAndNothingElse).
    {
        ASSERT_TRUE(g_thread.start(
            [] {
                auto b = g_pipe.connect(1);
                if (!b) return;
                for (;;) {
                    auto v = b->recv<int>(Deadline::after(30s));
                    if (!v || !b->send(*v * 2)) break;  // EOF ends the loop
                    echoed.fetch_add(1);
                }
                b->close();
            },
            {.name = "echo", .daemon = true}));
    }
    AllocationCounter c;
    {
        auto a = g_pipe.connect(0);
        ASSERT_TRUE(a);
        bool ok = true;
        for (int i = 0; i < 100; ++i) {
            ok &= static_cast<bool>(a->send(i, Deadline::after(30s)));
            ok &= a->recv<int>(Deadline::after(30s)).value_or(-1) == 2 * i;
        }
        ok &= !a->poll().value_or(true);
        a->close();
        ASSERT_TRUE(g_thread.join(Deadline::after(30s)));
        EXPECT_TRUE(ok);
    }
    EXPECT_EQ(c.count(), 0u);
    EXPECT_EQ(echoed.load(), 100);
}
