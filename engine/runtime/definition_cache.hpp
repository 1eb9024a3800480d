// The deployed workflow versions an engine runs on, loaded from the store once each, and their
// compiled input schemas.
//
// Thread-safety: used from the engine thread and from Engine::deploy() on any thread; every
// method takes the store lock it is given, the same one the engine's commits take.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/dsl/input_schema.hpp"
#include "engine/runtime/store_gate.hpp"
#include "rmaflow/definition.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow {

class DefinitionCache {
 public:
  DefinitionCache(Store& store, StoreGate& store_mu);

  // Stores a definition (idempotent); true when it was new. Throws Error(conflict).
  bool deploy(std::shared_ptr<const Definition> definition, TimePoint now);
  // A deployed version; null when it is not in the database.
  std::shared_ptr<const Definition> get(const std::string& workflow, int version);
  std::optional<int> latest(const std::string& workflow);
  // Throws InvalidInput naming the field when `input` fails the definition's input schema.
  void check_input(const Definition& definition, const nlohmann::json& input);

 private:
  Store& store_;
  StoreGate& store_mu_;
  std::mutex mu_;  // the maps below
  std::map<std::pair<std::string, int>, std::shared_ptr<const Definition>> definitions_;
  std::map<std::string, int> latest_;  // workflow -> newest deployed version
  std::map<const Definition*, std::shared_ptr<const InputSchema>> schemas_;  // compiled once
};

}  // namespace rmaflow
