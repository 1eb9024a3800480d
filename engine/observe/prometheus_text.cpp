#include "engine/observe/prometheus_text.hpp"

#include <array>

#include <fmt/format.h>

namespace rmaflow::observe {

namespace {

constexpr std::array<double, 12> kLatency{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1,   0.25,   0.5,   1.0,  5.0,   60.0};
constexpr double kHour = 3600;
constexpr double kDay = 24 * kHour;
constexpr std::array<double, 13> kMilestone{kHour,    4 * kHour, 12 * kHour, kDay,     2 * kDay,
                                            3 * kDay, 5 * kDay,  7 * kDay,   10 * kDay, 14 * kDay,
                                            21 * kDay, 30 * kDay, 60 * kDay};
constexpr std::array<double, 10> kSize{1, 2, 5, 10, 50, 100, 500, 1000, 5000, 10000};

// A float as the exposition format reads it back exactly ("0.005", "60", "3600").
std::string number(double value) { return fmt::format("{}", value); }

}  // namespace

std::span<const double> latency_buckets() { return kLatency; }
std::span<const double> milestone_buckets() { return kMilestone; }
std::span<const double> size_buckets() { return kSize; }

std::string label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? 'n' : c;
  }
  return out;
}

std::string labels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
  std::string out;
  for (const auto& [name, value] : pairs) {
    if (!out.empty()) out += ',';
    out += fmt::format("{}=\"{}\"", name, label_value(value));
  }
  return out;
}

void write_family(std::string& out, std::string_view name, std::string_view type,
                  std::string_view help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void Histogram::observe(double value) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (value <= bounds_[i]) {
      ++counts_[i];
      break;
    }
  }
  ++count_;
  sum_ += value;
}

void Histogram::write(std::string& out, std::string_view name, std::string_view label_text) const {
  std::string_view comma = label_text.empty() ? "" : ",";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, label_text, comma, number(bounds_[i]),
                       cumulative);
  }
  out += fmt::format("{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, label_text, comma, count_);
  auto braces = label_text.empty() ? std::string() : fmt::format("{{{}}}", label_text);
  out += fmt::format("{}_sum{} {}\n", name, braces, number(sum_));
  out += fmt::format("{}_count{} {}\n", name, braces, count_);
}

}  // namespace rmaflow::observe
