#include "engine/runtime/start_conflict.hpp"

#include <fmt/format.h>

#include "engine/support/canonical_json.hpp"
#include "rmaflow/errors.hpp"

namespace rmaflow {

namespace {

// A value as a message quotes it: its JSON, shortened when long; "absent" when there is none.
std::string quoted(const nlohmann::json& doc, const std::string& pointer) {
  nlohmann::json::json_pointer at(pointer);
  if (!doc.contains(at)) return "absent";
  auto text = doc.at(at).dump();
  constexpr std::size_t kMax = 60;
  if (text.size() > kMax) text = text.substr(0, kMax - 3) + "...";
  return text;
}

}  // namespace

nlohmann::json stored_input(const InstanceRow& row) {
  if (!row.context->is_object() || !row.context->contains("input")) return nullptr;
  return canonical_json(row.context->at("input"));
}

void check_same_input(const Definition& def, const std::string& instance_id,
                      const std::string& business_key, const nlohmann::json& existing,
                      const nlohmann::json& input) {
  auto differs = first_difference(existing, input);
  if (!differs) return;  // equal by value, though written differently (329.0 and 329)
  std::string where = differs->empty() ? "the whole input" : *differs;
  throw InputConflict(
      fmt::format("workflow {} already has instance {} for business key {} with a different "
                  "input: {} is {} there and {} here",
                  def.name, instance_id, business_key, where, quoted(existing, *differs),
                  quoted(input, *differs)),
      *differs);
}

}  // namespace rmaflow
