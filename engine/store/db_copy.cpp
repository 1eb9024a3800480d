#include "engine/store/db_copy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <tuple>
#include <vector>

#include "engine/store/state_codec.hpp"
#include "engine/support/sha256.hpp"
#include "rmaflow/errors.hpp"

namespace rmaflow::store {

namespace {

constexpr auto kAll = std::numeric_limits<std::size_t>::max();
constexpr std::size_t kInstancesPerBatch = 200;
constexpr std::size_t kJobItemsPerPage = 1000;

nlohmann::json optional_millis(const std::optional<TimePoint>& t) {
  return t ? nlohmann::json(to_millis(*t)) : nlohmann::json();
}

// A JSON text as the value it holds, so that a store which keeps JSON its own way (spacing,
// key order) digests like one that keeps the text.
nlohmann::json json_text(const std::string& text) {
  auto value = nlohmann::json::parse(text, nullptr, false);
  return value.is_discarded() ? nlohmann::json(text) : value;
}

nlohmann::json definition_json(const DefinitionRow& d) {
  return {{"name", d.name},
          {"version", d.version},
          {"hash", d.content_hash},
          {"source", d.source},
          {"schema", d.input_schema.empty() ? nlohmann::json() : json_text(d.input_schema)},
          {"file", d.file},
          {"deployed_at", to_millis(d.deployed_at)}};
}

nlohmann::json instance_json(const InstanceRow& r) {
  nlohmann::json parent;
  if (r.parent) {
    parent = {
        {"id", r.parent->instance_id}, {"step", r.parent->step}, {"branch", r.parent->branch}};
  }
  return {{"id", r.id},
          {"workflow", r.workflow},
          {"version", r.version},
          {"status", to_string(r.status)},
          {"step", r.step},
          {"business_key", r.business_key},
          {"correlation_id", r.correlation_id},
          {"input_hash", r.input_hash},
          {"last_seq", r.last_seq},
          {"created_at", to_millis(r.created_at)},
          {"updated_at", to_millis(r.updated_at)},
          {"ended_at", optional_millis(r.ended_at)},
          {"deadline", optional_millis(r.deadline)},
          {"paused_at", optional_millis(r.paused_at)},
          {"context", r.context},
          {"visits", json_text(encode_visits(r.visits))},
          {"cursors", json_text(encode_cursors(r.cursors))},
          {"saga", json_text(encode_saga(r.saga))},
          {"parent", parent}};
}

nlohmann::json event_json(const EventRow& e) {
  return {{"seq", e.seq},       {"type", to_string(e.type)}, {"step", e.step},
          {"branch", e.branch}, {"at", to_millis(e.at)},     {"data", json_text(e.data)}};
}

nlohmann::json timer_json(const TimerRow& t) {
  return {{"branch", t.branch}, {"name", t.name}, {"due", to_millis(t.due)}};
}

nlohmann::json signal_json(const SignalRow& s) {  // seq left out: the store assigns it
  return {{"name", s.name},
          {"match", s.match},
          {"key", s.idempotency_key},
          {"payload", json_text(s.payload)},
          {"received_at", to_millis(s.received_at)},
          {"consumed_at", optional_millis(s.consumed_at)}};
}

nlohmann::json command_json(const CommandRow& c) {  // id left out: the store assigns it
  return {{"instance", c.instance_id},
          {"kind", c.kind},
          {"body", json_text(c.body)},
          {"created_at", to_millis(c.created_at)},
          {"applied_at", optional_millis(c.applied_at)},
          {"outcome", c.outcome}};
}

nlohmann::json job_json(const JobRow& j) {
  return {{"id", j.id},
          {"action", j.action},
          {"filter", filter_to_json(j.filter)},
          {"args", j.args},
          {"actor", j.actor},
          {"reason", j.reason},
          {"per_second", j.per_second},
          {"state", to_string(j.state)},
          {"created_at", to_millis(j.created_at)},
          {"updated_at", to_millis(j.updated_at)},
          {"ended_at", optional_millis(j.ended_at)},
          {"cursor", j.cursor},
          {"dealt", j.dealt},
          {"applied", j.applied},
          {"refused", j.refused},
          {"cancelled_by", j.cancelled_by},
          {"cancel_reason", j.cancel_reason}};
}

nlohmann::json job_item_json(const JobItemRow& i) {
  return {{"instance", i.instance_id},
          {"applied", i.applied},
          {"detail", i.detail},
          {"at", to_millis(i.at)}};
}

// Every timer, by instance, each instance's in (branch, name) order.
std::map<std::string, std::vector<TimerRow>> timers_by_instance(Store& store) {
  std::map<std::string, std::vector<TimerRow>> timers;
  for (auto& timer : store.due_timers(TimePoint::max(), kAll)) {
    timers[timer.instance_id].push_back(std::move(timer));
  }
  for (auto& [id, rows] : timers) {
    std::sort(rows.begin(), rows.end(), [](const TimerRow& a, const TimerRow& b) {
      return std::tie(a.branch, a.name) < std::tie(b.branch, b.name);
    });
  }
  return timers;
}

// Every job, oldest first.
std::vector<JobRow> all_jobs(Store& store) {
  std::vector<JobRow> jobs;
  for (std::string before;;) {
    auto page = store.list_jobs(before, 100);
    if (page.empty()) break;
    before = page.back().id;
    std::move(page.begin(), page.end(), std::back_inserter(jobs));
  }
  std::reverse(jobs.begin(), jobs.end());
  return jobs;
}

// Calls `visit` with each page of a job's items, in instance order.
template <class Visit>
void for_each_item_page(Store& store, const std::string& job_id, Visit visit) {
  for (std::string after;;) {
    auto page = store.job_items(job_id, after, false, kJobItemsPerPage);
    if (page.empty()) return;
    after = page.back().instance_id;
    visit(page);
  }
}

class Digester {
 public:
  void add(const char* kind, const nlohmann::json& row, std::int64_t& count) {
    sha_.update(kind);
    sha_.update(row.dump());
    sha_.update("\n");
    ++count;
  }
  std::string finish() {
    std::string hex;
    for (auto byte : sha_.finish()) hex += fmt::format("{:02x}", byte);
    return hex;
  }

