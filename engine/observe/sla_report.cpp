#include "engine/observe/sla_report.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <tuple>

#include "rmaflow/definition.hpp"

namespace rmaflow::observe {

namespace {

// Nearest rank: the smallest value with at least p percent of the values at or below it.
Duration percentile(const std::vector<Duration>& sorted, int p) {
  if (sorted.empty()) return Duration(0);
  auto rank = (sorted.size() * static_cast<std::size_t>(p) + 99) / 100;
  return sorted[std::max<std::size_t>(rank, 1) - 1];
}

std::string group_of(const InstanceRow& row, const std::string& by) {
  if (by.empty()) return "-";
  auto input = row.context->find("input");
  if (input == row.context->end() || !input->is_object()) return "-";
  auto value = input->find(by);
  if (value == input->end() || value->is_null() || value->is_object() || value->is_array()) return "-";
  return value->is_string() ? value->get<std::string>() : value->dump();
}

// When each milestone step was first reached on the main line: completed, or (an end step) ended at.
std::map<std::string, TimePoint> first_reached(const std::vector<EventRow>& history) {
  std::map<std::string, TimePoint> reached;
  for (const auto& e : history) {
    // A wait left by its timeout did not reach what it waited for.
    bool reaching = (e.type == EventType::step_completed || e.type == EventType::instance_ended) &&
                    e.branch.empty() && e.data.find(R"("timed_out":true)") == std::string::npos;
    if (reaching) reached.try_emplace(e.step, e.at);
  }
  return reached;
}

// The workflow versions met while reading, each loaded once.
class StoredDefinitions {
 public:
  explicit StoredDefinitions(Store& store) : store_(store) {}
  std::shared_ptr<const Definition> get(const std::string& workflow, int version) {
    auto [it, inserted] = known_.try_emplace({workflow, version});
    if (inserted) {
      if (auto row = store_.get_definition(workflow, version)) {
        it->second = load_stored_definition(row->source, row->file, row->input_schema,
                                            Compilation::on_first_use)
                         .definition;
      }
    }
    return it->second;
  }

 private:
  Store& store_;
  std::map<std::pair<std::string, int>, std::shared_ptr<const Definition>> known_;
};

}  // namespace

SlaReport sla_report(Store& store, const SlaQuery& query) {
  using Key = std::tuple<std::string, std::size_t, std::string>;  // workflow, milestone index, group
  struct Tally {
    std::string milestone;
    std::optional<Duration> sla;
    std::int64_t started = 0;
    std::vector<Duration> took;
    std::int64_t breaching = 0;
  };
  std::map<Key, Tally> tallies;
  SlaReport report;
  StoredDefinitions definitions(store);

  InstanceFilter filter;
  filter.workflow = query.workflow;
  filter.created_from = query.from;
  filter.created_before = query.before;
  for_each_instance(store, filter, [&](InstanceRow& row) {
    ++report.instances;
    auto definition = definitions.get(row.workflow, row.version);
    if (!definition || definition->milestones.empty()) return true;
    auto reached = first_reached(store.history(row.id));
    auto group = group_of(row, query.by);
    for (std::size_t i = 0; i < definition->milestones.size(); ++i) {
      const auto& m = definition->milestones[i];
      auto& tally = tallies[{row.workflow, i, group}];
      tally.milestone = m.name;
      tally.sla = m.sla;
      ++tally.started;
      auto at = reached.find(m.step);
      std::optional<Duration> took;
      if (at != reached.end()) {
        took = std::chrono::duration_cast<Duration>(at->second - row.created_at);
        tally.took.push_back(*took);
      }
      bool late = m.sla && took && *took > *m.sla;
      bool overdue = m.sla && !took && !is_final(row.status) && query.now - row.created_at > *m.sla;
      if (late || overdue) {
        ++tally.breaching;
        report.breaches.push_back(SlaBreach{row.id, row.business_key, row.workflow, m.name, group,
                                            std::string(to_string(row.status)), took, *m.sla});
      }
    }
    return true;
  });

  for (auto& [key, tally] : tallies) {
    std::sort(tally.took.begin(), tally.took.end());
    SlaRow row;
    row.workflow = std::get<0>(key);
    row.milestone = tally.milestone;
    row.group = std::get<2>(key);
    row.started = tally.started;
    row.reached = static_cast<std::int64_t>(tally.took.size());
    row.p50 = percentile(tally.took, 50);
    row.p90 = percentile(tally.took, 90);
    row.p95 = percentile(tally.took, 95);
    row.p99 = percentile(tally.took, 99);
    row.max = tally.took.empty() ? Duration(0) : tally.took.back();
    row.sla = tally.sla;
    row.breaching = tally.breaching;
    report.rows.push_back(std::move(row));
  }
  std::stable_sort(report.breaches.begin(), report.breaches.end(),
                   [](const SlaBreach& a, const SlaBreach& b) {
                     auto as = a.took.value_or(Duration::max());
                     auto bs = b.took.value_or(Duration::max());
                     return std::tie(a.workflow, a.milestone, bs) < std::tie(b.workflow, b.milestone, as);
                   });
  return report;
}

nlohmann::json to_json(const SlaReport& report) {
  auto ms = [](Duration d) { return d.count(); };
  auto rows = nlohmann::json::array();
  for (const auto& r : report.rows) {
    rows.push_back({{"workflow", r.workflow},
                    {"milestone", r.milestone},
                    {"group", r.group},
                    {"started", r.started},
                    {"reached", r.reached},
                    {"p50_ms", ms(r.p50)},
                    {"p90_ms", ms(r.p90)},
                    {"p95_ms", ms(r.p95)},
                    {"p99_ms", ms(r.p99)},
                    {"max_ms", ms(r.max)},
                    {"sla_ms", r.sla ? nlohmann::json(ms(*r.sla)) : nlohmann::json(nullptr)},
                    {"breaching", r.breaching}});
  }
  auto breaches = nlohmann::json::array();
  for (const auto& b : report.breaches) {
    breaches.push_back({{"instance", b.instance_id},
                        {"business_key", b.business_key},
                        {"workflow", b.workflow},
                        {"milestone", b.milestone},
                        {"group", b.group},
                        {"status", b.status},
                        {"took_ms", b.took ? nlohmann::json(ms(*b.took)) : nlohmann::json(nullptr)},
                        {"sla_ms", ms(b.sla)}});
  }
  return {{"instances", report.instances}, {"milestones", rows}, {"breaching", breaches}};
}

}  // namespace rmaflow::observe
