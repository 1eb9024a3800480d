#include "engine/observe/span_export.hpp"

#include <fmt/format.h>

#include <string_view>

#include "engine/net/http_client.hpp"
#include "engine/support/threads.hpp"

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


void append_span_json(std::string& out, const Span& s) {
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
  out += R"(,"kind":)";
  out += std::to_string(kSpanKindInternal);
  out += R"(,"startTimeUnixNano":")";
  out += unix_nanos(s.start);
  out += R"(","endTimeUnixNano":")";
  out += unix_nanos(s.end);
  out += R"(","attributes":[)";
  for (std::size_t i = 0; i < s.attributes.size(); ++i) {
    if (i > 0) out += ',';
    append_attribute(out, s.attributes[i].first, s.attributes[i].second);
  }
  out += R"(],"status":{"code":)";
  if (s.error.empty()) {
    out += std::to_string(kStatusOk);
    out += "}}";
  } else {
    out += std::to_string(kStatusError);
    out += R"(,"message":)";
    append_string(out, s.error);
    out += "}}";
  }
}

namespace {

std::string request_head(const std::string& service_name) {
  std::string out = R"({"resourceSpans":[{"resource":{"attributes":[)";
  append_attribute(out, "service.name", service_name);
  out += R"(]},"scopeSpans":[{"scope":{"name":"rmaflow"},"spans":[)";
  return out;
}

constexpr std::string_view kRequestTail = "]}]}]}";

}  // namespace

std::string otlp_json(const std::vector<Span>& spans, const std::string& service_name) {
  std::string out = request_head(service_name);
  out.reserve(out.size() + spans.size() * 400 + kRequestTail.size());
  bool first = true;
  for (const auto& s : spans) {
    if (!first) out += ',';
    first = false;
    append_span_json(out, s);
  }
  out += kRequestTail;
  return out;
}

SpanExporter::SpanExporter(SpanExportOptions options) : options_(std::move(options)) {
  net::HttpUrl::parse(options_.endpoint);  // refuses what is not an http:// URL now, not later
  thread_ = std::thread([this] {
    name_this_thread("rmaflow-spans");
    run();
  });
}

SpanExporter::~SpanExporter() {
  flush();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void SpanExporter::submit(const Span& span) {
  if (pending_.spans > 0) pending_.json += ',';
  append_span_json(pending_.json, span);
  if (++pending_.spans >= options_.max_batch) flush();
}

void SpanExporter::flush() {
  if (pending_.spans == 0) return;
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (queued_spans_ + pending_.spans > options_.max_queue) {
      dropped_ += pending_.spans;
      pending_.json.clear();
    } else {
      queued_spans_ += pending_.spans;
      queue_.push_back(std::move(pending_));
      wake = queued_spans_ >= options_.max_batch;
      pending_.json.clear();
      if (!spare_.empty()) {
        pending_.json = std::move(spare_.back());
        spare_.pop_back();
      }
    }
  }
  pending_.spans = 0;
  if (wake) wake_.notify_one();
}

void SpanExporter::run() {
  auto url = net::HttpUrl::parse(options_.endpoint);
  net::HttpClient client;
  const std::string head = request_head(options_.service_name);
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait_for(lock, options_.interval,
                   [this] { return stopping_ || queued_spans_ >= options_.max_batch; });
    if (queue_.empty()) {
      if (stopping_) return;
      continue;
    }
    // Whole chunks, up to a batch's spans (at least one chunk).
    std::string body = head;
    std::size_t spans = 0;
    while (!queue_.empty() && (spans == 0 || spans + queue_.front().spans <= options_.max_batch)) {
      Chunk chunk = std::move(queue_.front());
      queue_.pop_front();
      if (spans > 0) body += ',';
      body += chunk.json;
      spans += chunk.spans;
      if (spare_.size() < kSpareBuffers) {
        chunk.json.clear();
        spare_.push_back(std::move(chunk.json));
      }
    }
    queued_spans_ -= spans;
    lock.unlock();
    body += kRequestTail;
    net::HttpRequest request;
    request.method = "POST";
    request.target = url.target;
    request.headers.set("Content-Type", "application/json");
    request.body = std::move(body);
    auto result = client.request(url.endpoint, std::move(request), options_.timeout);
    bool delivered = result.ok() && result.response.status >= 200 && result.response.status < 300;
    if (delivered) {
      exported_ += spans;
    } else {
      // Dropped, not retried: a collector that is down must not make spans pile up.
      ++failed_requests_;
      dropped_ += spans;
    }
    lock.lock();
    if (!delivered && stopping_) {  // shutting down: do not wait a timeout per batch left
      dropped_ += queued_spans_;
      queue_.clear();
      queued_spans_ = 0;
      return;
    }
  }
}

}  // namespace rmaflow::observe
