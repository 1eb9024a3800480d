// Instance transitions as log records, from what each commit made durable: one debug record
// per history event, with the instance's ids (instance, workflow, version, step, branch,
// correlation and trace id), the event and its sequence number, and the engine's time.
//
// Transitions are debug records: off at the default level. While serving they can be switched
// on for chosen workflows or instances only (select()), written whatever the level, so that one
// RMA can be followed on a busy server without logging every other one.
//
// Thread-safety: observe() on the engine thread; select() and selection() from any thread.
#pragma once

#include <chrono>
#include <mutex>
#include <set>
#include <string>

#include "rmaflow/store.hpp"

namespace rmaflow::observe {

struct TransitionSelection {
  std::set<std::string> workflows;
  std::set<std::string> instances;
  bool empty() const { return workflows.empty() && instances.empty(); }
};

class TransitionLog {
 public:
  void observe(const WriteBatch& batch);
  void select(TransitionSelection selection);
  TransitionSelection selection() const;

 private:
  mutable std::mutex mu_;
  TransitionSelection selection_;
  bool any_selected_ = false;  // read under mu_: the fast path when nothing is selected
};

}  // namespace rmaflow::observe
