// Operator actions on one instance (in bulk: job_routes.cpp). Each action needs a reason;
// the actor is the token's name. Only the fields each action takes are accepted.
#include <fmt/format.h>

#include "engine/api/api_context.hpp"
#include "engine/api/handlers.hpp"
#include "engine/api/json_body.hpp"
#include "engine/api/problem.hpp"

namespace rmaflow::api {

namespace {

// A context merge patch, refused when it would change the read-only .input or .instance.
nlohmann::json checked_patch(nlohmann::json patch) {
  for (const char* locked : {"input", "instance"}) {
    if (patch.contains(locked)) {
      fail(422, "invalid-field",
           fmt::format("a patch cannot change the context's .{}: it is read-only", locked),
           json_pointer({"patch", locked}));
    }
  }
  return patch;
}

// The arguments of `kind` (see ActionKind), read from the body.
nlohmann::json action_args(ActionKind kind, BodyFields& fields) {
  nlohmann::json args = nlohmann::json::object();
  switch (kind) {
    case ActionKind::retry:
      if (auto input = fields.optional_value("input")) args["input"] = *input;
      break;
    case ActionKind::skip:
      if (auto output = fields.optional_value("output")) args["output"] = *output;
      break;
    case ActionKind::goto_step:
      args["step"] = fields.required_string("step");
      break;
    case ActionKind::cancel:
      args["compensate"] = fields.optional_bool("compensate").value_or(false);
      break;
    case ActionKind::patch:
      args["patch"] = checked_patch(fields.required_object("patch"));
      break;
    case ActionKind::redrive:
      if (auto step = fields.optional_string("step")) args["step"] = *step;
      if (auto patch = fields.optional_object("patch")) args["patch"] = checked_patch(*patch);
      break;
    case ActionKind::resolve:
    case ActionKind::pause:
    case ActionKind::resume:
      break;
    case ActionKind::migrate:  // moves instances between versions: `rmaflow migrate`, not an action
      fail(404, "not-found",
           "there is no action \"migrate\" here: instances move between versions with "
           "rmaflow migrate");
  }
  return args;
}

}  // namespace

void post_action(ApiContext& context, ApiRequest& request, const Answer& answer) {
  request.query.finish();
  const auto& name = request.path.at("action");
  auto kind = parse_action_kind(name);
  if (!kind) {
    fail(404, "not-found",
         fmt::format("there is no action \"{}\" (retry, skip, goto, cancel, patch, resolve, "
                     "pause, resume, redrive)",
                     name));
  }
  auto body = json_object_body(request.http);
  BodyFields fields(body);
  OperatorAction action;
  action.instance_id = request.path.at("id");
  action.kind = *kind;
  action.actor = request.principal.name;
  action.reason = fields.required_string("reason", kMaxTextBytes);
  action.args = action_args(*kind, fields);
  action.branch = fields.optional_string("branch").value_or("");
  fields.finish();
  context.engine.act(
      std::move(action),
      reply_with<ActionResult>(
          answer,
          [name](const ActionResult& r) {
            nlohmann::json body = {{"instance_id", r.instance_id},
                                   {"action", name},
                                   {"status", to_string(r.status)},
                                   {"step", r.step}};
            if (!r.branch.empty()) body["branch"] = r.branch;
            return json_response(200, body);
          }));
}

}  // namespace rmaflow::api
