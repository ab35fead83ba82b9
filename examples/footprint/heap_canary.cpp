// SPDX-License-Identifier: MIT
// Not an example: a program that allocates (std::function in a std::vector), so the ctest
// footprint.no_heap_check_detects can show that staticrt_check_no_heap's check names the
// symbol and this object. Built with the linker map the check reads, without the check itself.
#include <functional>
#include <vector>

int main(int argc, char**) {
    std::vector<std::function<int()>> jobs;
    jobs.emplace_back([argc] { return argc; });
    return jobs[0]() == argc ? 0 : 1;
}
