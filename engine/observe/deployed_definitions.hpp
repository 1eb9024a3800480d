// Deployed workflow versions by name and version, for what watches the engine (milestones):
// the ones the process loaded itself, and any other read from the database the first time it
// is asked for. A stored version never changes, so an answer (a miss too) is kept.
//
// Thread-safety: any thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rmaflow/definition.hpp"

namespace rmaflow::observe {

class DeployedDefinitions {
 public:
  DeployedDefinitions(std::string db_path, const std::vector<std::shared_ptr<const Definition>>& loaded);
  // Null when the database has no such version or it no longer loads.
  std::shared_ptr<const Definition> get(const std::string& workflow, int version);

 private:
  std::string db_path_;
  std::mutex mu_;
  std::map<std::pair<std::string, int>, std::shared_ptr<const Definition>> known_;
};

}  // namespace rmaflow::observe
