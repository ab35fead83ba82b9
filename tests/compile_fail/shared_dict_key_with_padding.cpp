// SPDX-License-Identifier: MIT
// SharedDict hashes and compares keys byte by byte: padding bytes would make equal keys differ.
// expect: Key must have no padding bits
#include "staticrt/ipc/shared_dict.hpp"
struct Padded {
    char c;
    int i;
};
staticrt::ipc::SharedDict<Padded, int, 4>* d = nullptr;
int main() { return sizeof(*d) > 0 ? 0 : 1; }
