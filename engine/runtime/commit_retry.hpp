// When a commit fails while the engine serves (the disk is full, an I/O error), the batch is
// kept, with the effects waiting on it, and committed again after a delay, until it succeeds.
// SQLite rolled the failed transaction back, so the database holds what it held before; nothing
// of the batch was acknowledged or invoked, since that waits for the commit. Meanwhile the
// engine takes no new work (requests are refused as unavailable, timers and queued commands
// wait) and queries go on through their own connections.
//
// Used by the engine's thread only.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <vector>

#include "rmaflow/store.hpp"

namespace rmaflow {

class CommitRetry {
 public:
  // A batch that failed to commit and what must run once it has.
  struct Pending {
    WriteBatch writes;
    std::vector<std::function<void()>> effects;
  };

  // Keeps a failed batch; returns the delay before the next attempt.
  std::chrono::milliseconds failed(Pending pending);
  // The same batch failed again: the next, longer delay (50 ms doubling, at most 5 s).
  std::chrono::milliseconds failed_again();
  bool pending() const { return pending_.has_value(); }
  Pending& batch() { return *pending_; }
  // It committed: hands its effects over and forgets it.
  std::vector<std::function<void()>> committed();

 private:
  std::optional<Pending> pending_;
  std::chrono::milliseconds delay_{0};
};

}  // namespace rmaflow
