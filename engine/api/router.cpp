#include "engine/api/router.hpp"

#include <chrono>

#include <fmt/format.h>

#include "engine/api/api_context.hpp"
#include "engine/api/problem.hpp"
#include "engine/observe/log.hpp"

namespace rmaflow::api {

namespace {

std::vector<std::string> split(std::string_view pattern) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < pattern.size()) {
    auto slash = pattern.find('/', start);
    if (slash == std::string_view::npos) slash = pattern.size();
    if (slash > start) out.emplace_back(pattern.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

// The pattern's {names} bound to the path's segments, when it matches.
std::optional<std::map<std::string, std::string>> match(const Route& route,
                                                        const std::vector<std::string>& path) {
  auto pattern = split(route.pattern);
  if (pattern.size() != path.size()) return std::nullopt;
  std::map<std::string, std::string> bound;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const auto& part = pattern[i];
    if (part.size() > 2 && part.front() == '{' && part.back() == '}') {
      bound[part.substr(1, part.size() - 2)] = path[i];
    } else if (part != path[i]) {
      return std::nullopt;
    }
  }
  return bound;
}

net::HttpResponse unauthorized(const std::string& detail, bool bad_token) {
  auto response = problem_response(make_problem(401, "unauthorized", detail));
  response.headers.set("WWW-Authenticate", bad_token ? "Bearer realm=\"rmaflow\", error=\"invalid_token\""
                                                     : "Bearer realm=\"rmaflow\"");
  return response;
}

// What every answer says to a browser: never guess a type (a JSON string must not be sniffed
// as HTML), never keep customer data in a cache, run nothing a response carries unless the
// response says otherwise (the console's page does).
void harden(net::HttpResponse& response) {
  response.headers.set("X-Content-Type-Options", "nosniff");
  if (!response.headers.find("cache-control")) response.headers.set("Cache-Control", "no-store");
  if (!response.headers.find("content-security-policy")) {
    response.headers.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  }
}

}  // namespace

net::HttpResponse json_response(int status, const nlohmann::json& body) {
  return net::HttpResponse::with_body(status, body.dump(), "application/json");
}

net::HttpResponse svg_response(std::string svg) {
  auto response = net::HttpResponse::with_body(200, std::move(svg), "image/svg+xml");
  response.headers.set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
  return response;
}

Problem problem_for(std::exception_ptr error) {
  try {
    std::rethrow_exception(std::move(error));
  } catch (const ProblemError& e) {
    return e.problem();
  } catch (const Error& e) {
    return problem_from(e);
  } catch (const std::exception& e) {
    return make_problem(500, "internal", fmt::format("the server failed: {}", e.what()));
  } catch (...) {
    return make_problem(500, "internal", "the server failed");
  }
}

namespace {

// Who asked for what, as the access log records it: never the token itself, only its name.
struct AccessRecord {
  std::string method;
  std::string target;
  std::string correlation_id;  // the caller's X-Correlation-Id, when it sent one
  std::string token = "-";     // the token's name once authenticated
};

void log_access(const AccessRecord& access, const std::string& route, int status,
                std::chrono::nanoseconds took) {
  using observe::LogLevel;
  auto level = status >= 500 ? LogLevel::error : LogLevel::info;
  if (!observe::log_enabled(level)) return;
  // The path, not the query: a query may carry a business key that is customer data.
  auto path = access.target.substr(0, access.target.find('?'));
  nlohmann::json fields = {{"method", access.method},
                           {"path", path},
                           {"route", route},
                           {"status", status},
                           {"duration_ms", std::chrono::duration<double, std::milli>(took).count()},
                           {"token", access.token}};
  if (!access.correlation_id.empty()) fields["correlation_id"] = access.correlation_id;
  observe::write_log(level, "request", fields);
}

}  // namespace

void Answer::operator()(net::HttpResponse response) const {
  deliver_(net::ready(std::move(response)));
}

void dispatch(ApiContext& context, net::HttpRequest request, net::Responder respond) {
  auto started = std::chrono::steady_clock::now();
  auto access = std::make_shared<AccessRecord>();
  access->method = request.method;
  access->target = request.target;
  if (auto id = request.headers.find("x-correlation-id")) access->correlation_id = *id;
  // Every answer is counted, logged and hardened as it is built, on the connection's thread.
  auto observe = [metrics = context.metrics, access, started](const std::string& route,
                                                              net::Responder respond) {
    return Answer([metrics, access, route, started, respond](net::Producer produce) {
      respond.produce([metrics, access, route, started, produce = std::move(produce)] {
        net::HttpResponse response;
        try {
          response = produce();
        } catch (...) {
          response = problem_response(problem_for(std::current_exception()));
        }
        auto took = std::chrono::steady_clock::now() - started;
        metrics->observe(access->method, route, response.status, took);
        log_access(*access, route, response.status, took);
        harden(response);
        return response;
      });
    });
  };
  Answer unmatched = observe("unmatched", respond);
  try {
    auto target = Target::parse(request.target);
    const Route* found = nullptr;
    std::map<std::string, std::string> bound;
    std::vector<std::string> allowed;
    for (const auto& route : api_routes()) {
      auto params = match(route, target.segments);
      if (!params) continue;
      if (request.method != route.method) {
        allowed.emplace_back(route.method);
        continue;
      }
      found = &route;
      bound = std::move(*params);
      break;
    }
    if (found == nullptr && allowed.empty()) {
      return unmatched(problem_response(
          make_problem(404, "not-found", fmt::format("there is no resource at {}", request.target))));
    }
    if (found == nullptr) {
      auto response = problem_response(make_problem(
          405, "method-not-allowed",
          fmt::format("{} takes {}, not {}", request.target, fmt::join(allowed, ", "), request.method)));
      response.headers.set("Allow", fmt::format("{}", fmt::join(allowed, ", ")));
      return unmatched(std::move(response));
    }
    Answer answer = observe(found->pattern, respond);

    Principal principal{"anonymous", Role::admin};
    if (context.auth && found->permission != Permission::anyone) {
      auto header = request.headers.find("authorization");
      if (!header) return answer(unauthorized("this endpoint needs an Authorization: Bearer token", false));
      auto who = context.auth->authenticate(*header);
      if (!who) return answer(unauthorized("the bearer token is not valid", true));
      principal = *who;
    }
    access->token = principal.name;
    if (!role_may(principal.role, found->permission)) {
      return answer(problem_response(make_problem(
          403, "forbidden",
          fmt::format("token {} has role {}, which may not {} ({} {})", principal.name,
                      to_string(principal.role), to_string(found->permission), found->method,
                      found->pattern))));
    }
    ApiRequest api_request{request, principal, std::move(bound), QueryParams(target.query)};
    try {
      found->handler(context, api_request, answer);
    } catch (...) {
      answer(problem_response(problem_for(std::current_exception())));
    }
  } catch (...) {
    unmatched(problem_response(problem_for(std::current_exception())));
  }
}

}  // namespace rmaflow::api
