#include "rmaflow/errors.hpp"

namespace rmaflow {

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::invalid_argument: return "invalid-argument";
    case Errc::not_found: return "not-found";
    case Errc::conflict: return "conflict";
    case Errc::invalid_definition: return "invalid-definition";
    case Errc::invalid_input: return "invalid-input";
    case Errc::refused: return "refused";
    case Errc::storage: return "storage";
    case Errc::adapter_config: return "adapter-config";
    case Errc::io: return "io";
    case Errc::busy:
      return "busy";
  }
  return "unknown";
}

std::optional<Errc> parse_errc(std::string_view text) {
  for (auto code : {Errc::invalid_argument, Errc::not_found, Errc::conflict,
                    Errc::invalid_definition, Errc::invalid_input, Errc::refused, Errc::storage,
                    Errc::adapter_config, Errc::io, Errc::busy}) {
    if (to_string(code) == text) return code;
  }
  return std::nullopt;
}

}  // namespace rmaflow
