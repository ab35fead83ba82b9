// SPDX-License-Identifier: MIT
// staticrt/result.hpp — Result<T>, Error and Errc for runtime users (defined by the platform layer).
//
//   staticrt::Result<void> r = sem.acquire(staticrt::Deadline::after(5ms));
//   if (!r && r.error() == staticrt::Errc::timeout) { /* retry later */ }
#pragma once

#include "staticrt/platform/result.hpp"
#include "staticrt/platform/time.hpp"
