#include "engine/observe/span_export.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/net/http_client.hpp"

namespace rmaflow::observe {

namespace {

std::string unix_nanos(TimePoint t) {
  return std::to_string(static_cast<std::int64_t>(t.time_since_epoch().count()) * 1'000'000);
}

nlohmann::json string_attribute(const std::string& key, const std::string& value) {
  return {{"key", key}, {"value", {{"stringValue", value}}}};
}

constexpr int kSpanKindInternal = 1;
constexpr int kStatusOk = 1;
constexpr int kStatusError = 2;

}  // namespace

std::string otlp_json(const std::vector<Span>& spans, const std::string& service_name) {
  auto list = nlohmann::json::array();
  for (const auto& s : spans) {
    nlohmann::json span = {{"traceId", s.trace_id},
                           {"spanId", s.span_id},
                           {"name", s.name},
                           {"kind", kSpanKindInternal},
                           {"startTimeUnixNano", unix_nanos(s.start)},
                           {"endTimeUnixNano", unix_nanos(s.end)}};
    if (!s.parent_id.empty()) span["parentSpanId"] = s.parent_id;
    auto attributes = nlohmann::json::array();
    for (const auto& [key, value] : s.attributes) attributes.push_back(string_attribute(key, value));
    span["attributes"] = std::move(attributes);
    span["status"] = s.error.empty() ? nlohmann::json{{"code", kStatusOk}}
                                     : nlohmann::json{{"code", kStatusError}, {"message", s.error}};
    list.push_back(std::move(span));
  }
  nlohmann::json body = {
      {"resourceSpans",
       {{{"resource", {{"attributes", {string_attribute("service.name", service_name)}}}},
         {"scopeSpans", {{{"scope", {{"name", "rmaflow"}}}, {"spans", std::move(list)}}}}}}}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

SpanExporter::SpanExporter(SpanExportOptions options) : options_(std::move(options)) {
  net::HttpUrl::parse(options_.endpoint);  // refuses what is not an http:// URL now, not later
  thread_ = std::thread([this] { run(); });
}

SpanExporter::~SpanExporter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void SpanExporter::submit(Span span) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= options_.max_queue) {
      ++dropped_;
      return;
    }
    queue_.push_back(std::move(span));
    wake = queue_.size() >= options_.max_batch;
  }
  if (wake) wake_.notify_one();
}

void SpanExporter::run() {
  auto url = net::HttpUrl::parse(options_.endpoint);
  net::HttpClient client;
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait_for(lock, options_.interval,
                   [this] { return stopping_ || queue_.size() >= options_.max_batch; });
    if (queue_.empty()) {
      if (stopping_) return;
      continue;
    }
    std::vector<Span> batch;
    auto n = std::min(queue_.size(), options_.max_batch);
    batch.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    net::HttpRequest request;
    request.method = "POST";
    request.target = url.target;
    request.headers.set("Content-Type", "application/json");
    request.body = otlp_json(batch, options_.service_name);
    auto result = client.request(url.endpoint, std::move(request), options_.timeout);
    bool delivered = result.ok() && result.response.status >= 200 && result.response.status < 300;
    if (delivered) {
      exported_ += batch.size();
    } else {
      // Dropped, not retried: a collector that is down must not make spans pile up.
      ++failed_requests_;
      dropped_ += batch.size();
    }
    lock.lock();
    if (!delivered && stopping_) {  // shutting down: do not wait a timeout per batch left
      dropped_ += queue_.size();
      queue_.clear();
      return;
    }
  }
}

}  // namespace rmaflow::observe
