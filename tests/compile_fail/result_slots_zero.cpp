// SPDX-License-Identifier: MIT
// A result slot pool needs at least one slot.
// expect: ResultSlots needs at least one slot
#include "staticrt/exec/future.hpp"
staticrt::ResultSlots<0> g_slots;
