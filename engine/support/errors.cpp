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
  }
  return "unknown";
}

}  // namespace rmaflow
