// Bulk jobs: one operator action (or a signal) applied to every instance a filter matches, in
// id order, at a bounded rate, while run() runs. Like a queued command, each instance's action,
// its item and the job's progress go into the same commit: a job that resumes after a restart
// starts after the last instance it dealt with, and touches none twice.
#include <fmt/format.h>

#include <algorithm>

#include "engine/runtime/engine_impl.hpp"

namespace rmaflow {

namespace {

// How often running jobs get their share; a job's share is per_second × the time since.
constexpr auto kJobTick = std::chrono::milliseconds(100);

bool is_job_action(std::string_view action) {
  return std::find(kJobActions.begin(), kJobActions.end(), action) != kJobActions.end();
}

// The arguments each action takes in a job.
std::vector<std::string_view> job_arguments(std::string_view action) {
  if (action == "cancel") return {"compensate"};
  if (action == "signal") return {"name", "payload", "match"};
  return {};
}

std::string names_of(const std::vector<std::string_view>& names) {
  return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace

InstanceFilter job_scope(std::string_view action, InstanceFilter filter) {
  using S = InstanceStatus;
  auto by_default = [&](std::vector<InstanceStatus> statuses) {
    if (filter.statuses.empty()) filter.statuses = std::move(statuses);
  };
  if (action == "retry" || action == "resolve") {
    by_default({S::suspended});
  } else if (action == "skip") {
    by_default({S::suspended, S::waiting});
  } else if (action == "cancel") {
    by_default({S::running, S::waiting, S::suspended});
  } else if (action == "signal") {
    by_default({S::waiting});
  } else if (action == "pause" || action == "resume") {
    by_default({S::running, S::waiting, S::suspended, S::compensating});
    filter.paused = action == "resume";
  }
  filter.after_id.clear();
  return filter;
}

void check_job_request(const JobRequest& request) {
  if (!is_job_action(request.action)) {
    throw ArgumentError(Errc::invalid_argument,
                        fmt::format("there is no bulk action \"{}\" ({})", request.action,
                                    fmt::join(kJobActions, ", ")),
                        "action");
  }
  if (request.reason.empty()) {
    throw ArgumentError(Errc::invalid_argument, "a job needs a reason", "reason");
  }
  if (!(request.per_second >= 0.1 && request.per_second <= 1000)) {
    throw ArgumentError(Errc::invalid_argument,
                        "per_second must be from 0.1 to 1000 instances a second", "per_second");
  }
  if (!request.args.is_object()) {
    throw ArgumentError(Errc::invalid_argument, "a job's args must be a JSON object", "args");
  }
  auto allowed = job_arguments(request.action);
  for (const auto& [key, value] : request.args.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      throw ArgumentError(Errc::invalid_argument,
                          fmt::format("a {} job takes no argument \"{}\" (it takes: {})",
                                      request.action, key, names_of(allowed)),
                          "args/" + key);
    }
  }
  if (request.args.contains("compensate") && !request.args["compensate"].is_boolean()) {
    throw ArgumentError(Errc::invalid_argument, "compensate must be true or false",
                        "args/compensate");
  }
  if (request.action == "signal" &&
      (!request.args.contains("name") || !request.args["name"].is_string() ||
       request.args["name"].get<std::string>().empty())) {
    throw ArgumentError(Errc::invalid_argument, "a signal job needs the signal's name",
                        "args/name");
  }
}

void EngineImpl::start_job(JobRequest request, ReplyFn<JobRow> done) {
  submit<JobRow>([this, request = std::move(
                            request)]() mutable { return handle_start_job(std::move(request)); },
                 std::move(done));
}

void EngineImpl::cancel_job(std::string id, std::string actor, std::string reason,
                            ReplyFn<JobRow> done) {
  auto route = forwarder_ ? cancel_job_route(id, actor, reason) : Route<JobRow>{};
  submit<JobRow>([this, id = std::move(id), actor = std::move(actor),
                  reason = std::move(reason)] { return handle_cancel_job(id, actor, reason); },
                 std::move(done), std::move(route));
}

JobRow EngineImpl::handle_start_job(JobRequest request) {
  check_job_request(request);
  auto now = clock_->now();
  JobRow job;
  // A node drives the job while it holds the job's shard: its own, to begin with.
  job.id = "job-" + ids_.next(now, is_node() ? home_shard() : -1);
  job.action = request.action;
  job.filter = job_scope(request.action, std::move(request.filter));
  // Only what exists now: a job that pauses a workflow's instances does not chase new starts.
  if (!job.filter.created_before || *job.filter.created_before > now + Duration(1)) {
    job.filter.created_before = now + Duration(1);
  }
  job.args = std::move(request.args);
  job.actor = request.actor.empty() ? std::string("unknown") : std::move(request.actor);
  job.reason = std::move(request.reason);
  job.per_second = request.per_second;
  job.created_at = job.updated_at = now;
  batch().put_job(job);
  jobs_.emplace(job.id, RunningJob{job, 0});
  arm_job_tick();
  return job;
}

JobRow EngineImpl::handle_cancel_job(const std::string& id, const std::string& actor,
                                     const std::string& reason) {
  if (reason.empty()) {
    throw ArgumentError(Errc::invalid_argument, "cancelling a job needs a reason", "reason");
  }
  auto it = jobs_.find(id);
  if (it == jobs_.end()) {
    std::optional<JobRow> stored;
    {
      std::lock_guard lock(store_mu_);
      stored = store_->get_job(id);
    }
    if (!stored) throw Error(Errc::not_found, fmt::format("no job {}", id));
    if (stored->state == JobState::running && !holds(store_->held_shards(), id)) {
      throw RoutedElsewhere(id, shard_of(id));  // another node drives it
    }
    throw Error(Errc::refused, fmt::format("job {} is {} already", id, to_string(stored->state)));
  }
  JobRow job = std::move(it->second.row);
  jobs_.erase(it);
  job.state = JobState::cancelled;
  job.updated_at = clock_->now();
  job.ended_at = job.updated_at;
  job.cancelled_by = actor.empty() ? std::string("unknown") : actor;
  job.cancel_reason = reason;
  batch().put_job(job);
  return job;
}

void EngineImpl::load_jobs(ShardMask shards) {
  std::vector<JobRow> running;
  {
    std::lock_guard lock(store_mu_);
    running = store_->running_jobs();
  }
  for (auto& job : running) {
    if (holds(shards, job.id) && !jobs_.contains(job.id)) {
      jobs_.emplace(job.id, RunningJob{std::move(job), 0});
    }
  }
}

void EngineImpl::arm_job_tick() {
  if (job_tick_armed_ || jobs_.empty() || !run_guard_) return;
  job_tick_armed_ = true;
  if (last_job_tick_ == std::chrono::steady_clock::time_point{}) {
    last_job_tick_ = std::chrono::steady_clock::now();
  }
  job_tick_.expires_after(kJobTick);
  job_tick_.async_wait([this](const boost::system::error_code& ec) {
    job_tick_armed_ = false;
    if (ec) return;  // stopping
    // While a kept batch waits to commit, jobs wait too (their share is not lost).
    if (!commit_->holding()) run_jobs();
    commit_->request();
    arm_job_tick();
  });
}

void EngineImpl::run_jobs() {
  auto now = std::chrono::steady_clock::now();
  double elapsed = std::chrono::duration<double>(now - last_job_tick_).count();
  last_job_tick_ = now;
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    auto& [row, allowance] = it->second;
    // At most two ticks' worth at once: a stall (a slow commit) does not turn into a burst.
    double most =
        std::max(1.0, row.per_second * 2 * std::chrono::duration<double>(kJobTick).count());
    allowance = std::min(allowance + std::min(elapsed, 1.0) * row.per_second, most);
    auto share = static_cast<std::size_t>(allowance);
    if (share == 0) {
      ++it;
      continue;
    }
    InstanceFilter filter = row.filter;
    filter.after_id = row.cursor;
    filter.limit = share;
    std::vector<InstanceRow> next;
    {
      std::lock_guard lock(store_mu_);
      next = store_->list_instances(filter);
    }
    for (const auto& instance : next) {
      apply_job_item(row, instance.id);
      allowance -= 1;
    }
    // Every instance dealt with, and every item passed on to another node written by it.
    bool finished = next.size() < share && job_drained(row);
    if (!next.empty() || finished) {
      row.updated_at = clock_->now();
      if (finished) {
        row.state = JobState::finished;
        row.ended_at = row.updated_at;
      }
      batch().put_job(row);
    }
    it = finished ? jobs_.erase(it) : std::next(it);
  }
}

bool EngineImpl::job_drained(const JobRow& job) {
  if (!is_node()) return true;  // every item was written here, with the instance's action
  std::optional<JobRow> stored;
  {
    std::lock_guard lock(store_mu_);
    stored = store_->get_job(job.id);
  }
  // The stored tallies count committed items only: this node's of the batch being built
  // come a commit later, and so does the end.
  return !stored || stored->applied + stored->refused >= job.dealt;
}

void EngineImpl::apply_job_item(JobRow& job, const std::string& instance_id) {
  ++job.dealt;
  job.cursor = instance_id;
  if (is_node() && !holds(store_->held_shards(), instance_id)) {
    // Another node's instance: that node applies the action and writes the item, from a
    // command committed with this job's progress (apply_job_command).
    nlohmann::json body = {
        {"job", job.id}, {"actor", job.actor}, {"reason", job.reason}, {"args", job.args}};
    batch().add_command(
        CommandRow{0, instance_id, job.action, body.dump(), clock_->now(), std::nullopt, ""});
    return;
  }
  auto item = deal_with(job, instance_id);
  ++(item.applied ? job.applied : job.refused);
  batch().add_job_item(std::move(item));
}

std::string EngineImpl::apply_job_command(const CommandRow& command, const nlohmann::json& body) {
  JobRow job;
  job.id = body.at("job").get<std::string>();
  std::optional<JobRow> stored;
  JobItemRow item;
  try {
    std::lock_guard lock(store_mu_);
    stored = store_->get_job(job.id);
  } catch (const Error& e) {
    // Refused with its item all the same: the job waits for one per instance it passed on.
    item = JobItemRow{job.id, command.instance_id, false,
                      fmt::format("this node could not read the job: {}", e.what()), clock_->now()};
    batch().add_job_item(item);
    return "refused: " + item.detail;
  }
  if (!stored) return fmt::format("refused: there is no job {}", job.id);
  if (stored->state == JobState::cancelled) {
    item = JobItemRow{job.id, command.instance_id, false,
                      "the job was cancelled before this node got to the instance", clock_->now()};
  } else {
    job.action = command.kind;
    job.actor = body.value("actor", stored->actor);
    job.reason = body.value("reason", stored->reason);
    job.args = body.value("args", stored->args);
    item = deal_with(job, command.instance_id);
  }
  std::string outcome = item.applied ? "applied" : "refused: " + item.detail;
  batch().add_job_item(std::move(item));
  return outcome;
}

JobItemRow EngineImpl::deal_with(const JobRow& job, const std::string& instance_id) {
  JobItemRow item;
  item.job_id = job.id;
  item.instance_id = instance_id;
  item.at = clock_->now();
  try {
    if (job.action == "signal") {
      SignalRequest request;
      request.instance_id = instance_id;
      request.name = job.args.value("name", std::string());
      request.payload = job.args.value("payload", nlohmann::json());
      request.match = job.args.value("match", nlohmann::json());
      request.idempotency_key = job.id;  // once per instance and job
      item.applied = !handle_signal(request).duplicate;
      item.detail = item.applied ? fmt::format("signal {} accepted", request.name)
                                 : "this job's signal was accepted before";
    } else {
      OperatorAction action;
      action.instance_id = instance_id;
      action.kind = parse_action_kind(job.action).value_or(ActionKind::retry);
      action.actor = job.actor;
      action.reason = job.reason;
      action.args = job.args;
      action.job = job.id;
      auto result = handle_action(action);
      item.applied = true;
      item.detail = fmt::format("{} at {}", to_string(result.status), result.step);
    }
  } catch (const Error& e) {
    item.detail = e.what();
  } catch (const std::exception& e) {
    item.detail = fmt::format("the engine could not apply it: {}", e.what());
  }
  return item;
}

}  // namespace rmaflow
