// Versions of a workflow side by side: what deploying a new one means for the instances that
// are still running on the old ones.
//
// An instance is pinned to the version it started on and finishes on it, whatever is deployed
// later; new instances start on the newest version. check_deploy() is what a deploy reports
// before it stores anything: whether the version is new, already there, or clashes with what
// is stored, and which steps that unfinished instances of older versions stand on the new
// version no longer has (removed or renamed). Those instances still finish on their own
// version; moving them to the new one needs an explicit step mapping (see migration.hpp).
//
// Thread-safety: the functions read through the given Store, which is used by one thread at
// a time. Errors: Error(storage) from the store.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rmaflow/definition.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow {

enum class DeployVerdict {
  new_version,  // not deployed yet: a deploy stores it
  unchanged,    // the same name, version and content is deployed: a deploy changes nothing
  conflict,     // the same name and version is deployed with other content: a deploy is refused
};

// A step of an older version that unfinished instances stand on and the new version lacks,
// or has as another kind of step.
struct StrandedStep {
  int version = 0;          // the older version
  std::string step;         // the step its instances stand on
  StepKind kind = StepKind::task;  // what the step is in the older version
  std::int64_t instances = 0;      // how many unfinished instances stand there
  std::int64_t waiting = 0;        // how many of them wait (the ones a migration can move)
  // The new version's step of that name when it is another kind of step; nullopt when the
  // new version has no step of that name.
  std::optional<StepKind> now;
  // A new step that looks like this one renamed (same kind, same action or signal); empty
  // when there is none.
  std::string renamed_to;
};

struct DeployCheck {
  std::string workflow;
  int version = 0;
  DeployVerdict verdict = DeployVerdict::new_version;
  std::optional<int> newest;  // the newest version deployed before, if any
  std::vector<StrandedStep> stranded;  // by version, then step
};

// A deployed definition, loaded from its row. Throws Error(storage) when it no longer loads
// (written by a release whose DSL this one does not read).
std::shared_ptr<const Definition> load_deployed(const DefinitionRow& row);

// What deploying `definition` would do, from what `store` holds. Reads only.
DeployCheck check_deploy(Store& store, const Definition& definition);

// Stores `definition`: its YAML source, content hash and resolved input schema. Returns
// unchanged when it is already deployed; throws Error(conflict) when the same name and version
// is deployed with other content.
PutResult store_definition(Store& store, const Definition& definition, TimePoint deployed_at);

// One sentence about a stranded step, for people: "3 unfinished instances of version 1 stand
// at step await_parcel, which version 2 does not have (renamed to await_receipt?)".
std::string describe(const StrandedStep& stranded, int new_version);

// Every version of every workflow (or of one) with its unfinished instances.
struct VersionSummary {
  DefinitionRow definition;
  std::int64_t unfinished = 0;
  std::vector<StepCount> by_step;  // where the unfinished ones stand, by step and status
};
std::vector<VersionSummary> list_versions(Store& store, const std::string& workflow = "");

}  // namespace rmaflow
