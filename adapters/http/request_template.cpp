#include "adapters/http/request_template.hpp"

#include <cctype>

#include <fmt/format.h>

#include "rmaflow/errors.hpp"

namespace rmaflow {

namespace {

bool unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

std::string percent_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) out += unreserved(c) ? std::string(1, static_cast<char>(c)) : fmt::format("%{:02X}", c);
  return out;
}

}  // namespace

std::optional<std::vector<std::string>> path_fields(const std::string& path) {
  std::vector<std::string> fields;
  std::size_t pos = 0;
  while ((pos = path.find_first_of("{}", pos)) != std::string::npos) {
    if (path[pos] == '}') return std::nullopt;
    auto end = path.find_first_of("{}", pos + 1);
    if (end == std::string::npos || path[end] != '}' || end == pos + 1) return std::nullopt;
    fields.push_back(path.substr(pos + 1, end - pos - 1));
    pos = end + 1;
  }
  return fields;
}

net::HttpRequest RequestTemplate::render(const std::string& base_path,
                                         const nlohmann::json& input) const {
  net::HttpRequest request;
  request.method = method;
  std::string target = base_path == "/" ? "" : base_path;
  std::size_t pos = 0;
  while (pos < path.size()) {
    auto open = path.find('{', pos);
    target += path.substr(pos, open - pos);
    if (open == std::string::npos) break;
    auto close = path.find('}', open);
    auto name = path.substr(open + 1, close - open - 1);
    if (!input.is_object() || !input.contains(name) ||
        !(input[name].is_string() || input[name].is_number())) {
      throw Error(Errc::invalid_argument,
                  fmt::format("the step input has no text or number \"{}\" for the path {}", name, path));
    }
    target += percent_encode(input[name].is_string() ? input[name].get<std::string>() : input[name].dump());
    pos = close + 1;
  }
  request.target = target.empty() ? "/" : target;
  for (const auto& [name, value] : headers) request.headers.set(name, value);
  request.headers.set("Accept", "application/json");
  if (sends_body()) {
    nlohmann::json body;
    try {
      body = this->body ? this->body->render(input) : input;
    } catch (const Error& e) {
      throw Error(Errc::invalid_argument, fmt::format("the body of {} {} did not render: {}", method,
                                                      path, e.what()));
    }
    request.body = body.dump();
    request.headers.set("Content-Type", "application/json");
  }
  return request;
}

}  // namespace rmaflow
