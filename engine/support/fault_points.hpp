// Fault injection for crash tests: the process kills itself with SIGKILL at a named point.
//
// RMAFLOW_KILL_AT="point:N[,point:N...]" kills the process the Nth time `point` is reached.
// Points: commit.before (a batch is built, not committed), commit.writing (the writer thread
// has the batch, not yet written, while the engine thread goes on with the next),
// commit.written (the batch is durable, the engine thread does not know it yet),
// commit.after (committed, its effects not yet run), invoke.after (an adapter was invoked, its
// outcome not recorded), retry.armed (a retry delay is committed and its timer armed), branch.ended
// (a branch reached its end, not committed), child.started (a call step created its child, not
// committed), outcome.before (an adapter's outcome is about to be applied to its instance: the
// engine dies while processing it), checkpoint.copied (SQLite's log was copied back to the
// database file on the checkpoint thread, the log not yet started over), migrate.applied (a
// schema migration is applied in its transaction, not yet committed). Without the variable
// every check is one relaxed load.
#pragma once

#include <string_view>

namespace rmaflow {

void fault_point(std::string_view point);

}  // namespace rmaflow
