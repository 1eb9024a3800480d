// What `rmaflow run` prints at the end: one line per instance (its outcome, how many steps
// it took and how long, in the engine's time), then the totals by outcome.
#pragma once

#include <string>
#include <vector>

#include "rmaflow/store.hpp"

namespace rmaflow::cli {

struct RunSummary {
  std::vector<InstanceRow> rows;
  std::size_t started = 0;
  std::size_t resumed = 0;
  TimePoint now;  // for the age of unfinished instances
};

// The table (ID, WORKFLOW, KEY, STATUS, STEPS, DURATION, STEP, NOTE), a blank line and
// "N instance(s): S started, R resumed; 3 completed, 1 rejected, ...". `store` gives the
// step counts.
std::string render_run_summary(const RunSummary& summary, Store& store);

// "350ms", "12s", "4m 10s", "3d 2h": the two largest units.
std::string format_elapsed(Duration d);

}  // namespace rmaflow::cli
