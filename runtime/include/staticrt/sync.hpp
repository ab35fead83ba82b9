// SPDX-License-Identifier: MIT
// staticrt/sync.hpp — every synchronisation primitive in one include.
//
// Mutex / SharedMemoryMutex, Condition / ProcessCondition, Semaphore / ProcessSemaphore,
// BoundedSemaphore / ProcessBoundedSemaphore, Event / ProcessEvent, Latch / ProcessLatch,
// Barrier / ProcessBarrier. See docs/sync.md.
//
//   #include "staticrt/sync.hpp"
//   constinit staticrt::Mutex g_lock;
//   constinit staticrt::BoundedSemaphore g_slots{8};
#pragma once

#include "staticrt/sync/barrier.hpp"
#include "staticrt/sync/condition.hpp"
#include "staticrt/sync/count.hpp"
#include "staticrt/sync/event.hpp"
#include "staticrt/sync/latch.hpp"
#include "staticrt/sync/mutex.hpp"
#include "staticrt/sync/semaphore.hpp"
