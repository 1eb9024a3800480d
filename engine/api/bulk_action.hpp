// Bulk actions: retry, pause or resume every instance a filter matches, one after another at a
// bounded rate, so that an ERP that just came back is not flooded by every return that waited
// for it (and a pause reaches every instance of an outage without a script). Each is an
// audited operator action like a single one; the answer reports what was done, what was
// refused and why, and where to continue when the limit cut the run short.
//
// One bulk action runs at a time, on its own thread (it waits for each action's commit and
// between actions, never on an I/O or the engine's thread).
//
// Thread-safety: start() and stop() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "engine/api/read_stores.hpp"
#include "rmaflow/engine.hpp"

namespace rmaflow::api {

// The actions that can be applied in bulk.
bool bulk_applicable(ActionKind kind);

struct BulkActionRequest {
  ActionKind kind = ActionKind::retry;  // retry, pause or resume (bulk_applicable)
  // By default: retry the suspended, pause the unfinished ones not paused, resume the paused.
  // limit = the most to act on.
  InstanceFilter filter;
  std::string actor;
  std::string reason;
  double per_second = 10;  // at least 1
};

class BulkAction {
 public:
  BulkAction(Engine& engine, ReadStores& reads) : engine_(engine), reads_(reads) {}
  ~BulkAction() { stop(); }

  // Starts the run; `done` gets the report, its list of what was done named by the action
  // (retried, paused or resumed):
  //   {"matched", "retried": [{id, status, step}], "refused": [{id, detail}],
  //    "next_cursor": id | null, "stopped": bool}
  // Returns false (and does nothing) when a run is in progress.
  bool start(BulkActionRequest request, std::function<void(nlohmann::json)> done);
  // Ends a run in progress after its current action (its report says "stopped") and waits.
  void stop();

 private:
  nlohmann::json run(BulkActionRequest request);
  // Applies one action and waits for the engine's answer; nullopt when stopped first.
  std::optional<Reply<ActionResult>> apply(OperatorAction action);

  // Wakes the run's waits when an answer arrives or stop() is called. Shared with the engine's
  // callbacks, which may come after the run gave up waiting.
  struct Wakeup {
    std::mutex mu;
    std::condition_variable cv;
  };

  Engine& engine_;
  std::shared_ptr<Wakeup> wakeup_ = std::make_shared<Wakeup>();
  ReadStores& reads_;
  std::mutex mu_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stopping_{false};
};

}  // namespace rmaflow::api
