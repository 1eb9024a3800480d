// Bulk retry: retries every instance a filter matches, one after another at a bounded rate,
// so that an ERP that just came back is not flooded by every return that waited for it. Each
// retry is an audited operator action like a single one; the answer reports what was retried,
// what was refused and why, and where to continue when the limit cut the run short.
//
// One bulk retry runs at a time, on its own thread (it waits for each action's commit and
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
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "engine/api/read_stores.hpp"
#include "rmaflow/engine.hpp"

namespace rmaflow::api {

struct BulkRetryRequest {
  InstanceFilter filter;  // statuses default to suspended; limit = the most to retry
  std::string actor;
  std::string reason;
  double per_second = 10;  // at least 1
};

class BulkRetry {
 public:
  BulkRetry(Engine& engine, ReadStores& reads) : engine_(engine), reads_(reads) {}
  ~BulkRetry() { stop(); }

  // Starts the run; `done` gets the report:
  //   {"matched", "retried": [{id, status, step}], "refused": [{id, detail}],
  //    "next_cursor": id | null, "stopped": bool}
  // Returns false (and does nothing) when a run is in progress.
  bool start(BulkRetryRequest request, std::function<void(nlohmann::json)> done);
  // Ends a run in progress after its current action (its report says "stopped") and waits.
  void stop();

 private:
  nlohmann::json run(BulkRetryRequest request);
  // Retries one instance and waits for the engine's answer; nullopt when stopped first.
  std::optional<Reply<ActionResult>> retry(OperatorAction action);

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
