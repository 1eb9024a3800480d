#include "engine/api/stuck.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>

#include "engine/api/definition_cache.hpp"
#include "rmaflow/definition.hpp"
#include "rmaflow/versions.hpp"

namespace rmaflow::api {

namespace {

// The SLA of each stored workflow version, looked up once.
class SlaBook {
 public:
  SlaBook(Store& store, DefinitionCache* definitions) : store_(store), definitions_(definitions) {}
  std::optional<Duration> sla(const std::string& workflow, int version) {
    auto key = std::pair{workflow, version};
    if (auto it = slas_.find(key); it != slas_.end()) return it->second;
    std::optional<Duration> sla;
    if (auto row = store_.get_definition(workflow, version)) {
      try {
        sla = (definitions_ ? definitions_->get(*row) : load_deployed(*row))->sla;
      } catch (const Error&) {
        // A version that no longer loads has no SLA to check; its instances show up otherwise.
      }
    }
    slas_[key] = sla;
    return sla;
  }

 private:
  Store& store_;
  DefinitionCache* definitions_;
  std::map<std::pair<std::string, int>, std::optional<Duration>> slas_;
};

// Notes one reason the instance is stuck, begun at `since`. The kind (and code) is the first
// incident's, else the first reason's; it is stuck since the earliest.
void note(StuckInstance& stuck, std::string reason, std::string_view kind, TimePoint since,
          std::string code = {}) {
  bool incident = !code.empty();
  if (stuck.reasons.empty() || (incident && stuck.code.empty())) {
    stuck.kind = kind;
    stuck.code = std::move(code);
  }
  stuck.since = stuck.reasons.empty() ? since : std::min(stuck.since, since);
  stuck.reasons.push_back(std::move(reason));
}

// Why the instance needs a person, cursor by cursor: its incidents, and waits past their
// deadline that no engine has fired. Notes nothing when nothing is wrong with its cursors.
void note_cursor_reasons(const InstanceRow& row, TimePoint now, StuckInstance& stuck) {
  for (const auto& c : row.cursors) {
    std::string where = c.branch.empty() ? "" : fmt::format("branch {} ", c.branch);
    if (c.incident) {
      const auto& incident = *c.incident;
      note(stuck,
           fmt::format("{}suspended{}: {}: {}", where,
                       incident.compensating ? " while compensating" : "", incident.error.code,
                       incident.error.message),
           incident.compensating ? "compensation" : "incident", incident.opened_at,
           incident.error.code);
      if (!incident.team.empty() && stuck.team.empty()) {
        stuck.team = incident.team;
        stuck.team_due_at = incident.due_at;
      }
      if (incident.due_at && *incident.due_at <= now) {
        stuck.past_team_sla = true;
        note(stuck,
             fmt::format("{}incident for team {} open past its SLA (due {})", where, incident.team,
                         format_time(*incident.due_at)),
             "incident", *incident.due_at);
      }
    } else if (c.phase == Phase::waiting && c.deadline && *c.deadline <= now) {
      note(stuck,
           fmt::format("{}waiting at {} past its deadline {}", where, c.step,
                       format_time(*c.deadline)),
           "deadline", *c.deadline);
    }
  }
}

// The first `wanted` of `candidates` that are stuck, each with every reason.
std::vector<StuckInstance> describe_stuck(std::map<std::string, InstanceRow>& candidates,
                                          std::size_t wanted, TimePoint now, SlaBook& book) {
  std::vector<StuckInstance> out;
  for (auto& [id, row] : candidates) {
    if (out.size() == wanted) break;
    StuckInstance stuck;
    auto sla = book.sla(row.workflow, row.version);
    stuck.past_sla = sla && row.created_at + *sla <= now;
    // First: a wait past its deadline or an SLA passed while paused follow from the pause.
    if (row.paused_at) {
      note(stuck, fmt::format("paused since {}", format_time(*row.paused_at)), "paused",
           *row.paused_at);
    }
    note_cursor_reasons(row, now, stuck);
    if (stuck.past_sla) {
      note(stuck,
           fmt::format("past its SLA of {} (started {})", format_duration(*sla),
                       format_time(row.created_at)),
           "sla", row.created_at + *sla);
    }
    if (stuck.reasons.empty()) continue;
    stuck.reason = fmt::format("{}", fmt::join(stuck.reasons, "; "));
    stuck.row = std::move(row);
    out.push_back(std::move(stuck));
  }
  return out;
}

// Whether one of the row's incidents is routed to `team`.
bool routed_to(const InstanceRow& row, const std::string& team) {
  return std::any_of(row.cursors.begin(), row.cursors.end(),
                     [&](const Cursor& c) { return c.incident && c.incident->team == team; });
}

// The rows with an incident routed to `team`, in id order, at most filter.limit after
// filter.after_id. Teams live inside the incidents, so the suspended rows are read page by page
// and kept when one of their incidents is routed there.
std::vector<InstanceRow> routed_rows(Store& store, const InstanceFilter& filter,
                                     const std::string& team) {
  InstanceFilter suspended = filter;
  suspended.statuses = {InstanceStatus::suspended};
  InstanceFilter suspended_branch = filter;  // a branch's incident while others still run
  suspended_branch.statuses = {InstanceStatus::running, InstanceStatus::compensating};
  suspended_branch.with_incident = true;
  constexpr std::size_t kPage = 200;
  std::vector<InstanceRow> out;
  for (;;) {
    // Of two sources read a page each, the union is complete up to the smaller last id of a
    // full page; the next round starts after it.
    std::map<std::string, InstanceRow> rows;
    std::optional<std::string> complete_to;
    for (auto* source : {&suspended, &suspended_branch}) {
      source->limit = kPage;
      auto page = store.list_instances(*source);
      if (page.size() == kPage && (!complete_to || page.back().id < *complete_to))
        complete_to = page.back().id;
      for (auto& row : page) rows.try_emplace(row.id, std::move(row));
    }
    for (auto& [id, row] : rows) {
      if (complete_to && id > *complete_to) break;
      if (routed_to(row, team)) out.push_back(std::move(row));
      if (out.size() == filter.limit) return out;
    }
    if (!complete_to) return out;
    suspended.after_id = suspended_branch.after_id = *complete_to;
  }
}

}  // namespace

// Stuck instances are few among the unfinished ones, so each kind is selected by the database
// (suspended ones by status, waits by their deadline, each version with an SLA by creation
// time) and only those rows are read, rather than every return waiting for its parcel. Each
// kind gives its first `limit` after the cursor in id order; the first `limit` of their union
// are the page.
std::vector<StuckInstance> find_stuck(Store& store, InstanceFilter filter, TimePoint now,
                                      DefinitionCache* definitions, const StuckFilter& which) {
  SlaBook book(store, definitions);
  const std::size_t wanted = filter.limit;
  std::map<std::string, InstanceRow> candidates;
  auto take = [&](const InstanceFilter& source) {
    for (auto& row : store.list_instances(source)) candidates.try_emplace(row.id, std::move(row));
  };
  if (!which.team.empty()) {
    for (auto& row : routed_rows(store, filter, which.team))
      candidates.emplace(row.id, std::move(row));
    return describe_stuck(candidates, wanted, now, book);
  }

  InstanceFilter suspended = filter;
  suspended.statuses = {InstanceStatus::suspended};
  take(suspended);
  // A branch's incident while other branches still run: the instance says running.
  InstanceFilter suspended_branch = filter;
  suspended_branch.statuses = {InstanceStatus::running, InstanceStatus::compensating};
  suspended_branch.with_incident = true;
  take(suspended_branch);

  for (const auto& definition : store.list_definitions()) {
    if (!filter.workflow.empty() && definition.name != filter.workflow) continue;
    if (filter.version && definition.version != *filter.version) continue;
    auto sla = book.sla(definition.name, definition.version);
    if (!sla) continue;
    InstanceFilter late = filter;
    late.statuses = {InstanceStatus::running, InstanceStatus::waiting,
                     InstanceStatus::compensating};
    late.workflow = definition.name;
    late.version = definition.version;
    auto cutoff = now - *sla + Duration(1);  // created_at + sla <= now
    late.created_before = filter.created_before ? std::min(*filter.created_before, cutoff) : cutoff;
    take(late);
  }

  // Paused by an operator: few, and indexed.
  InstanceFilter paused = filter;
  paused.statuses = {InstanceStatus::running, InstanceStatus::waiting, InstanceStatus::suspended,
                     InstanceStatus::compensating};
  paused.paused = true;
  take(paused);

  InstanceFilter overdue = filter;
  overdue.statuses = {InstanceStatus::waiting};
  overdue.deadline_before = now;
  take(overdue);

  return describe_stuck(candidates, wanted, now, book);
}

void add_stuck_fields(nlohmann::json& item, const StuckInstance& stuck) {
  item["reasons"] = stuck.reasons;
  item["reason"] = stuck.reason;
  item["reason_kind"] = stuck.kind;
  item["reason_code"] = stuck.code.empty() ? nlohmann::json(nullptr) : nlohmann::json(stuck.code);
  item["team"] = stuck.team.empty() ? nlohmann::json(nullptr) : nlohmann::json(stuck.team);
  item["team_due_at"] =
      stuck.team_due_at ? nlohmann::json(format_time(*stuck.team_due_at)) : nlohmann::json(nullptr);
  item["past_team_sla"] = stuck.past_team_sla;
  item["stuck_since"] = format_time(stuck.since);
  item["past_sla"] = stuck.past_sla;
}

}  // namespace rmaflow::api
