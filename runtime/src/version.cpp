#include "staticrt/version.hpp"

namespace staticrt {
const char* version() noexcept { return STATICRT_VERSION_STRING; }
}  // namespace staticrt
