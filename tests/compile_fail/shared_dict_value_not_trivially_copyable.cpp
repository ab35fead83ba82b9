// SPDX-License-Identifier: MIT
// A SharedDict value must be plain bytes in shared memory: a unique_ptr owns one process's heap.
// expect: Value must be trivially copyable to live in shared memory
#include <memory>
#include "staticrt/ipc/shared_dict.hpp"
staticrt::ipc::SharedDict<int, std::unique_ptr<int>, 4>* d = nullptr;
int main() { return sizeof(*d) > 0 ? 0 : 1; }
