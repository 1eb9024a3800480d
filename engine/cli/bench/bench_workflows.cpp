#include "engine/cli/bench/bench_workflows.hpp"

#include <fmt/format.h>

namespace rmaflow::cli::bench {

std::string bench_workflow(const BenchOptions& opt) {
  std::string yaml = "workflow: bench\nversion: 1\nstart: step1\nsteps:\n";
  for (int i = 1; i <= opt.steps; ++i) {
    yaml += fmt::format(
        "  step{}:\n    action: builtin.noop\n    with: {{ rma: \"${{ .input.rma_id }}\", n: {} "
        "}}\n"
        "{}    next: {}\n",
        i, i, opt.results ? fmt::format("    result: step{}\n", i) : std::string(),
        i == opt.steps ? std::string("done") : fmt::format("step{}", i + 1));
  }
  yaml += "  done: { end: completed }\n";
  return yaml;
}

std::string fan_out_workflow(int steps) {
  std::string yaml =
      "workflow: bench-lines\nversion: 1\nstart: before\nsteps:\n"
      "  before:\n    action: builtin.noop\n    with: { rma: \"${ .input.rma_id }\" }\n"
      "    next: lines\n"
      "  lines:\n    foreach: ${ .input.lines }\n    as: line\n    key: ${ .line.id }\n"
      "    result: lines\n    start: line1\n    steps:\n";
  for (int i = 1; i <= steps; ++i) {
    yaml += fmt::format(
        "      line{}:\n        action: builtin.noop\n"
        "        with: {{ rma: \"${{ .input.rma_id }}\", line: \"${{ .line.id }}\", n: {} }}\n"
        "        next: {}\n",
        i, i, i == steps ? std::string("line_done") : fmt::format("line{}", i + 1));
  }
  yaml +=
      "      line_done: { end: done }\n    next: after\n"
      "  after:\n    action: builtin.noop\n    with: { rma: \"${ .input.rma_id }\" }\n"
      "    next: done\n  done: { end: completed }\n";
  return yaml;
}

nlohmann::json linear_input(int i, int lines) {
  nlohmann::json input = {{"rma_id", fmt::format("RMA-{}", i)}};
  if (lines == 0) return input;
  auto& list = input["lines"] = nlohmann::json::array();
  for (int l = 0; l < lines; ++l) {
    list.push_back({{"id", fmt::format("L{}", l + 1)},
                    {"sku", fmt::format("SKU-{:06}", (l * 7919) % 1'000'000)},
                    {"qty", l % 3 + 1},
                    {"reason", "damaged in transit"},
                    {"unit_price", 19.5 + l},
                    {"serial", fmt::format("SN{:06}-{:03}", i, l + 1)}});
  }
  return input;
}

std::function<nlohmann::json(int)> start_input(const BenchOptions& opt) {
  return [lines = opt.input_lines](int i) { return linear_input(i, lines); };
}

}  // namespace rmaflow::cli::bench
