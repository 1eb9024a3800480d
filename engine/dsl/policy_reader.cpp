#include "engine/dsl/policy_reader.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "engine/dsl/dsl_keys.hpp"
#include "engine/dsl/yaml_values.hpp"

namespace rmaflow::dsl {

void read_retry(const MapEntry& entry, const std::string& owner, RetryPolicy& policy,
                DiagnosticSink& sink) {
  if (!entry.value.IsMap()) {
    sink.error(
        entry.where, "wrong-type",
        fmt::format("\"retry\" in {} must be a mapping, not {}", owner, describe(entry.value)));
    return;
  }
  MapReader r(entry.value, fmt::format("the retry of {}", owner), entry.key_where, sink);
  r.allow_only(keys_of("retry"));
  if (auto* e = r.find("max_attempts"))
    if (auto n = r.integer(*e, 1))
      policy.max_attempts = static_cast<int>(std::min<std::int64_t>(*n, 1'000'000));
  if (auto* e = r.find("interval"))
    if (auto d = r.duration(*e)) policy.interval = *d;
  if (auto* e = r.find("backoff"))
    if (auto b = r.number(*e, 1.0)) policy.backoff = *b;
  if (auto* e = r.find("max_interval"))
    if (auto d = r.duration(*e)) policy.max_interval = *d;
  if (auto* e = r.find("jitter")) {
    if (auto j = r.string(*e)) {
      if (*j == "none")
        policy.jitter = Jitter::none;
      else if (*j == "full")
        policy.jitter = Jitter::full;
      else
        r.bad_value(*e, fmt::format("must be none or full, not \"{}\"", *j));
    }
  }
  if (auto* e = r.find("errors"))
    if (auto codes = r.string_list(*e)) policy.errors = std::move(*codes);
}

StepDefaults read_defaults(const MapEntry& entry, DiagnosticSink& sink) {
  StepDefaults defaults;
  if (!entry.value.IsMap()) {
    sink.error(entry.where, "wrong-type",
               fmt::format("\"defaults\" in the workflow must be a mapping, not {}",
                           describe(entry.value)));
    return defaults;
  }
  MapReader r(entry.value, "defaults", entry.key_where, sink);
  r.allow_only(keys_of("defaults"));
  if (auto* e = r.find("timeout"))
    if (auto d = r.duration(*e)) defaults.timeout = *d;
  if (auto* e = r.find("retry")) read_retry(*e, "defaults", defaults.retry, sink);
  return defaults;
}

}  // namespace rmaflow::dsl
