#include "engine/api/bulk_action.hpp"

#include <algorithm>

namespace rmaflow::api {

namespace {

// What the report calls the instances the action was applied to.
const char* done_key(ActionKind kind) {
  switch (kind) {
    case ActionKind::pause:
      return "paused";
    case ActionKind::resume:
      return "resumed";
    default:
      return "retried";
  }
}

// The instances an action applies to: by default, retry the suspended; pause the unfinished
// ones not paused yet, and resume the paused (a status in the filter narrows those).
void default_scope(ActionKind kind, InstanceFilter& filter) {
  if (kind == ActionKind::retry) {
    if (filter.statuses.empty()) filter.statuses = {InstanceStatus::suspended};
    return;
  }
  if (filter.statuses.empty()) {
    filter.statuses = {InstanceStatus::running, InstanceStatus::waiting, InstanceStatus::suspended,
                       InstanceStatus::compensating};
  }
  filter.paused = kind == ActionKind::resume;
}

}  // namespace

bool bulk_applicable(ActionKind kind) {
  return kind == ActionKind::retry || kind == ActionKind::pause || kind == ActionKind::resume;
}

bool BulkAction::start(BulkActionRequest request, std::function<void(nlohmann::json)> done) {
  std::lock_guard lock(mu_);
  if (running_.exchange(true)) return false;
  if (thread_.joinable()) thread_.join();  // the previous run has ended
  stopping_ = false;
  thread_ = std::thread([this, request = std::move(request), done = std::move(done)] {
    auto report = run(request);
    running_ = false;  // before answering: the caller may continue at once
    done(std::move(report));
  });
  return true;
}

void BulkAction::stop() {
  std::lock_guard lock(mu_);
  {
    std::lock_guard wake(wakeup_->mu);
    stopping_ = true;
  }
  wakeup_->cv.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::optional<Reply<ActionResult>> BulkAction::apply(OperatorAction action) {
  auto answer = std::make_shared<std::optional<Reply<ActionResult>>>();
  engine_.act(std::move(action), [wakeup = wakeup_, answer](Reply<ActionResult> reply) {
    {
      std::lock_guard lock(wakeup->mu);
      *answer = std::move(reply);
    }
    wakeup->cv.notify_all();
  });
  std::unique_lock lock(wakeup_->mu);
  wakeup_->cv.wait(lock, [&] { return answer->has_value() || stopping_; });
  return *answer;
}

nlohmann::json BulkAction::run(BulkActionRequest request) {
  auto& filter = request.filter;
  default_scope(request.kind, filter);
  const char* done = done_key(request.kind);
  std::size_t limit = filter.limit;
  filter.limit = limit + 1;  // one more than retried tells whether to continue
  std::vector<InstanceRow> rows;
  {
    auto store = reads_.get();
    rows = store->list_instances(filter);
  }
  bool more = rows.size() > limit;
  if (more) rows.resize(limit);

  nlohmann::json report = {{"matched", rows.size()},
                           {done, nlohmann::json::array()},
                           {"refused", nlohmann::json::array()},
                           {"next_cursor", nullptr},
                           {"stopped", false}};
  auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(1.0 / std::max(request.per_second, 1.0)));
  auto next = std::chrono::steady_clock::now();
  std::string cursor = filter.after_id;  // the last instance dealt with
  for (const auto& row : rows) {
    {
      // The throttle: this thread does nothing but wait between actions.
      std::unique_lock lock(wakeup_->mu);
      wakeup_->cv.wait_until(lock, next, [&] { return stopping_.load(); });
    }
    if (stopping_) break;
    next = std::chrono::steady_clock::now() + interval;
    OperatorAction action;
    action.instance_id = row.id;
    action.kind = request.kind;
    action.actor = request.actor;
    action.reason = request.reason;
    auto reply = apply(std::move(action));
    if (!reply) break;  // stopped while the engine had it; its history will say what happened
    cursor = row.id;
    if (reply->ok()) {
      report[done].push_back({{"id", row.id},
                              {"status", to_string(reply->result->status)},
                              {"step", reply->result->step}});
      continue;
    }
    try {
      std::rethrow_exception(reply->error);
    } catch (const Error& e) {
      report["refused"].push_back({{"id", row.id}, {"detail", e.what()}});
      if (e.code() == Errc::storage) break;  // the engine stopped: nothing more will be done
    } catch (...) {
      report["refused"].push_back({{"id", row.id}, {"detail", "the engine failed"}});
      break;
    }
  }
  bool finished = cursor == (rows.empty() ? filter.after_id : rows.back().id);
  report["stopped"] = !finished;
  if (more || !finished) report["next_cursor"] = cursor;
  return report;
}

}  // namespace rmaflow::api
