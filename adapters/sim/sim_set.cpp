#include "adapters/sim/sim_set.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "adapters/sim/carrier_system.hpp"
#include "adapters/sim/erp_system.hpp"
#include "adapters/sim/wms_system.hpp"
#include "engine/support/yaml_json.hpp"

namespace rmaflow::sim {

namespace {

const std::set<std::string> kCommonKeys = {"type", "system", "state", "latency", "seed",
                                           "operations"};

std::set<std::string> keys_of(const std::string& system) {
  auto keys = kCommonKeys;
  if (system == "erp") keys.insert({"data", "return_window", "review_after"});
  if (system == "carrier") keys.insert({"parcels", "deliver_to"});
  if (system == "wms") keys.insert("grades");
  return keys;
}

// Customers and invoices; checked here so that a mistake is reported with its place in the
// data file rather than as an odd refusal later.
nlohmann::json read_erp_data(const ConfigReader& config, const YAML::Node& at) {
  auto path = config.path(at);
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    config.fail(at, fmt::format("cannot read the ERP data file {}", path));
  } catch (const YAML::ParserException& e) {
    throw Error(Errc::adapter_config,
                fmt::format("{}:{}:{}: {}", path, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  ConfigReader data(path, config.base_dir());
  data.expect_map(root, "the ERP data");
  data.check_keys(root, {"customers", "invoices"}, "the ERP data");
  if (root["customers"]) {
    data.expect_map(root["customers"], "customers");
    for (const auto& c : root["customers"]) {
      data.expect_map(c.second, "customer " + c.first.Scalar());
      data.check_keys(c.second, {"name", "credit_hold", "advance_replacement", "credit_review"},
                      "customer " + c.first.Scalar());
    }
  }
  if (root["invoices"]) {
    data.expect_map(root["invoices"], "invoices");
    for (const auto& i : root["invoices"]) {
      auto where = "invoice " + i.first.Scalar();
      data.expect_map(i.second, where);
      data.check_keys(i.second, {"customer_id", "date", "currency", "lines"}, where);
      for (const auto* key : {"customer_id", "date", "currency", "lines"}) {
        if (!i.second[key]) data.fail(i.second, fmt::format("{} has no \"{}\"", where, key));
      }
      if (!parse_time(data.scalar(i.second["date"], "date"))) {
        data.fail(i.second["date"], where + ": date must be a date such as 2025-05-20");
      }
      data.expect_sequence(i.second["lines"], where + ": lines");
      for (const auto& line : i.second["lines"]) {
        data.expect_map(line, where + ": a line");
        data.check_keys(line, {"sku", "qty", "unit_price", "serial"}, where + ": a line");
        data.scalar(line["sku"], where + ": sku");
        data.integer(line["qty"], 1, 1'000'000, where + ": qty");
        data.number(line["unit_price"], 0, 1e9, where + ": unit_price");
      }
    }
  }
  return yaml_to_json(root);
}

ErpOptions read_erp(const YAML::Node& node, const ConfigReader& config) {
  ErpOptions o;
  if (node["return_window"]) o.return_window = config.duration(node["return_window"]);
  if (node["review_after"]) o.review_after = config.duration(node["review_after"]);
  if (node["data"]) o.data = read_erp_data(config, node["data"]);
  return o;
}

std::optional<Duration> read_transit(const ConfigReader& config, const YAML::Node& node) {
  if (node.IsScalar() && node.Scalar() == "never") return std::nullopt;
  return config.duration(node);
}

CarrierOptions read_carrier(const YAML::Node& node, const ConfigReader& config) {
  CarrierOptions o;
  if (auto parcels = node["parcels"]) {
    config.expect_map(parcels, "parcels (RMA id or \"default\": transit time or \"never\")");
    for (const auto& kv : parcels) {
      auto key = kv.first.Scalar();
      auto transit = read_transit(config, kv.second);
      if (key == "default") {
        o.default_transit = transit;
      } else {
        o.transit[key] = transit;
      }
    }
  }
  return o;
}

WmsOptions read_wms(const YAML::Node& node, const ConfigReader& config) {
  WmsOptions o;
  if (auto grades = node["grades"]) {
    config.expect_map(grades, "grades (RMA id or \"default\": A, B, C or D)");
    for (const auto& kv : grades) {
      auto grade = config.scalar(kv.second, "a grade");
      if (grade != "A" && grade != "B" && grade != "C" && grade != "D") {
        config.fail(kv.second, fmt::format("grade \"{}\" is not A, B, C or D", grade));
      }
      if (kv.first.Scalar() == "default") {
        o.default_grade = grade;
      } else {
        o.grades[kv.first.Scalar()] = grade;
      }
    }
  }
  return o;
}

}  // namespace

std::shared_ptr<SimSystem> SimSet::add(const std::string& name, const YAML::Node& node,
                                       const ConfigReader& config) {
  auto where = fmt::format("adapter \"{}\"", name);
  if (!node["system"]) {
    config.fail(node, where + " of type sim needs a \"system\": erp, carrier or wms");
  }
  auto system = config.scalar(node["system"], "system");
  if (system != "erp" && system != "carrier" && system != "wms") {
    config.fail(node["system"], fmt::format("{} has unknown system \"{}\" (known: erp, carrier, wms)",
                                            where, system));
  }
  config.check_keys(node, keys_of(system), where);
  if (!node["state"]) {
    config.fail(node, where + " needs a \"state\": the SQLite file the system keeps its data in");
  }
  auto state = config.path(node["state"]);
  std::error_code ec;  // a missing directory is created; a failure shows when the file opens
  std::filesystem::create_directories(std::filesystem::path(state).parent_path(), ec);
  auto store = std::make_shared<SimStore>(state);
  std::shared_ptr<SimSystem> built;
  if (system == "erp") {
    built = std::make_shared<ErpSystem>(name, store, read_erp(node, config));
  } else if (system == "carrier") {
    built = std::make_shared<CarrierSystem>(name, store, read_carrier(node, config));
    links_.push_back(Link{name, node["deliver_to"] ? config.scalar(node["deliver_to"], "deliver_to") : "",
                          node["deliver_to"] ? node["deliver_to"] : node, config});
  } else {
    built = std::make_shared<WmsSystem>(name, store, read_wms(node, config));
  }
  built->set_profiles(CallProfiles::from_yaml(
      node, config, where, [&](std::string_view op) { return built->has_operation(op); }));
  systems_[name] = built;
  return built;
}

void SimSet::link() {
  for (const auto& link : links_) {
    std::shared_ptr<WmsSystem> warehouse;
    if (!link.warehouse.empty()) {
      auto it = systems_.find(link.warehouse);
      warehouse = it == systems_.end() ? nullptr : std::dynamic_pointer_cast<WmsSystem>(it->second);
      if (!warehouse) {
        link.config.fail(link.at, fmt::format("deliver_to names \"{}\", which is not a sim adapter "
                                              "with system: wms",
                                              link.warehouse));
      }
    } else {
      for (const auto& [name, system] : systems_) {
        auto wms = std::dynamic_pointer_cast<WmsSystem>(system);
        if (!wms) continue;
        if (warehouse) {
          link.config.fail(link.at, fmt::format("adapter \"{}\" needs \"deliver_to\": several "
                                                "warehouses are configured",
                                                link.carrier));
        }
        warehouse = wms;
      }
    }
    std::static_pointer_cast<CarrierSystem>(systems_.at(link.carrier))->deliver_to(warehouse);
  }
}

}  // namespace rmaflow::sim
