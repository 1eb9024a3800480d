#include "engine/observe/deployed_definitions.hpp"

#include "rmaflow/store.hpp"

namespace rmaflow::observe {

DeployedDefinitions::DeployedDefinitions(std::string db_path,
                                         const std::vector<std::shared_ptr<const Definition>>& loaded)
    : db_path_(std::move(db_path)) {
  for (const auto& d : loaded) known_[{d->name, d->version}] = d;
}

std::shared_ptr<const Definition> DeployedDefinitions::get(const std::string& workflow, int version) {
  std::lock_guard lock(mu_);
  auto it = known_.find({workflow, version});
  if (it != known_.end()) return it->second;
  std::shared_ptr<const Definition> found;
  try {
    auto store = open_store(db_path_, StoreOptions{SyncMode::normal, true});
    if (auto row = store->get_definition(workflow, version)) {
      auto loaded = load_stored_definition(row->source, row->file, row->input_schema,
                                           Compilation::on_first_use);
      found = loaded.definition;
    }
  } catch (const Error&) {
    // Not readable now (asked again next time): its milestone goes unmeasured meanwhile.
    return nullptr;
  }
  known_[{workflow, version}] = found;
  return found;
}

}  // namespace rmaflow::observe
