#include "engine/runtime/command_outcome.hpp"

#include <fmt/format.h>

namespace rmaflow {

namespace {

constexpr std::string_view kRefused = "refused";

}  // namespace

std::string refused_outcome(const Error& error) {
  const auto* argument = dynamic_cast<const ArgumentError*>(&error);
  if (error.code() == Errc::refused && argument == nullptr) {
    return fmt::format("{}: {}", kRefused, error.what());
  }
  return fmt::format("{} [{}{}{}]: {}", kRefused, to_string(error.code()),
                     argument != nullptr ? " " : "", argument != nullptr ? argument->field() : "",
                     error.what());
}

void throw_refusal(std::string_view outcome, Errc fallback) {
  if (!outcome.starts_with(kRefused)) return;
  auto rest = outcome.substr(kRefused.size());
  if (rest.starts_with(": ")) throw Error(fallback, std::string(rest.substr(2)));
  auto close = rest.find("]: ");
  if (!rest.starts_with(" [") || close == std::string_view::npos) {
    throw Error(fallback, std::string(outcome));
  }
  auto kind = rest.substr(2, close - 2);
  auto reason = std::string(rest.substr(close + 3));
  auto space = kind.find(' ');
  auto code = parse_errc(kind.substr(0, space)).value_or(fallback);
  if (space != std::string_view::npos) {
    throw ArgumentError(code, reason, std::string(kind.substr(space + 1)));
  }
  throw Error(code, reason);
}

}  // namespace rmaflow
