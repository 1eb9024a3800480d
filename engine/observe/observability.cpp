#include "engine/observe/observability.hpp"

#include <fmt/format.h>

namespace rmaflow::observe {

Observability::Observability(DefinitionLookup definitions, std::optional<SpanExportOptions> traces)
    : metrics(definitions) {
  if (traces) {
    double sample = traces->sample;
    exporter_ = std::make_unique<SpanExporter>(std::move(*traces));
    traces_ = std::make_unique<TracePipeline>(*exporter_, std::move(definitions), sample);
  }
}

void Observability::write_metrics(std::string& out) const {
  metrics.write(out);
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
    self->metrics.observe(batch, took);
    if (self->traces_) self->traces_->observe(batch);
  };
}

}  // namespace rmaflow::observe
