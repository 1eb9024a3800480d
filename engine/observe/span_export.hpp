// Spans sent to a tracing collector over OTLP/HTTP with the JSON encoding (POST
// <endpoint>, e.g. http://127.0.0.1:4318/v1/traces), batched by a thread of its own.
//
// Never in the engine's way: submit() writes the span's JSON into a buffer of the caller's (the
// trace pipeline's thread, trace_pipeline.hpp), and flush() hands the buffer to a bounded queue
// in one piece (once per commit: a span's parts are allocated and freed on the caller's thread,
// and one string per commit crosses to the exporter's, which only joins them into requests and
// hands the emptied buffer back). When the
// queue is full, or a batch cannot be delivered (the collector is slow, down or refuses it), those
// spans are dropped and counted, never retried at the engine's expense. Losing spans never loses a
// transition: spans are made from what was committed (trace_builder.hpp).
//
// Thread-safety: submit() and flush() from one thread at a time (the trace pipeline's); the
// counters from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "rmaflow/time.hpp"

namespace rmaflow::observe {

// A span as submit() reads it: views into the submitter's strings, written out at once.
struct Span {
  using Attribute = std::pair<std::string_view, std::string_view>;
  std::string_view trace_id;    // 32 hex
  std::string_view span_id;     // 16 hex
  std::string_view parent_id;   // 16 hex; empty for a root
  std::string_view name;
  TimePoint start;
  TimePoint end;
  std::string_view error;       // non-empty: the span failed, with this message
  std::span<const Attribute> attributes;
};

struct SpanExportOptions {
  std::string endpoint;                         // http://host:port/path
  std::string service_name = "rmaflow";
  double sample = 1.0;                          // share of instances traced (trace_sampled())
  std::size_t max_queue = 16384;                // spans waiting; more are dropped
  std::size_t max_batch = 512;                  // spans per request
  std::chrono::milliseconds interval{500};      // a partial batch is sent after this long
  std::chrono::milliseconds timeout{2000};      // per request
};

// The OTLP/HTTP JSON request body (ExportTraceServiceRequest) for `spans`.
std::string otlp_json(const std::vector<Span>& spans, const std::string& service_name);
// One span as the JSON object OTLP's `spans` array holds, appended to `out`.
void append_span_json(std::string& out, const Span& span);

class SpanExporter {
 public:
  // Throws Error(invalid_argument) when the endpoint is not an http:// URL.
  explicit SpanExporter(SpanExportOptions options);
  // Sends what is queued (within one request timeout per batch), then stops.
  ~SpanExporter();
  SpanExporter(const SpanExporter&) = delete;
  SpanExporter& operator=(const SpanExporter&) = delete;

  void submit(const Span& span);
  // Queues what was submitted since the last flush (or drops it, counted, when the queue is full).
  void flush();

  // Counts `spans` lost before they were submitted (their facts were dropped).
  void count_dropped(std::size_t spans) { dropped_ += spans; }

  std::uint64_t exported() const { return exported_; }
  std::uint64_t dropped() const { return dropped_; }
  std::uint64_t failed_requests() const { return failed_requests_; }

 private:
  // Spans written as JSON objects, comma-separated, as one flush handed them over.
  struct Chunk {
    std::string json;
    std::size_t spans = 0;
  };
  void run();

  // Buffers the exporter has sent, handed back for flush() to write the next chunk into: the
  // caller's thread then reuses their memory instead of growing a new string for every commit
  // (a large allocation, which also makes the allocator consolidate its small free chunks).
  static constexpr std::size_t kSpareBuffers = 8;

  SpanExportOptions options_;
  Chunk pending_;  // the submitting thread's
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Chunk> queue_;
  std::vector<std::string> spare_;
  std::size_t queued_spans_ = 0;
  bool stopping_ = false;
  std::atomic<std::uint64_t> exported_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> failed_requests_{0};
  std::thread thread_;
};

}  // namespace rmaflow::observe
