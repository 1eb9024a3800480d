#include "engine/observe/observability.hpp"

#include <fmt/format.h>

namespace rmaflow::observe {

namespace {

// How long /metrics waits for the commits made before it was asked to be counted.
constexpr std::chrono::milliseconds kCatchUp{1000};

}  // namespace

Observability::Observability(DefinitionLookup definitions, std::optional<SpanExportOptions> traces)
    : metrics_(definitions) {
  double sample = 1.0;
  if (traces) {
    sample = traces->sample;
    exporter_ = std::make_unique<SpanExporter>(std::move(*traces));
  }
  pipeline_ =
      std::make_unique<ObservePipeline>(metrics_, exporter_.get(), std::move(definitions), sample);
}

void Observability::write_metrics(std::string& out) const {
  pipeline_->catch_up(kCatchUp);
  metrics_.write(out);
  write_family(out, "rmaflow_observe_commits_dropped_total", "counter",
               "Commits whose metrics and spans were not worked out: the observe pipeline's "
               "queue was full.");
  out += fmt::format("rmaflow_observe_commits_dropped_total {}\n", pipeline_->dropped_commits());
  if (!exporter_) return;
  write_family(out, "rmaflow_trace_spans_exported_total", "counter",
               "Spans the collector accepted.");
  out += fmt::format("rmaflow_trace_spans_exported_total {}\n", exporter_->exported());
  write_family(out, "rmaflow_trace_spans_dropped_total", "counter",
               "Spans dropped: the export queue was full, or the collector was slow, down or refused them.");
  out += fmt::format("rmaflow_trace_spans_dropped_total {}\n", exporter_->dropped());
}

std::function<void(const WriteBatch&, std::chrono::nanoseconds)> Observability::commit_observer(
    std::shared_ptr<Observability> self) {
  return [self = std::move(self)](const WriteBatch& batch, std::chrono::nanoseconds took) {
    self->transitions.observe(batch);
    self->pipeline_->observe(batch, took);
  };
}

}  // namespace rmaflow::observe
