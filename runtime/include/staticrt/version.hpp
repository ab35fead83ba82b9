// staticrt/version.hpp — the library version, as built.
#pragma once

namespace staticrt {
/// "MAJOR.MINOR.PATCH" of the built runtime library.
[[nodiscard]] const char* version() noexcept;
}  // namespace staticrt
