#include "engine/api/json_body.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <limits>

#include "engine/api/problem.hpp"
#include "engine/support/json_depth.hpp"
#include "engine/support/limits.hpp"
#include "engine/support/strict_json.hpp"

namespace rmaflow::api {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

bool has_content_type(const net::HttpRequest& request, std::string_view type) {
  auto value = lower(request.headers.get("content-type"));
  auto end = value.find(';');
  auto media = value.substr(0, end);
  while (!media.empty() && media.back() == ' ') media.pop_back();
  return media == type;
}

nlohmann::json json_object_body(const net::HttpRequest& request, bool empty_ok) {
  if (empty_ok && request.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    return nlohmann::json::object();
  }
  if (!has_content_type(request, "application/json")) {
    auto given = request.headers.get("content-type");
    fail(415, "unsupported-media-type",
         given.empty() ? "the request body needs Content-Type: application/json"
                       : fmt::format("the request body is {}; this endpoint takes application/json",
                                     given));
  }
  // Nesting deeper than the engine takes, a key given twice and a number out of range are
  // refused while parsing (strict_json.hpp). The body wraps the documents the engine bounds
  // (input, payload, patch) in one more level.
  nlohmann::json body;
  try {
    body = parse_strict_json(request.body, "the request body", kMaxJsonDepth + 1);
  } catch (const Error& e) {
    fail(400, "malformed-json", e.what());
  }
  if (!body.is_object()) {
    fail(422, "invalid-field",
         fmt::format("the request body must be a JSON object, not {}", body.type_name()), "");
  }
  return body;
}

std::string BodyFields::pointer(const std::string& name) const {
  return prefix_ + json_pointer({name});
}

const nlohmann::json* BodyFields::take(const std::string& name) {
  taken_.insert(name);
  auto it = body_.find(name);
  return it == body_.end() ? nullptr : &*it;
}

std::string BodyFields::required_string(const std::string& name, std::size_t max_bytes) {
  auto value = optional_string(name, max_bytes);
  if (!value || value->find_first_not_of(" \t\r\n") == std::string::npos) {
    fail(422, "invalid-field", fmt::format("{} is required and may not be empty", name),
         pointer(name));
  }
  return *value;
}

std::optional<std::string> BodyFields::optional_string(const std::string& name,
                                                       std::size_t max_bytes) {
  const auto* value = take(name);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) {
    fail(422, "invalid-field", fmt::format("{} must be a string, not {}", name, value->type_name()),
         pointer(name));
  }
  const auto& text = value->get_ref<const std::string&>();
  if (auto why = name_problem(name, text, max_bytes)) fail(422, "invalid-field", *why, pointer(name));
  return text;
}

std::optional<int> BodyFields::optional_int(const std::string& name, int min) {
  const auto* value = take(name);
  if (value == nullptr) return std::nullopt;
  if (!value->is_number_integer() || value->get<std::int64_t>() < min ||
      value->get<std::int64_t>() > std::numeric_limits<int>::max()) {
    fail(422, "invalid-field", fmt::format("{} must be an integer of at least {}", name, min),
         pointer(name));
  }
  return value->get<int>();
}

std::optional<bool> BodyFields::optional_bool(const std::string& name) {
  const auto* value = take(name);
  if (value == nullptr) return std::nullopt;
  if (!value->is_boolean()) {
    fail(422, "invalid-field", fmt::format("{} must be true or false, not {}", name, value->type_name()),
         pointer(name));
  }
  return value->get<bool>();
}

std::optional<nlohmann::json> BodyFields::optional_value(const std::string& name) {
  const auto* value = take(name);
  if (value == nullptr) return std::nullopt;
  return *value;
}

std::optional<nlohmann::json> BodyFields::optional_object(const std::string& name) {
  const auto* value = take(name);
  if (value == nullptr) return std::nullopt;
  if (!value->is_object()) {
    fail(422, "invalid-field",
         fmt::format("{} must be a JSON object, not {}", name, value->type_name()), pointer(name));
  }
  return *value;
}

nlohmann::json BodyFields::required_object(const std::string& name) {
  auto value = optional_object(name);
  if (!value) fail(422, "invalid-field", fmt::format("{} is required", name), pointer(name));
  return *value;
}

void BodyFields::finish() const {
  for (const auto& [name, value] : body_.items()) {
    if (taken_.count(name) == 0) {
      auto known = fmt::format("{}", fmt::join(taken_, ", "));
      fail(422, "unknown-field",
           fmt::format("this endpoint takes no field \"{}\" (it takes: {})", name, known),
           pointer(name));
    }
  }
}

}  // namespace rmaflow::api
