// SimSet: the simulated systems configured in one adapters file (entries of `type: sim`),
// built and linked together (the carrier delivers parcels to the warehouse).
//
//   erp:     { type: sim, system: erp, state: sim/erp.db, data: erp-data.yaml,
//              return_window: 30d, review_after: 6h, latency: 50ms..300ms, seed: 7 }
//   carrier: { type: sim, system: carrier, state: sim/carrier.db, deliver_to: wms,
//              parcels: { default: 3d, RMA-1004: never },
//              operations: { create_label: { fail_rate: 0.1 } } }
//   wms:     { type: sim, system: wms, state: sim/wms.db, grades: { default: A, RMA-1011/L2: D } }
//   payments, vendor, marketplace: { type: sim, system: ..., state: ... }
//
// docs/adapters.md describes every key.
#pragma once

#include <map>
#include <set>
#include <vector>
#include <memory>
#include <string>

#include <yaml-cpp/yaml.h>

#include "adapters/common/config_reader.hpp"
#include "adapters/sim/sim_system.hpp"

namespace rmaflow::sim {

class SimSet {
 public:
  // Builds the system an entry describes. Throws Error(adapter_config) naming the key at fault.
  std::shared_ptr<SimSystem> add(const std::string& name, const YAML::Node& node,
                                 const ConfigReader& config);
  // Connects the systems once every entry is read. Throws Error(adapter_config).
  void link();

 private:
  struct Link {
    std::string carrier;
    std::string warehouse;  // empty: the only warehouse, if there is one
    YAML::Node at;
    ConfigReader config;
  };
  std::map<std::string, std::shared_ptr<SimSystem>> systems_;
  std::vector<Link> links_;
};

}  // namespace rmaflow::sim
