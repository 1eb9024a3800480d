// Deployed definitions as the API's queries need them, loaded once per server: loading one
// validates it (jq, schemas, lints), which costs far more than the query that asks for it (the
// stuck queue, the overview, a version's page and graph). A stored version never changes (the
// same name and version with other content is refused), and entries are keyed by content hash
// as well, so an entry never goes stale.
//
// Thread-safety: any thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "rmaflow/definition.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow::api {

class DefinitionCache {
 public:
  // The definition of `row`, loaded on first use. Throws Error(storage) when it no longer
  // loads (load_deployed).
  std::shared_ptr<const Definition> get(const DefinitionRow& row);
  // A definition already loaded elsewhere (serve loads its workflows directory), so that its
  // first query does not load it again.
  void add(std::shared_ptr<const Definition> definition);

 private:
  std::mutex mu_;
  std::map<std::tuple<std::string, int, std::string>, std::shared_ptr<const Definition>> entries_;
};

}  // namespace rmaflow::api
