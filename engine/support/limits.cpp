#include "engine/support/limits.hpp"

#include <fmt/format.h>

#include "engine/support/utf8.hpp"

namespace rmaflow {

std::optional<std::string> name_problem(std::string_view what, std::string_view value,
                                        std::size_t max_bytes) {
  if (value.size() > max_bytes) {
    return fmt::format("{} is {} bytes long; at most {} are allowed", what, value.size(), max_bytes);
  }
  if (auto at = invalid_utf8_at(value)) {
    return fmt::format("{} is not valid UTF-8 (byte {})", what, *at);
  }
  return std::nullopt;
}

}  // namespace rmaflow
