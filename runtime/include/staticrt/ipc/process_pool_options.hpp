// SPDX-License-Identifier: MIT
// staticrt/ipc/process_pool_options.hpp — what a ProcessPool user configures and reads back:
// the start method, ProcessPoolOptions, MapReport and the pool's fixed limits.
//
// Plain value types; ipc/process_pool.hpp includes this header. The pool's shared-memory
// layout and engine (ipc/detail/process_pool_layout.hpp) are not public API.
//
//   staticrt::ipc::ProcessPoolOptions o;  o.start_method = staticrt::ipc::StartMethod::fork;
//   if (!pool.start(o)) return 1;
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "staticrt/platform/cpu.hpp"

namespace staticrt::ipc {

inline constexpr std::size_t kMaxPoolFunctions = 32;
inline constexpr std::size_t kMaxPoolFunctionName = 47;
inline constexpr std::size_t kMaxPoolWorkers = 64;

enum class StartMethod : std::uint8_t { spawn, fork };

/// Options for ProcessPool::start(). Every field has a usable default.
struct ProcessPoolOptions {
    StartMethod start_method = StartMethod::spawn;
    /// Worker i is pinned to cpus->nth(i % cpus->count()); nullptr: not pinned.
    const platform::CpuSet* cpus = nullptr;
    /// How often a chunk (or a submitted call) whose worker died is given to another worker
    /// before it is reported failed.
    std::uint32_t max_retries = 2;
    /// Items per chunk; 0 picks count / (Workers * 16), at least 1 (and at most kMaxPoolChunks chunks).
    std::size_t chunk = 0;
    /// While the parent waits, how often it checks that its workers live (one non-blocking
    /// reap per worker); it is woken by the last chunk before that, so a map pays nothing.
    std::chrono::milliseconds liveness_interval{20};
    /// A worker that holds one chunk or call for longer than this without finishing it is
    /// killed (SIGKILL / TerminateProcess) and replaced; its work is retried like a dead
    /// worker's. 0 (the default): off, a slow chunk is never taken for a stuck one. Detection
    /// happens at the liveness checks, so it lands within stall_timeout + liveness_interval.
    std::chrono::milliseconds stall_timeout{0};
    /// Replacements that die before they come up (cannot map the segment, see a stop word they
    /// were not given, cannot be created), in a row for one worker, before the pool is broken.
    /// Attempts are spaced liveness_interval, doubled each time (capped at 1 s).
    std::uint32_t max_start_failures = 5;
};

/// What a map() did.
struct MapReport {
    std::size_t completed = 0;        ///< items with a result
    std::size_t failed = 0;           ///< items whose chunk died more than max_retries times
    std::size_t retried_chunks = 0;   ///< chunks given again after a worker died
    std::size_t worker_restarts = 0;  ///< workers replaced during this map
    std::size_t stalled_workers = 0;  ///< workers killed during this map for exceeding stall_timeout
};

/// Most chunks one map hands out (their states live in the control block).
inline constexpr std::size_t kMaxPoolChunks = 4096;
/// submit(): calls in flight at once, and the largest argument / result in bytes.
inline constexpr std::size_t kMaxPoolCalls = 32;
inline constexpr std::size_t kMaxPoolCallBytes = 64;

}  // namespace staticrt::ipc
