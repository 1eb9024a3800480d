#include "tests/fuzz/harnesses.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

#include "adapters/http/response_mapping.hpp"
#include "engine/api/json_body.hpp"
#include "engine/api/problem.hpp"
#include "engine/api/query.hpp"
#include "engine/dsl/input_schema.hpp"
#include "engine/dsl/jq_bounds.hpp"
#include "engine/runtime/request_checks.hpp"
#include "engine/support/limits.hpp"
#include "engine/support/strict_json.hpp"
#include "rmaflow/definition.hpp"
#include "rmaflow/expression.hpp"

namespace rmaflow::fuzz {

namespace {

std::string text_of(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// What every answer and event is: it must serialize. Throws (a finding) when it does not.
void must_serialize(const nlohmann::json& value) { (void)value.dump(); }

void must_answer(const api::Problem& problem) {
  auto response = api::problem_response(problem);
  auto back = nlohmann::json::parse(response.body);
  if (back["status"] != problem.status) throw std::logic_error("a problem answer lost its status");
}

// The API edge for one request, as the router and handlers read it; refusals are answered.
void read_like_the_api(const net::HttpRequest& request) {
  try {
    auto target = api::Target::parse(request.target);
    api::QueryParams query(target.query);
    (void)query.text("workflow");
    (void)query.list("status");
    (void)query.integer("limit", 1, 1000);
    (void)query.boolean("stuck");
    (void)query.time("created_after");
    if (auto key = request.headers.find("idempotency-key")) {
      if (auto why = name_problem("the Idempotency-Key header", *key, kMaxKeyBytes)) {
        api::fail(400, "invalid-header", *why);
      }
    }
    auto body = api::json_object_body(request, /*empty_ok=*/true);
    api::BodyFields fields(body);
    (void)fields.optional_string("workflow");
    (void)fields.optional_string("reason", kMaxTextBytes);
    (void)fields.optional_int("version", 1);
    (void)fields.optional_bool("compensate");
    (void)fields.optional_object("input");
    (void)fields.optional_value("payload");
    for (const auto& segment : target.segments) must_serialize(segment);
    must_serialize(body);
    fields.finish();
  } catch (const api::ProblemError& e) {
    must_answer(e.problem());
  }
}

}  // namespace

int yaml_loader(const std::uint8_t* data, std::size_t size) {
  auto loaded = load_definition(text_of(data, size), "fuzz.yaml", "/nonexistent");
  for (const auto& d : loaded.diagnostics) {
    // The API answers diagnostics as JSON; validate prints them.
    must_serialize({{"code", d.code}, {"message", d.message}, {"text", format_diagnostic(d)}});
  }
  if (loaded.ok()) must_serialize(nlohmann::json::parse(loaded.definition->source, nullptr, false));
  return 0;
}

int jq_template(const std::uint8_t* data, std::size_t size) {
  // The first byte picks how the rest is read: a jq program, or a JSON template.
  if (size == 0) return 0;
  std::string text = text_of(data + 1, size - 1);
  static const nlohmann::json context = {
      {"input", {{"rma_id", "RMA-1"}, {"n", 3}, {"lines", {{{"qty", 2}, {"unit_price", 9.5}}}}}},
      {"authorization", {{"returnless", false}}}};
  try {
    if (data[0] % 2 == 0) {
      (void)dsl::find_environment_access(text);
      // The engine only runs what the validator lets through.
      if (dsl::find_unbounded_construct(text)) return 0;
      auto expression = Expression::compile(text);
      must_serialize(expression.evaluate(context));
    } else {
      auto value = nlohmann::json::parse(text, nullptr, false);
      // Conservative: a construct the validator refuses anywhere in the text skips it.
      if (value.is_discarded() || dsl::find_unbounded_construct(text)) return 0;
      auto compiled = Template::compile(value);
      must_serialize(compiled.render(context));
    }
  } catch (const ExpressionError& e) {
    must_serialize(e.what());  // recorded in a step's failure
  }
  return 0;
}

int http_request(const std::uint8_t* data, std::size_t size) {
  namespace http = boost::beast::http;
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 << 10);
  parser.body_limit(1 << 20);
  parser.eager(true);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done()) return 0;
  auto message = parser.release();
  net::HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) {
    request.headers.add(std::string(field.name_string()), std::string(field.value()));
  }
  request.body = std::move(message.body());
  read_like_the_api(request);
  return 0;
}

int json_body(const std::uint8_t* data, std::size_t size) {
  net::HttpRequest request;
  request.method = "POST";
  request.target = "/v1/instances";
  request.headers.set("Content-Type", "application/json");
  request.body = text_of(data, size);
  read_like_the_api(request);
  return 0;
}

int response_mapping(const std::uint8_t* data, std::size_t size) {
  // The first byte picks the status; the rest is the partner's body.
  if (size == 0) return 0;
  static constexpr int kStatuses[] = {200, 201, 204, 301, 400, 404, 408, 409, 422, 429, 500, 503};
  net::HttpResult result;
  result.response.status = kStatuses[data[0] % std::size(kStatuses)];
  result.response.body = text_of(data + 1, size - 1);
  auto outcome = checked_outcome(outcome_of(result, "partner POST /x"));
  // What the engine records of it: the event of a completed or failed attempt.
  if (outcome.ok()) {
    must_serialize({{"result", *outcome.result}});
  } else {
    must_serialize({{"code", outcome.error.code}, {"message", outcome.error.message}});
  }
  return 0;
}

int input_schema(const std::uint8_t* data, std::size_t size) {
  auto text = text_of(data, size);
  auto split = text.find("\n---\n");
  if (split == std::string::npos) return 0;
  nlohmann::json schema;
  nlohmann::json input;
  try {
    // As a deploy and a start read them.
    schema = parse_strict_json(std::string_view(text).substr(0, split), "the schema");
    input = parse_strict_json(std::string_view(text).substr(split + 5), "the input");
  } catch (const Error&) {
    return 0;
  }
  std::unique_ptr<InputSchema> compiled;
  try {
    compiled = std::make_unique<InputSchema>(schema);
  } catch (const Error& e) {
    if (e.code() != Errc::invalid_definition) throw;
    return 0;  // refused with the schema: the deploy's answer
  }
  for (const auto& violation : compiled->check(input)) {
    must_serialize({{"pointer", violation.pointer}, {"message", violation.message}});
  }
  return 0;
}

const std::vector<NamedHarness>& harnesses() {
  static const std::vector<NamedHarness> all = {
      {"yaml_loader", yaml_loader},           {"jq_template", jq_template},
      {"http_request", http_request},         {"json_body", json_body},
      {"response_mapping", response_mapping}, {"input_schema", input_schema},
  };
  return all;
}

}  // namespace rmaflow::fuzz
