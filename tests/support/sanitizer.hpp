// SPDX-License-Identifier: MIT
// sanitizer.hpp — which sanitizer a test binary was built with (g++ and clang spellings).
#pragma once

namespace staticrt::test {

/// True in a ThreadSanitizer build. TSan models a robust mutex's owner-died hand-over from a
/// dead *process* wrongly (the lock happened in another address space, so the recovering
/// unlock is reported as "unlock of an unlocked mutex"): those cases skip under TSan.
constexpr bool kThreadSanitizer =
#if defined(__SANITIZE_THREAD__)
    true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
    true;
#else
    false;
#endif
#else
    false;
#endif

}  // namespace staticrt::test