 private:
  Sha256 sha_;
};

std::int64_t instance_count(Store& store) {
  std::int64_t total = 0;
  for (const auto& [status, count] : store.count_by_status()) total += count;
  return total;
}

void require_empty(Store& to) {
  auto definitions = to.list_definitions().size();
  auto instances = instance_count(to);
  auto commands = to.list_commands("", false, 1).size();
  auto jobs = to.list_jobs("", 1).size();
  if (definitions + static_cast<std::size_t>(instances) + commands + jobs == 0) return;
  throw Error(Errc::conflict,
              fmt::format("the target database is not empty ({} definition(s), {} instance(s){}); "
                          "copy only into a new database",
                          definitions, instances, commands + jobs > 0 ? ", commands or jobs" : ""));
}

void check_same(const DatabaseDigest& from, const DatabaseDigest& to) {
  const std::pair<const char*, std::int64_t DatabaseDigest::*> counts[] = {
      {"definitions", &DatabaseDigest::definitions},
      {"instances", &DatabaseDigest::instances},
      {"events", &DatabaseDigest::events},
      {"timers", &DatabaseDigest::timers},
      {"signals", &DatabaseDigest::signals},
      {"commands", &DatabaseDigest::commands},
      {"jobs", &DatabaseDigest::jobs},
      {"job items", &DatabaseDigest::job_items}};
  for (const auto& [name, field] : counts) {
    if (from.*field != to.*field) {
      throw Error(Errc::storage, fmt::format("the copy does not verify: the source holds {} {}, "
                                             "the target {}",
                                             from.*field, name, to.*field));
    }
  }
  if (from.checksum != to.checksum) {
    throw Error(Errc::storage,
                fmt::format("the copy does not verify: the counts agree but the checksums differ "
                            "(source {}, target {})",
                            from.checksum, to.checksum));
  }
}

}  // namespace

DatabaseDigest digest_database(Store& store) {
  DatabaseDigest digest;
  Digester d;
  for (const auto& definition : store.list_definitions()) {
    d.add("definition", definition_json(definition), digest.definitions);
  }
  auto timers = timers_by_instance(store);
  for_each_instance(store, InstanceFilter{}, [&](InstanceRow& row) {
    d.add("instance", instance_json(row), digest.instances);
    for (const auto& event : store.history(row.id))
      d.add("event", event_json(event), digest.events);
    if (auto found = timers.find(row.id); found != timers.end()) {
      for (const auto& timer : found->second) d.add("timer", timer_json(timer), digest.timers);
    }
    for (const auto& signal : store.signals(row.id)) {
      d.add("signal", signal_json(signal), digest.signals);
    }
    std::int64_t attribute_sets = 0;
    d.add("attributes", store.attributes(row.id), attribute_sets);
    return true;
  });
  for (const auto& command : store.list_commands("", false, kAll)) {
    d.add("command", command_json(command), digest.commands);
  }
  for (const auto& job : all_jobs(store)) {
    d.add("job", job_json(job), digest.jobs);
    for_each_item_page(store, job.id, [&](const std::vector<JobItemRow>& page) {
      for (const auto& item : page) d.add("job item", job_item_json(item), digest.job_items);
    });
  }
  digest.checksum = d.finish();
  return digest;
}

DatabaseDigest copy_database(Store& from, Store& to, const CopyProgress& progress) {
  require_empty(to);
  for (const auto& definition : from.list_definitions()) to.put_definition(definition);

  const auto total = instance_count(from);
  auto timers = timers_by_instance(from);
  WriteBatch batch;
  std::int64_t copied = 0;
  auto flush = [&] {
    if (batch.empty()) return;
    to.commit(batch);
    batch.clear();
    if (progress) progress(copied, total);
  };
  for_each_instance(from, InstanceFilter{}, [&](InstanceRow& row) {
    auto history = from.history(row.id);
    std::move(history.begin(), history.end(), std::back_inserter(batch.events));
    if (auto found = timers.find(row.id); found != timers.end()) {
      std::move(found->second.begin(), found->second.end(), std::back_inserter(batch.timers_set));
    }
    auto signals = from.signals(row.id);
    std::move(signals.begin(), signals.end(), std::back_inserter(batch.signals_added));
    if (auto values = from.attributes(row.id); !values.empty()) {
      batch.attributes.push_back({row.id, std::move(values)});
    }
    batch.instances.push_back(row);  // a copy: the walk pages on from the last row's id
    if (++copied % kInstancesPerBatch == 0) flush();
    return true;
  });
  flush();

  // Commands one by one, oldest first: the target numbers them again in the same order.
  for (const auto& command : from.list_commands("", false, kAll)) to.add_command(command);
  for (const auto& job : all_jobs(from)) {
    batch.jobs.push_back(job);  // its tallies are counted again from its items
    to.commit(batch);
    batch.clear();
    for_each_item_page(from, job.id, [&](std::vector<JobItemRow>& page) {
      batch.job_items = std::move(page);
      to.commit(batch);
      batch.clear();
    });
  }

  auto source = digest_database(from);
  check_same(source, digest_database(to));
  return source;
}

}  // namespace rmaflow::store
