// How calls to a simulated system behave on the wire: how long each takes and how some fail,
// per operation. Every decision is drawn from a hash of (seed, operation, idempotency key,
// call number), so a run is repeatable and a process that restarts takes the same decisions.
// In-process, the key's instance id is replaced by the instance's business key (draw_identity),
// so runs that give the same RMAs new instance ids still draw alike.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "adapters/common/config_reader.hpp"
#include "rmaflow/time.hpp"

namespace rmaflow::sim {

struct CallProfile {
  Duration latency_min{0};
  Duration latency_max{0};          // equal to latency_min for a fixed latency
  std::string fail_code = "Transient";
  int fail_first = 0;               // the first N calls of each idempotency key fail
  double fail_rate = 0;             // of the calls after those, this fraction fails
  int timeout_first = 0;            // the first N calls of each key are answered too late
  double timeout_rate = 0;          // ... and this fraction of the others
};

enum class Fault { none, fail, late };

struct CallPlan {
  Fault fault = Fault::none;
  Duration latency{0};
};

class CallProfiles {
 public:
  CallProfiles() = default;
  CallProfiles(std::uint64_t seed, CallProfile defaults,
               std::map<std::string, CallProfile, std::less<>> operations)
      : seed_(seed), defaults_(std::move(defaults)), operations_(std::move(operations)) {}

  // Reads `latency` and `seed` from an adapter's entry and the profile keys of each entry of
  // `operations` (latency, fail_first, fail_rate, fail_code, timeout_first, timeout_rate).
  // `known` tells whether an operation exists. Throws Error(adapter_config).
  static CallProfiles from_yaml(const YAML::Node& adapter, const ConfigReader& config,
                                const std::string& where,
                                const std::function<bool(std::string_view)>& known);

  const CallProfile& profile(std::string_view operation) const;
  // The fate of call number `calls` (1-based) with `key`.
  CallPlan plan(std::string_view operation, std::string_view key, int calls) const;

 private:
  // Uniform in [0, 1), from the seed and the parts.
  double draw(std::string_view operation, std::string_view key, int calls,
              std::string_view purpose) const;

  std::uint64_t seed_ = 1;
  CallProfile defaults_;
  std::map<std::string, CallProfile, std::less<>> operations_;
};

}  // namespace rmaflow::sim
