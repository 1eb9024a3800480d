#include "adapters/http/http_adapter.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "adapters/http/response_mapping.hpp"
#include "adapters/http/trace_context.hpp"
#include "engine/support/yaml_json.hpp"

namespace rmaflow {

namespace {

const std::set<std::string> kMethods = {"GET", "POST", "PUT", "PATCH", "DELETE"};

std::map<std::string, std::string> read_headers(const ConfigReader& config, const YAML::Node& node,
                                                const std::string& where) {
  config.expect_map(node, where);
  std::map<std::string, std::string> headers;
  for (const auto& kv : node) {
    auto name = kv.first.Scalar();
    if (name.empty() || name.find_first_of(" :\r\n") != std::string::npos) {
      config.fail(kv.first, fmt::format("\"{}\" is not a header name", name));
    }
    auto value = config.scalar(kv.second, "header " + name);
    if (value.find_first_of("\r\n") != std::string::npos) {
      config.fail(kv.second, fmt::format("header {} must be one line", name));
    }
    headers[name] = value;
  }
  return headers;
}

RequestTemplate read_operation(const ConfigReader& config, const YAML::Node& node,
                               const std::string& where,
                               const std::map<std::string, std::string>& shared_headers) {
  config.expect_map(node, where);
  config.check_keys(node, {"method", "path", "body", "headers", "timeout"}, where);
  RequestTemplate op;
  if (node["method"]) {
    op.method = config.scalar(node["method"], "method");
    std::transform(op.method.begin(), op.method.end(), op.method.begin(), ::toupper);
    if (!kMethods.count(op.method)) {
      config.fail(node["method"], fmt::format("method \"{}\" is not one of {}", op.method,
                                              fmt::join(kMethods, ", ")));
    }
  }
  if (!node["path"]) config.fail(node, where + " needs a \"path\" such as /labels");
  op.path = config.scalar(node["path"], "path");
  if (op.path.empty() || op.path.front() != '/' || !path_fields(op.path)) {
    config.fail(node["path"], fmt::format("path \"{}\" must start with / and may hold {{field}} "
                                          "names of the step input",
                                          op.path));
  }
  if (node["body"]) {
    try {
      op.body = Template::compile(yaml_to_json(node["body"]));
    } catch (const Error& e) {
      config.fail(node["body"], fmt::format("the body of {} does not compile: {}", where, e.what()));
    }
  }
  op.headers = shared_headers;
  if (node["headers"]) {
    for (auto& [k, v] : read_headers(config, node["headers"], where + ": headers")) op.headers[k] = v;
  }
  if (node["timeout"]) op.timeout = config.duration(node["timeout"]);
  return op;
}

}  // namespace

HttpAdapter::HttpAdapter(std::string name, net::HttpUrl base, std::optional<Duration> timeout,
                         std::map<std::string, RequestTemplate, std::less<>> operations)
    : name_(std::move(name)),
      base_(std::move(base)),
      timeout_(timeout),
      operations_(std::move(operations)),
      session_(std::make_shared<Session>()),
      client_(std::make_unique<net::HttpClient>()) {}

HttpAdapter::~HttpAdapter() { stop(); }

std::shared_ptr<HttpAdapter> HttpAdapter::from_yaml(const std::string& name, const YAML::Node& node,
                                                    const ConfigReader& config) {
  auto where = fmt::format("adapter \"{}\"", name);
  config.check_keys(node, {"type", "base_url", "timeout", "headers", "operations", "limits"},
                    where);
  if (!node["base_url"]) {
    config.fail(node, where + " of type http needs a \"base_url\" such as http://127.0.0.1:8090/erp");
  }
  net::HttpUrl base;
  try {
    base = net::HttpUrl::parse(config.scalar(node["base_url"], "base_url"));
  } catch (const Error& e) {
    config.fail(node["base_url"], e.what());
  }
  if (base.target.find('?') != std::string::npos) {
    config.fail(node["base_url"], "base_url must not have a query; put it in each path");
  }
  std::optional<Duration> timeout;
  if (node["timeout"]) timeout = config.duration(node["timeout"]);
  std::map<std::string, std::string> headers;
  if (node["headers"]) headers = read_headers(config, node["headers"], where + ": headers");
  if (!node["operations"]) config.fail(node, where + " needs \"operations\": name: { method, path }");
  config.expect_map(node["operations"], where + ": operations");
  std::map<std::string, RequestTemplate, std::less<>> operations;
  for (const auto& kv : node["operations"]) {
    auto op = kv.first.Scalar();
    operations[op] = read_operation(config, kv.second,
                                    fmt::format("operation \"{}\" of {}", op, where), headers);
  }
  return std::make_shared<HttpAdapter>(name, std::move(base), timeout, std::move(operations));
}

void HttpAdapter::invoke(const Invocation& call, AdapterHost& host, Completion done) {
  auto it = operations_.find(call.operation);
  if (it == operations_.end()) {
    done(Outcome::failure("UnknownOperation",
                          fmt::format("adapter {} has no operation {}", name_, call.operation), false));
    return;
  }
  const RequestTemplate& op = it->second;
  auto what = fmt::format("{} {} {}", name_, op.method, op.path);
  net::HttpRequest request;
  std::shared_ptr<Session> session;
  try {
    std::lock_guard lock(mu_);
    session = session_;
    request = op.render(base_.target, call.input);
  } catch (const Error& e) {
    done(Outcome::failure("InvalidRequest", fmt::format("{}: {}", what, e.what()), false));
    return;
  }
  request.headers.set("Idempotency-Key", call.idempotency_key);
  // A compensation of a call whose outcome rmaflow never learnt: the service finds the effect
  // (if any) by the key it was made with.
  if (call.compensation && call.outcome_unknown && !call.undoes.empty()) {
    request.headers.set("Undoes-Idempotency-Key", call.undoes);
  }
  request.headers.set("traceparent", traceparent(call.correlation_id, call.idempotency_key,
                                                 call.attempt, call.trace_sampled));

  // Until the attempt's deadline, or the configured timeout when that is sooner.
  auto left = std::max(Duration(1), std::chrono::duration_cast<Duration>(call.deadline - host.clock().now()));
  auto timeout = std::min(left, op.timeout.value_or(timeout_.value_or(left)));
  client_->async_request(base_.endpoint, std::move(request), timeout,
                         [session, what, done = std::move(done)](net::HttpResult result) {
                           std::lock_guard lock(session->mu);
                           if (session->open) done(outcome_of(result, what));
                         });
}

void HttpAdapter::stop() {
  std::lock_guard lock(mu_);
  {
    std::lock_guard closing(session_->mu);
    session_->open = false;
  }
  session_ = std::make_shared<Session>();
}

}  // namespace rmaflow
