#include "adapters/http/response_mapping.hpp"

#include <cctype>

#include <fmt/format.h>

#include "engine/support/utf8.hpp"

namespace rmaflow {

namespace {

constexpr std::size_t kMaxQuoted = 200;   // of a body that is not a problem document
constexpr std::size_t kMaxDetail = 1000;  // of a problem document's detail

bool is_code(const std::string& s) {
  if (s.empty() || s.size() > 64 || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return false;
  return true;
}

// "https://errors.example/problems/not-eligible" -> "NotEligible"
std::string code_from_type(const std::string& type) {
  if (type.empty() || type == "about:blank") return "";
  auto segment = type.substr(type.find_last_of("/#:") + 1);
  std::string out;
  bool upper = true;
  for (char c : segment) {
    if (c == '-' || c == '_' || c == '.') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return is_code(out) ? out : "";
}

struct Problem {
  std::string code;
  std::string detail;
};

// What a non-2xx body says: a problem document (RFC 9457), or the start of its text.
Problem problem_of(const net::HttpResponse& response) {
  auto body = nlohmann::json::parse(response.body, nullptr, false);
  Problem p;
  if (body.is_object()) {
    if (body.contains("code") && body["code"].is_string() && is_code(body["code"].get<std::string>())) {
      p.code = body["code"].get<std::string>();
    } else if (body.contains("type") && body["type"].is_string()) {
      p.code = code_from_type(body["type"].get<std::string>());
    }
    for (const auto* key : {"detail", "title", "message"}) {
      if (body.contains(key) && body[key].is_string()) {
        p.detail = quote_utf8(body[key].get<std::string>(), kMaxDetail);
        break;
      }
    }
  }
  if (p.detail.empty()) {
    // An error page is any bytes (a Latin-1 page, UTF-8 cut inside a character): quote it as
    // UTF-8, or recording the failure would fail.
    p.detail = quote_utf8(response.body, kMaxQuoted);
  }
  return p;
}

std::string answered(const std::string& what, int status, const std::string& detail) {
  return detail.empty() ? fmt::format("{} answered {} {}", what, status, net::reason_phrase(status))
                        : fmt::format("{} answered {}: {}", what, status, detail);
}

}  // namespace

Outcome outcome_of(const net::HttpResult& result, const std::string& what) {
  if (!result.ok()) {
    bool timed_out = result.error == net::HttpErrc::timeout;
    return Outcome::failure(std::string(timed_out ? kTimeout : kTransient),
                            fmt::format("{}: {}", what, result.message), true);
  }
  const auto& response = result.response;
  int status = response.status;
  if (status >= 200 && status < 300) {
    if (response.body.find_first_not_of(" \t\r\n") == std::string::npos) {
      return Outcome::success(nlohmann::json::object());
    }
    auto body = nlohmann::json::parse(response.body, nullptr, false);
    if (body.is_discarded()) {
      return Outcome::failure("BadResponse",
                              fmt::format("{} answered {} with a body that is not JSON", what, status),
                              false);
    }
    return Outcome::success(std::move(body));
  }
  auto problem = problem_of(response);
  if (status == 408) return Outcome::failure(std::string(kTimeout), answered(what, status, problem.detail), true);
  if (status == 429 || status >= 500) {
    return Outcome::failure(std::string(kTransient), answered(what, status, problem.detail), true);
  }
  if (status >= 400) {
    auto code = problem.code.empty() ? fmt::format("Http{}", status) : problem.code;
    return Outcome::failure(code, answered(what, status, problem.detail), false);
  }
  return Outcome::failure("BadResponse", answered(what, status, ""), false);
}

}  // namespace rmaflow
