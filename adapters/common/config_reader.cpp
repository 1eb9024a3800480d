#include "adapters/common/config_reader.hpp"

#include <charconv>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "engine/support/yaml_json.hpp"
#include "rmaflow/errors.hpp"

namespace rmaflow {

void ConfigReader::fail(const YAML::Node& at, const std::string& message) const {
  throw Error(Errc::adapter_config, fmt::format("{}:{}: {}", file_, yaml_position(at), message));
}

void ConfigReader::check_keys(const YAML::Node& map, const std::set<std::string>& allowed,
                              const std::string& where) const {
  for (const auto& kv : map) {
    auto key = kv.first.Scalar();
    if (!allowed.count(key)) {
      fail(kv.first, fmt::format("unknown key \"{}\" in {} (allowed: {})", key, where,
                                 fmt::join(allowed, ", ")));
    }
  }
}

void ConfigReader::expect_map(const YAML::Node& node, const std::string& what) const {
  if (!node.IsMap()) fail(node, what + " must be a mapping");
}

void ConfigReader::expect_sequence(const YAML::Node& node, const std::string& what) const {
  if (!node.IsSequence()) fail(node, what + " must be a list");
}

std::string ConfigReader::scalar(const YAML::Node& node, const std::string& what) const {
  if (!node.IsScalar()) fail(node, what + " must be a single value");
  return node.Scalar();
}

Duration ConfigReader::duration(const YAML::Node& node) const {
  auto d = node.IsScalar() ? parse_duration(node.Scalar()) : std::nullopt;
  if (!d) {
    fail(node, fmt::format("\"{}\" is not a duration such as 250ms, 30s or 5m",
                           node.IsScalar() ? node.Scalar() : "?"));
  }
  return *d;
}

long ConfigReader::integer(const YAML::Node& node, long min, long max,
                           const std::string& what) const {
  auto text = scalar(node, what);
  long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    fail(node, fmt::format("{} must be a whole number from {} to {}, not \"{}\"", what, min, max,
                           text));
  }
  return value;
}

double ConfigReader::number(const YAML::Node& node, double min, double max,
                            const std::string& what) const {
  auto value = node.IsScalar() ? yaml_scalar_value(node) : nlohmann::json();
  if (!value.is_number() || !std::isfinite(value.get<double>()) || value.get<double>() < min ||
      value.get<double>() > max) {
    fail(node, fmt::format("{} must be a number from {} to {}", what, min, max));
  }
  return value.get<double>();
}

bool ConfigReader::boolean(const YAML::Node& node, const std::string& what) const {
  auto value = node.IsScalar() ? yaml_scalar_value(node) : nlohmann::json();
  if (!value.is_boolean()) fail(node, what + " must be true or false");
  return value.get<bool>();
}

std::string ConfigReader::path(const YAML::Node& node) const {
  std::filesystem::path p(scalar(node, "a file path"));
  if (p.is_relative()) p = std::filesystem::path(base_dir_) / p;
  return p.string();
}

}  // namespace rmaflow
