// Reading request bodies strictly: JSON only (by Content-Type), nesting bounded, an object,
// and only the fields the endpoint takes, each of the right type. Every refusal is a
// ProblemError naming the field by JSON Pointer, so a client sees which field is wrong; unknown
// fields are refused rather than ignored, so nothing like `status` or `history` can be slipped
// into an action.
#pragma once

#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/net/http_message.hpp"
#include "engine/support/limits.hpp"

namespace rmaflow::api {

// True when the request's Content-Type is `type` (parameters such as charset ignored).
bool has_content_type(const net::HttpRequest& request, std::string_view type);

// The request body as a JSON object. An empty body is `{}` when `empty_ok`. Refuses: another
// content type (415), malformed JSON, a key given twice in one object, a number no double
// holds (1e400) or nesting past the engine's bound (400), a body that is not an object (422).
nlohmann::json json_object_body(const net::HttpRequest& request, bool empty_ok = false);

// The fields of one body object, taken one by one; finish() refuses any left untaken.
class BodyFields {
 public:
  explicit BodyFields(const nlohmann::json& body, std::string prefix = "")
      : body_(body), prefix_(std::move(prefix)) {}

  // A string that must be present and not blank. Strings longer than `max_bytes` are refused
  // (limits.hpp: names, keys and ids are at most kMaxKeyBytes unless the field says more).
  std::string required_string(const std::string& name, std::size_t max_bytes = kMaxKeyBytes);
  std::optional<std::string> optional_string(const std::string& name,
                                             std::size_t max_bytes = kMaxKeyBytes);
  std::optional<int> optional_int(const std::string& name, int min);
  std::optional<bool> optional_bool(const std::string& name);
  // Any JSON value (null included), when present.
  std::optional<nlohmann::json> optional_value(const std::string& name);
  std::optional<nlohmann::json> optional_object(const std::string& name);
  nlohmann::json required_object(const std::string& name);
  // Refuses the first field no method above took (422 unknown-field).
  void finish() const;

  // The pointer of a field of this object.
  std::string pointer(const std::string& name) const;

 private:
  const nlohmann::json* take(const std::string& name);

  const nlohmann::json& body_;
  std::string prefix_;
  std::set<std::string> taken_;
};

}  // namespace rmaflow::api
