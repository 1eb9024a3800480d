// HttpAdapter: actions that are HTTP calls to another service (an ERP, a carrier, a WMS with
// an HTTP API). Configured in the adapters file:
//
//   carrier:
//     type: http
//     base_url: http://127.0.0.1:8090/carrier
//     timeout: 10s                        # per request; default: until the attempt's deadline
//     headers: { Authorization: Bearer s3cr3t }
//     operations:
//       create_label: { method: POST, path: /labels }
//       void_label:   { method: DELETE, path: "/labels/{label_id}" }
//
// Every request carries `Idempotency-Key` (the call's key, stable across retries and
// restarts) and `traceparent` (W3C, derived from the instance's correlation id); the service
// must give a repeated key no second effect. Answers map to outcomes as response_mapping.hpp
// says. Requests never block the engine's thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <yaml-cpp/yaml.h>

#include "adapters/common/config_reader.hpp"
#include "adapters/http/request_template.hpp"
#include "engine/net/http_client.hpp"
#include "rmaflow/adapter.hpp"

namespace rmaflow {

class HttpAdapter final : public Adapter {
 public:
  HttpAdapter(std::string name, net::HttpUrl base, std::optional<Duration> timeout,
              std::map<std::string, RequestTemplate, std::less<>> operations);
  ~HttpAdapter() override;

  // Reads an adapter's entry. Throws Error(adapter_config) naming the file, the position and
  // the key at fault.
  static std::shared_ptr<HttpAdapter> from_yaml(const std::string& name, const YAML::Node& node,
                                                const ConfigReader& config);

  void invoke(const Invocation& call, AdapterHost& host, Completion done) override;
  bool has_operation(std::string_view operation) const override {
    return operations_.find(operation) != operations_.end();
  }
  std::vector<std::string> operations() const override {
    std::vector<std::string> names;
    for (const auto& [name, _] : operations_) names.push_back(name);
    return names;
  }
  // Calls still out when the engine closes are answered to nobody.
  void stop() override;

 private:
  // The answers of one engine's calls go to that engine only while it is open.
  struct Session {
    std::mutex mu;
    bool open = true;
  };

  std::string name_;
  net::HttpUrl base_;
  std::optional<Duration> timeout_;
  std::map<std::string, RequestTemplate, std::less<>> operations_;
  std::mutex mu_;  // guards session_; template rendering (jq) is not thread-safe either
  std::shared_ptr<Session> session_;
  std::unique_ptr<net::HttpClient> client_;  // last: destroyed first, cancelling its requests
};

}  // namespace rmaflow
