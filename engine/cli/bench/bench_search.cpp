// --mode search: list filters on search attributes over many stored instances.
#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include "engine/cli/bench/bench_modes.hpp"
#include "engine/cli/bench/bench_report.hpp"
#include "engine/cli/cli_support.hpp"
#include "engine/store/search_bench.hpp"

namespace rmaflow::cli::bench {

int search_mode(const BenchOptions& opt, const std::string& db_path) {
  const std::int64_t n = opt.instances;
  const std::int64_t customers = std::max<std::int64_t>(1, n / 100);
  auto filled = SteadyClock::now();
  fill_search_bench(db_path, n, customers);
  double fill_s = std::chrono::duration<double>(SteadyClock::now() - filled).count();
  auto store = open_store(db_path, StoreOptions{SyncMode::full, true});

  struct Kind {
    const char* name;
    std::function<std::vector<std::string>(std::int64_t round)> conditions;
  };
  auto day = [](std::int64_t r) { return fmt::format("2026-{:02}-{:02}", 1 + r % 12, 1 + r % 28); };
  const std::vector<Kind> kinds = {
      {"customer_id = one customer",
       [&](std::int64_t r) {
         return std::vector<std::string>{fmt::format("customer_id=C-{}", (r * 7919) % customers)};
       }},
      {"value in a range of 0.1%",
       [&](std::int64_t r) {
         double from = static_cast<double>((r * 137) % 9990);
         return std::vector<std::string>{fmt::format("value>={}", from),
                                         fmt::format("value<{}", from + 10)};
       }},
      {"returned_at within one day",
       [&](std::int64_t r) {
         return std::vector<std::string>{"returned_at>=" + day(r) + "T00:00:00Z",
                                         "returned_at<" + day(r) + "T23:59:59Z"};
       }},
      {"customer_id and value >= 5000",
       [&](std::int64_t r) {
         return std::vector<std::string>{fmt::format("customer_id=C-{}", (r * 7919) % customers),
                                         "value>=5000"};
       }},
      {"channel = web (a quarter of all)",
       [](std::int64_t) { return std::vector<std::string>{"channel=web"}; }},
  };
  constexpr int kRounds = 50;
  nlohmann::json results = nlohmann::json::array();
  double worst_median = 0;
  for (const auto& kind : kinds) {
    std::vector<double> ms;
    std::size_t rows = 0;
    for (int r = 0; r < kRounds; ++r) {
      InstanceFilter filter;
      filter.limit = 100;
      for (const auto& c : kind.conditions(r))
        filter.attributes.push_back(parse_attribute_condition(c));
      auto began = SteadyClock::now();
      auto page = store->list_instances(filter);
      ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - began).count());
      rows += page.size();
    }
    std::sort(ms.begin(), ms.end());
    double median = ms[ms.size() / 2];
    worst_median = std::max(worst_median, median);
    results.push_back({{"filter", kind.name},
                       {"median_ms", median},
                       {"p95_ms", ms[ms.size() * 95 / 100]},
                       {"max_ms", ms.back()},
                       {"rows_per_page", static_cast<double>(rows) / kRounds}});
  }
  nlohmann::json report = {
      {"mode", "search"},        {"instances", n},     {"customers", customers},
      {"attribute_rows", 4 * n}, {"fill_s", fill_s},   {"page", 100},
      {"rounds", kRounds},       {"filters", results}, {"worst_median_ms", worst_median}};
  print_report(report);
  return kExitOk;
}

}  // namespace rmaflow::cli::bench
