// Moving waiting instances from one version of a workflow to another.
//
// Instances finish on the version they started on unless an operator moves them. Only an
// instance that waits at a wait step can move: it is between two transitions, so nothing is in
// flight and no step's work is half done. It moves to a wait step of the new version, named by
// an explicit mapping (old step -> new step; an unmapped step keeps its name). The wait keeps
// its start: a new timeout counts from when the instance began waiting (from the move, when
// the old wait had none). Every completed step that may still need compensating must exist in
// the new version with a compensation, after mapping.
//
// A migration is an operator action (ActionKind::migrate, args {to, steps}) applied by the
// engine as one audited transition per instance; plan_migration() checks a whole migration
// against the database beforehand, as a dry run.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rmaflow/definition.hpp"
#include "rmaflow/engine.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow {

struct MigrationRequest {
  std::string workflow;
  int from = 0;
  int to = 0;
  std::map<std::string, std::string> steps;  // old step -> new step; others keep their name
  std::vector<std::string> instances;        // only these; empty: every unfinished one of `from`
};

struct MigrationItem {
  std::string instance_id;
  InstanceStatus status = InstanceStatus::running;
  std::string step;     // where it stands in version `from`
  std::string target;   // where it would stand in version `to`; empty when refused
  std::string refusal;  // why it cannot move; empty when it can
};

struct MigrationPlan {
  std::vector<MigrationItem> items;  // by instance id
  std::size_t movable() const;
};

// Checks a migration against what `store` holds; reads only. Throws Error(not_found) for a
// workflow or version that is not deployed or an instance that does not exist,
// Error(invalid_argument) for `from` equal to `to`, a mapping from a step version `from` lacks
// or to a step version `to` lacks, or an instance of another workflow or version.
MigrationPlan plan_migration(Store& store, const MigrationRequest& request);

// The action that moves one instance as `request` says.
OperatorAction migration_action(const MigrationRequest& request, const std::string& instance_id,
                                std::string actor, std::string reason);

// Where an instance (its row and compensation record) lands in `to`, or why it cannot move:
// the engine's own check when it applies a migration, and plan_migration()'s.
struct MigrationTarget {
  std::string step;     // empty when refused
  std::string refusal;  // empty when it can move
};
MigrationTarget migration_target(const InstanceRow& row,
                                 const Definition& from, const Definition& to,
                                 const std::map<std::string, std::string>& steps);

}  // namespace rmaflow
