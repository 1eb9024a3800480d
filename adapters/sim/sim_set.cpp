#include "adapters/sim/sim_set.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>

#include "adapters/sim/carrier_system.hpp"
#include "adapters/sim/erp_system.hpp"
#include "adapters/sim/marketplace_system.hpp"
#include "adapters/sim/payment_system.hpp"
#include "adapters/sim/vendor_system.hpp"
#include "adapters/sim/wms_system.hpp"
#include "engine/dsl/yaml_bounds.hpp"
#include "engine/support/yaml_json.hpp"

namespace rmaflow::sim {

namespace {

const std::set<std::string> kCommonKeys = {"type", "system", "state",     "latency",
                                           "seed", "limits", "operations"};

const std::set<std::string> kSystems = {"erp", "carrier", "wms", "payments", "vendor",
                                        "marketplace"};

std::set<std::string> keys_of(const std::string& system) {
  auto keys = kCommonKeys;
  if (system == "erp") {
    keys.insert({"data", "return_window", "review_after", "warranty", "reviews", "quotes"});
  }
  if (system == "carrier") keys.insert({"parcels", "deliver_to", "drop_off"});
  if (system == "wms") keys.insert({"grades", "grade_mix"});
  if (system == "payments") keys.insert({"hold_valid", "declined"});
  if (system == "vendor") {
    keys.insert({"decides_after", "transit", "credit_after", "repair_time", "credit_rate",
                 "quote_price", "refuse", "silent", "unrepairable"});
  }
  if (system == "marketplace") {
    keys.insert({"respond_within", "buyer_answers_after", "ruling_after", "cases"});
  }
  return keys;
}

// Rules per RMA line, per RMA or "default" (line_rules.hpp), each read by `one`.
template <typename T, typename Read>
LineRules<T> read_line_rules(const ConfigReader& config, const YAML::Node& node,
                             const std::string& what, LineRules<T> rules, Read one) {
  config.expect_map(node, what);
  for (const auto& kv : node) rules.set(kv.first.Scalar(), one(kv.second));
  return rules;
}

// A list of names (SKUs, serials, RMAs, RMA/lines, customers).
std::set<std::string, std::less<>> read_names(const ConfigReader& config, const YAML::Node& node,
                                              const std::string& what) {
  config.expect_sequence(node, what);
  std::set<std::string, std::less<>> out;
  for (const auto& item : node) out.insert(config.scalar(item, what));
  return out;
}

// Customers and invoices; checked here so that a mistake is reported with its place in the
// data file rather than as an odd refusal later.
nlohmann::json read_erp_data(const ConfigReader& config, const YAML::Node& at) {
  auto path = config.path(at);
  YAML::Node root;
  try {
    root = dsl::load_bounded_yaml_file(path, "the ERP data file",
                                       dsl::data_file_bounds("a data file"), Errc::adapter_config);
  } catch (const Error& e) {
    if (e.code() != Errc::io) throw;
    config.fail(at, e.what());  // placed where the adapters file names it
  }
  ConfigReader data(path, config.base_dir());
  data.expect_map(root, "the ERP data");
  data.check_keys(root, {"customers", "invoices"}, "the ERP data");
  if (root["customers"]) {
    data.expect_map(root["customers"], "customers");
    for (const auto& c : root["customers"]) {
      data.expect_map(c.second, "customer " + c.first.Scalar());
      data.check_keys(c.second,
                      {"name", "credit_hold", "advance_replacement", "credit_review", "return_rate"},
                      "customer " + c.first.Scalar());
      if (c.second["return_rate"]) data.number(c.second["return_rate"], 0, 1, "return_rate");
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

ReviewRule read_review(const ConfigReader& config, const YAML::Node& node) {
  ReviewRule rule;
  auto decision_of = [&](const YAML::Node& at) {
    auto d = config.scalar(at, "a review decision");
    if (d != "approve" && d != "deny" && d != "partial" && d != "never") {
      config.fail(at, fmt::format("review decision \"{}\" is not approve, deny, partial or never", d));
    }
    return d == "never" ? std::nullopt : std::optional<std::string>(d);
  };
  if (node.IsScalar()) {
    rule.decision = decision_of(node);
    return rule;
  }
  config.expect_map(node, "a review rule");
  config.check_keys(node, {"decision", "after", "reviewer", "refund_ratio"}, "a review rule");
  if (node["decision"]) rule.decision = decision_of(node["decision"]);
  if (node["after"]) rule.after = config.duration(node["after"]);
  if (node["reviewer"]) rule.reviewer = config.scalar(node["reviewer"], "reviewer");
  if (node["refund_ratio"]) rule.refund_ratio = config.number(node["refund_ratio"], 0, 1, "refund_ratio");
  return rule;
}

QuoteRule read_quote(const ConfigReader& config, const YAML::Node& node) {
  QuoteRule rule;
  auto answer_of = [&](const YAML::Node& at) -> std::optional<bool> {
    auto a = config.scalar(at, "a quote answer");
    if (a != "accept" && a != "decline" && a != "never") {
      config.fail(at, fmt::format("quote answer \"{}\" is not accept, decline or never", a));
    }
    if (a == "never") return std::nullopt;
    return a == "accept";
  };
  if (node.IsScalar()) {
    rule.accept = answer_of(node);
    return rule;
  }
  config.expect_map(node, "a quote rule");
  config.check_keys(node, {"answer", "after"}, "a quote rule");
  if (node["answer"]) rule.accept = answer_of(node["answer"]);
  if (node["after"]) rule.after = config.duration(node["after"]);
  return rule;
}

ErpOptions read_erp(const YAML::Node& node, const ConfigReader& config) {
  ErpOptions o;
  if (node["return_window"]) o.return_window = config.duration(node["return_window"]);
  if (node["review_after"]) o.review_after = config.duration(node["review_after"]);
  if (node["warranty"]) o.warranty = config.duration(node["warranty"]);
  if (node["data"]) o.data = read_erp_data(config, node["data"]);
  if (node["reviews"]) {
    o.reviews = read_line_rules(config, node["reviews"],
                                "reviews (RMA, RMA/subject or \"default\": a decision)", o.reviews,
                                [&](const YAML::Node& n) { return read_review(config, n); });
  }
  if (node["quotes"]) {
    o.quotes = read_line_rules(config, node["quotes"],
                               "quotes (RMA, RMA/line or \"default\": accept, decline or never)",
                               o.quotes, [&](const YAML::Node& n) { return read_quote(config, n); });
  }
  return o;
}

ParcelRule read_parcel(const ConfigReader& config, const YAML::Node& node) {
  ParcelRule rule;
  auto text = config.scalar(node, "a parcel");
  if (text == "never") {
    rule.fate = ParcelRule::Fate::never;
  } else if (text == "lost") {
    rule.fate = ParcelRule::Fate::lost;
  } else {
    rule.transit = config.duration(node);
  }
  return rule;
}

CarrierOptions read_carrier(const YAML::Node& node, const ConfigReader& config) {
  CarrierOptions o;
  if (node["drop_off"]) o.drop_off = config.duration(node["drop_off"]);
  if (auto parcels = node["parcels"]) {
    o.parcels = read_line_rules(
        config, parcels, "parcels (RMA, RMA/line or \"default\": a transit time, \"never\" or \"lost\")",
        o.parcels, [&](const YAML::Node& n) { return read_parcel(config, n); });
  }
  return o;
}

std::string read_grade(const ConfigReader& config, const YAML::Node& node) {
  auto grade = config.scalar(node, "a grade");
  if (grade != "A" && grade != "B" && grade != "C" && grade != "D") {
    config.fail(node, fmt::format("grade \"{}\" is not A, B, C or D", grade));
  }
  return grade;
}

InspectionRule read_inspection(const ConfigReader& config, const YAML::Node& node) {
  InspectionRule rule;
  if (node.IsScalar()) {
    rule.grade = read_grade(config, node);
    return rule;
  }
  config.expect_map(node, "an inspection (a grade, or {grade, condition, serial})");
  config.check_keys(node, {"grade", "condition", "serial"}, "an inspection");
  if (node["grade"]) rule.grade = read_grade(config, node["grade"]);
  if (node["condition"]) {
    rule.condition = config.scalar(node["condition"], "condition");
    if (rule.condition != "as_described" && rule.condition != "not_as_described") {
      config.fail(node["condition"], fmt::format("condition \"{}\" is not as_described or "
                                                 "not_as_described",
                                                 rule.condition));
    }
  }
  if (node["serial"]) rule.serial = config.scalar(node["serial"], "serial");
  return rule;
}

WmsOptions read_wms(const YAML::Node& node, const ConfigReader& config) {
  WmsOptions o;
  if (node["seed"]) {
    o.seed = static_cast<std::uint64_t>(config.integer(node["seed"], 0, 1'000'000'000, "seed"));
  }
  if (auto grades = node["grades"]) {
    o.inspections = read_line_rules(config, grades,
                                    "grades (RMA, RMA/line or \"default\": A, B, C or D)",
                                    o.inspections,
                                    [&](const YAML::Node& n) { return read_inspection(config, n); });
  }
  if (auto mix = node["grade_mix"]) {
    config.expect_map(mix, "grade_mix (a weight per grade: { A: 6, B: 2, C: 1, D: 1 })");
    for (const auto& kv : mix) {
      o.grade_mix[read_grade(config, kv.first)] = config.number(kv.second, 0, 1e6, "a grade's weight");
    }
  }
  return o;
}

PaymentOptions read_payments(const YAML::Node& node, const ConfigReader& config) {
  PaymentOptions o;
  if (node["hold_valid"]) o.hold_valid = config.duration(node["hold_valid"]);
  if (node["declined"]) o.declined = read_names(config, node["declined"], "declined (customer ids)");
  return o;
}

VendorOptions read_vendor(const YAML::Node& node, const ConfigReader& config) {
  VendorOptions o;
  if (node["decides_after"]) o.decides_after = config.duration(node["decides_after"]);
  if (node["transit"]) o.transit = config.duration(node["transit"]);
  if (node["credit_after"]) o.credit_after = config.duration(node["credit_after"]);
  if (node["repair_time"]) o.repair_time = config.duration(node["repair_time"]);
  if (node["credit_rate"]) o.credit_rate = config.number(node["credit_rate"], 0, 1, "credit_rate");
  if (node["quote_price"]) o.quote_price = config.number(node["quote_price"], 0, 1e6, "quote_price");
  const char* what = " (SKUs, serials, RMAs or RMA/lines)";
  if (node["refuse"]) o.refuse = read_names(config, node["refuse"], std::string("refuse") + what);
  if (node["silent"]) o.silent = read_names(config, node["silent"], std::string("silent") + what);
  if (node["unrepairable"]) {
    o.unrepairable = read_names(config, node["unrepairable"], std::string("unrepairable") + what);
  }
  return o;
}

CaseRule read_case(const ConfigReader& config, const YAML::Node& node) {
  CaseRule rule;
  config.expect_map(node, "a case ({offer, ships, ruling})");
  config.check_keys(node, {"offer", "ships", "ruling"}, "a case");
  if (auto offer = node["offer"]) {
    auto a = config.scalar(offer, "offer");
    if (a == "accept") {
      rule.offer = CaseRule::Answer::accept;
    } else if (a == "decline") {
      rule.offer = CaseRule::Answer::decline;
    } else if (a == "silent") {
      rule.offer = CaseRule::Answer::silent;
    } else {
      config.fail(offer, fmt::format("offer \"{}\" is not accept, decline or silent", a));
    }
  }
  if (auto ships = node["ships"]) {
    if (ships.IsScalar() && ships.Scalar() == "never") {
      rule.ships = std::nullopt;
    } else {
      rule.ships = config.duration(ships);
    }
  }
  if (auto ruling = node["ruling"]) {
    rule.ruling = config.scalar(ruling, "ruling");
    if (rule.ruling != "buyer" && rule.ruling != "seller") {
      config.fail(ruling, fmt::format("ruling \"{}\" is not buyer or seller", rule.ruling));
    }
  }
  return rule;
}

MarketplaceOptions read_marketplace(const YAML::Node& node, const ConfigReader& config) {
  MarketplaceOptions o;
  if (node["respond_within"]) o.respond_within = config.duration(node["respond_within"]);
  if (node["buyer_answers_after"]) o.buyer_answers_after = config.duration(node["buyer_answers_after"]);
  if (node["ruling_after"]) o.ruling_after = config.duration(node["ruling_after"]);
  if (node["cases"]) {
    o.cases = read_line_rules(config, node["cases"], "cases (case id or \"default\": a case)",
                              o.cases, [&](const YAML::Node& n) { return read_case(config, n); });
  }
  return o;
}

}  // namespace

std::shared_ptr<SimSystem> SimSet::add(const std::string& name, const YAML::Node& node,
                                       const ConfigReader& config) {
  auto where = fmt::format("adapter \"{}\"", name);
  if (!node["system"]) {
    config.fail(node, fmt::format("{} of type sim needs a \"system\": {}", where,
                                  fmt::join(kSystems, ", ")));
  }
  auto system = config.scalar(node["system"], "system");
  if (!kSystems.contains(system)) {
    config.fail(node["system"], fmt::format("{} has unknown system \"{}\" (known: {})", where,
                                            system, fmt::join(kSystems, ", ")));
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
  } else if (system == "wms") {
    built = std::make_shared<WmsSystem>(name, store, read_wms(node, config));
  } else if (system == "payments") {
    built = std::make_shared<PaymentSystem>(name, store, read_payments(node, config));
  } else if (system == "vendor") {
    built = std::make_shared<VendorSystem>(name, store, read_vendor(node, config));
  } else {
    built = std::make_shared<MarketplaceSystem>(name, store, read_marketplace(node, config));
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
