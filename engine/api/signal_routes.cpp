// Signals: to one instance by id, or by workflow and business key. Durable once answered 202;
// a repeat with an idempotency key already accepted answers 200 and changes nothing.
#include <fmt/format.h>

#include "engine/api/api_context.hpp"
#include "engine/api/handlers.hpp"
#include "engine/api/json_body.hpp"
#include "engine/api/problem.hpp"
#include "engine/support/limits.hpp"

namespace rmaflow::api {

namespace {

// The idempotency key from the body or the Idempotency-Key header; both must agree.
std::string idempotency_key(const ApiRequest& request, BodyFields& fields) {
  auto in_body = fields.optional_string("idempotency_key");
  auto header = request.http.headers.find("idempotency-key");
  if (in_body && header && *in_body != *header) {  // compared as bytes: no text needed
    fail(422, "invalid-field",
         "idempotency_key and the Idempotency-Key header differ; give one, or the same in both",
         "/idempotency_key");
  }
  if (in_body) return *in_body;
  if (!header) return {};
  if (auto why = name_problem("the Idempotency-Key header", *header, kMaxKeyBytes)) {
    fail(400, "invalid-header", *why);
  }
  return std::string(*header);
}

void deliver(ApiContext& context, SignalRequest signal, const Answer& answer) {
  context.engine.signal(
      std::move(signal),
      reply_with<SignalResult>(answer, [](const SignalResult& r) {
        return json_response(r.duplicate ? 200 : 202, {{"instance_id", r.instance_id},
                                                       {"idempotency_key", r.idempotency_key},
                                                       {"duplicate", r.duplicate}});
      }));
}

}  // namespace

void post_instance_signal(ApiContext& context, ApiRequest& request, const Answer& answer) {
  request.query.finish();
  auto body = json_object_body(request.http, /*empty_ok=*/true);
  BodyFields fields(body);
  SignalRequest signal;
  signal.instance_id = request.path.at("id");
  signal.name = request.path.at("name");
  signal.payload = fields.optional_value("payload").value_or(nullptr);
  signal.match = fields.optional_value("match").value_or(nullptr);
  signal.idempotency_key = idempotency_key(request, fields);
  fields.finish();
  deliver(context, std::move(signal), answer);
}

void post_signal(ApiContext& context, ApiRequest& request, const Answer& answer) {
  request.query.finish();
  auto body = json_object_body(request.http);
  BodyFields fields(body);
  SignalRequest signal;
  signal.workflow = fields.required_string("workflow");
  signal.business_key = fields.required_string("business_key");
  signal.name = fields.required_string("name");
  signal.payload = fields.optional_value("payload").value_or(nullptr);
  signal.match = fields.optional_value("match").value_or(nullptr);
  signal.idempotency_key = idempotency_key(request, fields);
  fields.finish();
  deliver(context, std::move(signal), answer);
}

}  // namespace rmaflow::api
