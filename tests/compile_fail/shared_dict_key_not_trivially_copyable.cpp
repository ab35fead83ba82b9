// SPDX-License-Identifier: MIT
// A SharedDict key must be plain bytes in shared memory: std::string points into one process's heap.
// expect: Key must be trivially copyable to live in shared memory
// also: Key must have no padding bits
#include <string>
#include "staticrt/ipc/shared_dict.hpp"
staticrt::ipc::SharedDict<std::string, int, 4>* d = nullptr;
int main() { return sizeof(*d) > 0 ? 0 : 1; }
