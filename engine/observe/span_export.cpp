#include "engine/observe/span_export.hpp"

#include <fmt/format.h>

#include "engine/net/http_client.hpp"

namespace rmaflow::observe {

namespace {

constexpr int kSpanKindInternal = 1;
constexpr int kStatusOk = 1;
constexpr int kStatusError = 2;

// `text` as a JSON string. Written by hand rather than through a JSON document: the exporter
// writes hundreds of thousands of spans a minute, and a document per span costs more in
// allocations than the engine spends on the transitions they describe.
void append_string(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += fmt::format("\\u{:04x}", u);
    } else {
      out += c;
    }
  }
  out += '"';
}

void append_attribute(std::string& out, std::string_view key, std::string_view value) {
  out += R"({"key":)";
  append_string(out, key);
  out += R"(,"value":{"stringValue":)";
  append_string(out, value);
  out += "}}";
}

std::string unix_nanos(TimePoint t) {
  return std::to_string(static_cast<std::int64_t>(t.time_since_epoch().count()) * 1'000'000);
}

}  // namespace

std::string otlp_json(const std::vector<Span>& spans, const std::string& service_name) {
  std::string out;
  out.reserve(spans.size() * 400 + 256);
  out += R"({"resourceSpans":[{"resource":{"attributes":[)";
  append_attribute(out, "service.name", service_name);
  out += R"(]},"scopeSpans":[{"scope":{"name":"rmaflow"},"spans":[)";
  bool first = true;
  for (const auto& s : spans) {
    if (!first) out += ',';
    first = false;
    out += R"({"traceId":)";
    append_string(out, s.trace_id);
    out += R"(,"spanId":)";
    append_string(out, s.span_id);
    if (!s.parent_id.empty()) {
      out += R"(,"parentSpanId":)";
      append_string(out, s.parent_id);
    }
    out += R"(,"name":)";
    append_string(out, s.name);
    out += fmt::format(R"(,"kind":{},"startTimeUnixNano":"{}","endTimeUnixNano":"{}","attributes":[)",
                       kSpanKindInternal, unix_nanos(s.start), unix_nanos(s.end));
    for (std::size_t i = 0; i < s.attributes.size(); ++i) {
      if (i > 0) out += ',';
      append_attribute(out, s.attributes[i].first, s.attributes[i].second);
    }
    out += R"(],"status":{"code":)";
    if (s.error.empty()) {
      out += fmt::format("{}}}}}", kStatusOk);
    } else {
      out += fmt::format(R"({},"message":)", kStatusError);
      append_string(out, s.error);
      out += "}}";
    }
  }
  out += "]}]}]}";
  return out;
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
