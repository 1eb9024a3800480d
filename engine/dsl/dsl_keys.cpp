#include "engine/dsl/dsl_keys.hpp"

#include <stdexcept>
#include <string>

namespace rmaflow::dsl {

const std::vector<KeyTable>& key_tables() {
  // clang-format off
  static const std::vector<KeyTable> kTables = {
    {"workflow",     {"workflow", "version", "description", "input", "business_key", "on_failure",
                      "sla", "milestones", "incidents", "attributes", "defaults", "start",
                      "steps"}},
    {"milestone",    {"step", "sla"}},
    {"incident_route", {"errors", "if", "team", "sla"}},
    {"defaults",     {"timeout", "retry"}},
    {"retry",        {"max_attempts", "interval", "backoff", "max_interval", "jitter", "errors"}},
    {"task_step",    {"action", "with", "result", "retry", "timeout", "catch", "compensate",
                      "posting", "pivot", "next", "description"}},
    {"switch_step",  {"switch", "default", "description"}},
    {"wait_step",    {"wait", "result", "on_timeout", "next", "description"}},
    {"set_step",     {"set", "next", "description"}},
    {"end_step",     {"end", "description"}},
    {"foreach_step", {"foreach", "as", "key", "concurrency", "on_branch_failure", "start", "steps",
                      "result", "catch", "next", "description"}},
    {"parallel_step", {"parallel", "on_branch_failure", "result", "catch", "next", "description"}},
    {"call_step",    {"call", "result", "catch", "next", "description"}},
    {"branch_end_step", {"end", "description"}},
    {"catch",        {"errors", "next"}},
    {"compensation", {"action", "with", "retry", "timeout"}},
    {"posting",      {"kind", "customer", "reference", "amount", "currency", "sku", "quantity"}},
    {"switch_case",  {"if", "next"}},
    {"wait",         {"signal", "match", "timeout", "duration"}},
    {"end",          {"status", "compensate", "output"}},
    {"branch_end",   {"status", "compensate", "output"}},
    {"parallel_branch", {"start", "steps"}},
    {"call",         {"workflow", "version", "input"}},
  };
  // clang-format on
  return kTables;
}

const Keys& keys_of(std::string_view name) {
  for (const auto& table : key_tables())
    if (table.name == name) return table.keys;
  throw std::logic_error("no DSL key table named " + std::string(name));
}

}  // namespace rmaflow::dsl
