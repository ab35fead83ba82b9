// SPDX-License-Identifier: MIT
// Pipe messages are bytes copied through shared memory: a std::string's bytes point into the sender's heap.
// expect: PipeConnection::send<T>: T must be trivially copyable
#include <string>
#include "staticrt/ipc/pipe.hpp"
int main() {
    staticrt::ipc::PipeConnection c;
    return c.send(std::string("hi")) ? 0 : 1;
}
