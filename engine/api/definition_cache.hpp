// Deployed definitions as the API's queries need them, loaded once per server: loading one
// validates it (jq, schemas, lints), which costs far more than the query that asks for it (the
// stuck queue, the overview, a version's page and graph). A stored version never changes (the
// same name and version with other content is refused), and entries are keyed by content hash
// as well, so an entry never goes stale.
//
// Thread-safety: any thread.
#pragma once

#include <functional>
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
  // How a version is drawn: graph_svg, unless a test gives another.
  using Drawer = std::function<std::string(const Definition&)>;
  DefinitionCache();
  explicit DefinitionCache(Drawer draw);

  // The definition of `row`, loaded on first use. Throws Error(storage) when it no longer
  // loads (load_deployed).
  std::shared_ptr<const Definition> get(const DefinitionRow& row);
  // The version drawn as SVG (graph_svg, no instance), drawn on first use. The drawing is made
  // without the cache held: Graphviz takes minutes over some graphs, and the queries that need
  // a definition (the stuck queue, the overview) do not wait for it.
  std::string svg(const DefinitionRow& row);
  // A definition already loaded elsewhere (serve loads its workflows directory), so that its
  // first query does not load it again.
  void add(std::shared_ptr<const Definition> definition);

 private:
  struct Entry {
    std::shared_ptr<const Definition> definition;
    std::string svg;
  };
  Entry& entry(const DefinitionRow& row);  // with mu_ held

  Drawer draw_;
  std::mutex mu_;
  std::map<std::tuple<std::string, int, std::string>, Entry> entries_;
};

}  // namespace rmaflow::api
