// How one operation of an HTTP adapter is sent: method, path template, body and headers.
//
//   path: "/labels/{label_id}"   each {name} is the step input's field `name`, percent-encoded
//   body: { amount: "${ .amount }" }   a template over the step input (jq); default: the whole
//                                  input as JSON for POST, PUT and PATCH, nothing otherwise
#pragma once

#include <map>
#include <vector>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/net/http_message.hpp"
#include "rmaflow/expression.hpp"
#include "rmaflow/time.hpp"

namespace rmaflow {

struct RequestTemplate {
  std::string method = "POST";
  std::string path;  // relative to the adapter's base URL
  std::optional<Template> body;
  std::map<std::string, std::string> headers;
  std::optional<Duration> timeout;

  // The request for `input`: the target is `base_path` + the rendered path. Throws Error
  // (invalid_argument) when the input lacks a path field or the body does not render.
  net::HttpRequest render(const std::string& base_path, const nlohmann::json& input) const;
  bool sends_body() const { return body || method == "POST" || method == "PUT" || method == "PATCH"; }
};

// The names of the {fields} in a path, in order; nullopt when a brace is unbalanced or a name
// is empty.
std::optional<std::vector<std::string>> path_fields(const std::string& path);

}  // namespace rmaflow
