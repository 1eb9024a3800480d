// UTF-8 at the edges. Text that enters from outside (HTTP paths, headers, YAML, adapter
// answers) must be valid UTF-8 before it reaches a JSON document: nlohmann::json refuses to
// serialize anything else, and a refusal raised on the engine thread would stop the engine.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace rmaflow {

// The byte offset of the first byte that does not start or continue a valid UTF-8 character
// (overlong forms, surrogates and code points past U+10FFFF included), or nullopt.
std::optional<std::size_t> invalid_utf8_at(std::string_view text);

inline bool is_valid_utf8(std::string_view text) { return !invalid_utf8_at(text); }

// `text` with every invalid byte replaced by U+FFFD, cut to at most `max_bytes` bytes at a
// character boundary ("..." appended when cut). For quoting foreign text in a message.
std::string quote_utf8(std::string_view text, std::size_t max_bytes = std::string::npos);

}  // namespace rmaflow
