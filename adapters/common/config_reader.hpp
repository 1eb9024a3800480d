// ConfigReader: reads one adapter's entry of an adapters YAML file. Every error is an
// Error(adapter_config) that names the file, the line and column, and what is wrong there.
#pragma once

#include <set>
#include <string>

#include <yaml-cpp/yaml.h>

#include "rmaflow/time.hpp"

namespace rmaflow {

class ConfigReader {
 public:
  // `base_dir`: where relative paths in the file resolve (the file's directory).
  ConfigReader(std::string file, std::string base_dir)
      : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

  [[noreturn]] void fail(const YAML::Node& at, const std::string& message) const;

  // Refuses a key of `map` that is not in `allowed`; `where` names the map in the message.
  void check_keys(const YAML::Node& map, const std::set<std::string>& allowed,
                  const std::string& where) const;
  // Requires `node` to be a mapping (or a sequence, a scalar).
  void expect_map(const YAML::Node& node, const std::string& what) const;
  void expect_sequence(const YAML::Node& node, const std::string& what) const;
  std::string scalar(const YAML::Node& node, const std::string& what) const;

  Duration duration(const YAML::Node& node) const;
  long integer(const YAML::Node& node, long min, long max, const std::string& what) const;
  double number(const YAML::Node& node, double min, double max, const std::string& what) const;
  bool boolean(const YAML::Node& node, const std::string& what) const;
  // A file path, resolved against the adapters file's directory when relative.
  std::string path(const YAML::Node& node) const;

  const std::string& file() const { return file_; }
  const std::string& base_dir() const { return base_dir_; }

 private:
  std::string file_;
  std::string base_dir_;
};

}  // namespace rmaflow
