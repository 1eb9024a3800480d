// The server's log, steered while it serves: its level, and the workflows and instances whose
// transitions are logged whatever the level (docs/operations.md, Logs).
#include <fmt/format.h>

#include "engine/api/api_context.hpp"
#include "engine/api/handlers.hpp"
#include "engine/api/json_body.hpp"
#include "engine/api/problem.hpp"
#include "engine/observe/log.hpp"

namespace rmaflow::api {

namespace {

constexpr std::size_t kMaxSelected = 100;

nlohmann::json logging_view(const observe::Observability* observability) {
  nlohmann::json transitions = {{"workflows", nlohmann::json::array()},
                                {"instances", nlohmann::json::array()}};
  if (observability != nullptr) {
    auto selection = observability->transitions.selection();
    transitions["workflows"] = selection.workflows;
    transitions["instances"] = selection.instances;
  }
  return {{"level", observe::to_string(observe::log_level())}, {"transitions", transitions}};
}

// A list of names at `field` of `body`: strings, at most kMaxSelected.
std::set<std::string> name_list(const nlohmann::json& body, const char* field) {
  std::set<std::string> names;
  auto it = body.find(field);
  if (it == body.end()) return names;
  auto pointer = json_pointer({"transitions", field});
  if (!it->is_array()) fail(422, "invalid-field", fmt::format("{} must be an array of names", field), pointer);
  if (it->size() > kMaxSelected) {
    fail(422, "invalid-field", fmt::format("{} names at most {} entries", field, kMaxSelected), pointer);
  }
  for (const auto& name : *it) {
    if (!name.is_string() || name.get_ref<const std::string&>().empty() ||
        name.get_ref<const std::string&>().size() > kMaxKeyBytes) {
      fail(422, "invalid-field", fmt::format("{} must hold non-empty names", field), pointer);
    }
    names.insert(name.get<std::string>());
  }
  return names;
}

}  // namespace

void get_logging(ApiContext& context, ApiRequest& request, const Answer& answer) {
  request.query.finish();
  answer(json_response(200, logging_view(context.observability.get())));
}

void put_logging(ApiContext& context, ApiRequest& request, const Answer& answer) {
  request.query.finish();
  auto body = json_object_body(request.http);
  BodyFields fields(body);
  std::optional<observe::LogLevel> level;
  if (auto text = fields.optional_string("level")) {
    level = observe::parse_log_level(*text);
    if (!level) {
      fail(422, "invalid-field",
           fmt::format("level must be trace, debug, info, warn, error or off, not \"{}\"", *text),
           fields.pointer("level"));
    }
  }
  std::optional<observe::TransitionSelection> selection;
  if (auto transitions = fields.optional_object("transitions")) {
    BodyFields inner(*transitions, fields.pointer("transitions"));
    inner.optional_value("workflows");
    inner.optional_value("instances");
    inner.finish();
    selection = observe::TransitionSelection{name_list(*transitions, "workflows"),
                                             name_list(*transitions, "instances")};
  }
  fields.finish();
  if (selection && !context.observability) {
    fail(409, "conflict", "this server does not log transitions");
  }
  if (level) {
    observe::set_log_level(*level);
    observe::log(observe::LogLevel::info, "log level set",
                 {{"level", observe::to_string(*level)}, {"by", request.principal.name}});
  }
  if (selection) context.observability->transitions.select(std::move(*selection));
  answer(json_response(200, logging_view(context.observability.get())));
}

}  // namespace rmaflow::api
