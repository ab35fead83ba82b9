// SPDX-License-Identifier: MIT
// staticrt/fixed_string.hpp — FixedString<N>: up to N characters stored inline (no heap), for
// keys and names that live in shared memory (SharedDict<FixedString<32>, V, M>).
//
// The characters are NUL-padded to N + 1 bytes, so two equal strings are equal byte for byte
// (hashing and comparing the object representation is correct) and c_str() is always valid.
// A string literal longer than N is a compile-time error; from() rejects a longer run-time
// string (or one with an embedded NUL) with Errc::invalid_argument instead of truncating it.
//
//   constexpr staticrt::FixedString<16> key{"apples"};
//   auto k = staticrt::FixedString<16>::from(user_text);   // Result<FixedString<16>>
#pragma once

#include <cstddef>
#include <string_view>

#include "staticrt/platform/result.hpp"

namespace staticrt {

template <std::size_t N>
class FixedString {
    static_assert(N > 0, "FixedString<N>: N (the longest string kept) must be at least 1");

public:
    static constexpr std::size_t kCapacity = N;

    constexpr FixedString() noexcept = default;
    /// From a string literal; a literal longer than N characters does not compile.
    template <std::size_t M>
    constexpr FixedString(const char (&text)[M]) noexcept {  // NOLINT: implicit, like std::string
        static_assert(M >= 1 && M - 1 <= N, "FixedString<N>: the string literal is longer than N characters");
        for (std::size_t i = 0; i + 1 < M && text[i] != '\0'; ++i) m_chars[i] = text[i];
    }
    /// From run-time text. Errc::invalid_argument: longer than N, or an embedded NUL.
    [[nodiscard]] static Result<FixedString> from(std::string_view text) noexcept {
        if (text.size() > N) return unexpected(Errc::invalid_argument);
        FixedString s;
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (text[i] == '\0') return unexpected(Errc::invalid_argument);
            s.m_chars[i] = text[i];
        }
        return s;
    }

    [[nodiscard]] constexpr std::size_t size() const noexcept {
        std::size_t n = 0;
        while (n < N && m_chars[n] != '\0') ++n;
        return n;
    }
    [[nodiscard]] constexpr bool empty() const noexcept { return m_chars[0] == '\0'; }
    [[nodiscard]] constexpr std::string_view view() const noexcept { return {m_chars, size()}; }
    [[nodiscard]] constexpr const char* c_str() const noexcept { return m_chars; }

    friend constexpr bool operator==(const FixedString& a, const FixedString& b) noexcept {
        for (std::size_t i = 0; i < N; ++i)
            if (a.m_chars[i] != b.m_chars[i]) return false;
        return true;
    }

private:
    char m_chars[N + 1] = {};  // NUL-padded; m_chars[N] is always NUL
};

}  // namespace staticrt
