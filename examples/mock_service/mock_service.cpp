#include "examples/mock_service/mock_service.hpp"

#include <cctype>

#include <fmt/format.h>

namespace rmaflow::mock {

namespace {

std::vector<std::string> segments(const std::string& path) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < path.size()) {
    if (path[pos] == '/') {
      ++pos;
      continue;
    }
    auto end = path.find('/', pos);
    out.push_back(path.substr(pos, end - pos));
    pos = end == std::string::npos ? path.size() : end;
  }
  return out;
}

std::string percent_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

int status_of(const std::string& code) {
  if (code == "NotFound" || code == "UnknownOperation") return 404;
  if (code == "BadRequest" || code == "IdempotencyKeyRequired") return 400;
  return 422;
}

std::string kebab(const std::string& code) {
  std::string out;
  for (char c : code) {
    if (std::isupper(static_cast<unsigned char>(c)) && !out.empty()) out += '-';
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

net::HttpResponse problem(int status, const std::string& code, const std::string& detail) {
  nlohmann::json body = {{"type", "https://rmaflow.dev/problems/" + kebab(code)},
                         {"title", code},
                         {"status", status},
                         {"detail", detail},
                         {"code", code}};
  return net::HttpResponse::with_body(status, body.dump(), "application/problem+json");
}

}  // namespace

MockService::MockService(std::vector<std::shared_ptr<sim::SimSystem>> systems, AdapterHost& host,
                         Duration late_by)
    : systems_(std::move(systems)), host_(host), late_by_(late_by) {}

std::vector<std::string> MockService::routes() const {
  std::vector<std::string> out;
  for (const auto& system : systems_)
    for (const auto& op : system->operations())
      out.push_back(fmt::format("{} /{}{}", op.route.method, system->name(), op.route.path));
  return out;
}

MockService::Match MockService::match(const std::string& method, const std::string& path) const {
  Match m;
  auto parts = segments(path);
  for (const auto& system : systems_) {
    if (parts.empty() || parts[0] != system->name()) continue;
    for (const auto& op : system->operations()) {
      auto pattern = segments(op.route.path);
      if (pattern.size() + 1 != parts.size()) continue;
      nlohmann::json params = nlohmann::json::object();
      bool same = true;
      for (std::size_t i = 0; same && i < pattern.size(); ++i) {
        const auto& p = pattern[i];
        if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
          params[p.substr(1, p.size() - 2)] = percent_decode(parts[i + 1]);
        } else {
          same = p == parts[i + 1];
        }
      }
      if (!same) continue;
      m.path_known = true;
      if (op.route.method != method) continue;
      m.system = system.get();
      m.operation = &op;
      m.params = std::move(params);
      return m;
    }
  }
  return m;
}

void MockService::handle(net::HttpRequest request, net::Responder respond) {
  auto path = request.target.substr(0, request.target.find('?'));
  auto m = match(request.method, path);
  if (m.system == nullptr) {
    respond(m.path_known ? problem(405, "MethodNotAllowed",
                                   fmt::format("{} is not served for {}", request.method, path))
                         : problem(404, "NotFound", fmt::format("nothing is served at {}", path)));
    return;
  }
  nlohmann::json input = nlohmann::json::object();
  if (!request.body.empty()) {
    input = nlohmann::json::parse(request.body, nullptr, false);
    if (!input.is_object()) {
      respond(problem(400, "BadRequest", "the body must be a JSON object"));
      return;
    }
  }
  for (const auto& [k, v] : m.params.items()) input[k] = v;
  std::string key(request.headers.get("Idempotency-Key"));
  if (key.empty() && !m.operation->read_only) {
    respond(problem(400, "IdempotencyKeyRequired",
                    fmt::format("{} {} changes things: send an Idempotency-Key", request.method, path)));
    return;
  }
  auto r = m.system->execute(m.operation->name, key, input,
                             std::string(request.headers.get("Undoes-Idempotency-Key")));
  net::HttpResponse response;
  if (r.outcome.ok()) {
    response = net::HttpResponse::with_body(200, r.outcome.result->dump(), "application/json");
  } else if (r.outcome.error.retryable) {
    response = problem(503, r.outcome.error.code, r.outcome.error.message);
  } else {
    response = problem(status_of(r.outcome.error.code), r.outcome.error.code, r.outcome.error.message);
  }
  auto delay = r.late ? late_by_ : r.latency;
  if (delay.count() == 0) {
    respond(std::move(response));
    return;
  }
  host_.call_at(host_.clock().now() + delay,
                [respond, response = std::move(response)]() mutable { respond(std::move(response)); });
}

}  // namespace rmaflow::mock
