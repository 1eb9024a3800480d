// Writing the Prometheus text exposition format (0.0.4): metric families, escaped label values
// and histograms with cumulative buckets. What is written here parses with a strict parser
// (tests/api/metrics_check.py): one HELP and TYPE per family before its samples, every
// histogram's buckets ascending and cumulative, ending with +Inf equal to its count.
//
// Thread-safety: Histogram is not synchronized; its owner locks.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rmaflow::observe {

// A label value with backslash, double quote and newline escaped.
std::string label_value(std::string_view value);

// `name="value",...` from alternating names and values.
std::string labels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs);

// "# HELP name help\n# TYPE name type\n".
void write_family(std::string& out, std::string_view name, std::string_view type,
                  std::string_view help);

// Upper bounds, ascending, for durations in seconds: from a millisecond to a minute, and for
// business milestones from an hour to two months.
std::span<const double> latency_buckets();
std::span<const double> milestone_buckets();
std::span<const double> size_buckets();

class Histogram {
 public:
  explicit Histogram(std::span<const double> bounds) : bounds_(bounds), counts_(bounds.size()) {}
  void observe(double value);
  // The _bucket, _sum and _count samples of `name` with `label_text` (may be empty).
  void write(std::string& out, std::string_view name, std::string_view label_text) const;
  std::uint64_t count() const { return count_; }

 private:
  std::span<const double> bounds_;
  std::vector<std::uint64_t> counts_;  // per bucket, not cumulative
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

}  // namespace rmaflow::observe
