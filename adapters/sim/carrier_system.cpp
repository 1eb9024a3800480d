#include "adapters/sim/carrier_system.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace rmaflow::sim {

namespace {

constexpr const char* kDeliver = "deliver";
constexpr const char* kScan = "scan";
constexpr Duration kToInTransit{6LL * 3'600'000};

bool valid_country(const std::string& c) {
  return c.size() == 2 && std::isupper(static_cast<unsigned char>(c[0])) &&
         std::isupper(static_cast<unsigned char>(c[1]));
}

// A label whose parcel the carrier has in hand (or had): it can no longer be voided.
bool used(const SimDoc& label) {
  return label.status == "dropped_off" || label.status == "in_transit" ||
         label.status == "delivered";
}

std::string tracking_status(const std::string& status) {
  return status == "created" ? "label_created" : status;
}

}  // namespace

CarrierSystem::CarrierSystem(std::string name, std::shared_ptr<SimStore> store,
                             CarrierOptions options)
    : SimSystem("carrier", std::move(name), std::move(store)), options_(std::move(options)) {
  add("create_label", {"POST", "/labels"},
      [this](SimTx& tx, const nlohmann::json& in) { return create_label(tx, in); });
  add("void_label", {"DELETE", "/labels/{label_id}"}, [](SimTx& tx, const nlohmann::json& in) {
    auto id = text_field(in, "label_id");
    auto label = tx.get("label", id);
    if (!label) throw Refusal("NotFound", fmt::format("no label {}", id));
    if (used(*label)) {
      throw Refusal("LabelUsed", fmt::format("label {} was used: its parcel is {}", id,
                                             label->status == "delivered" ? "delivered"
                                                                          : "on its way"));
    }
    label->status = "voided";
    tx.put(*label);
    tx.cancel_jobs(kDeliver, id);  // a voided label's parcel is never shipped
    tx.cancel_jobs(kScan, id);
    return nlohmann::json{{"label_id", id}, {"status", "voided"}};
  });
  add("track", {"GET", "/tracking/{tracking_number}"},
      [](SimTx& tx, const nlohmann::json& in) {
        auto number = text_field(in, "tracking_number");
        auto labels = tx.find_by("label", "tracking_number", number);
        if (labels.empty()) throw Refusal("NotFound", fmt::format("no parcel {}", number));
        const auto& label = labels.front();
        return nlohmann::json{{"tracking_number", number},
                              {"label_id", label.id},
                              {"rma_id", label.rma_id},
                              {"status", tracking_status(label.status)},
                              {"delivered_at", label.body.value("delivered_at", nlohmann::json())}};
      },
      /*read_only=*/true);
  add("open_claim", {"POST", "/claims"},
      [this](SimTx& tx, const nlohmann::json& in) { return open_claim(tx, in); });
  add("withdraw_claim", {"DELETE", "/claims/{claim_id}"}, [](SimTx& tx, const nlohmann::json& in) {
    auto id = text_field(in, "claim_id");
    auto claim = tx.get("claim", id);
    if (!claim) throw Refusal("NotFound", fmt::format("no claim {}", id));
    claim->status = "withdrawn";
    tx.put(*claim);
    return nlohmann::json{{"claim_id", id}, {"status", "withdrawn"}};
  });
}

nlohmann::json CarrierSystem::create_label(SimTx& tx, const nlohmann::json& in) {
  auto rma_id = text_field(in, "rma_id");
  auto line_id = in.value("line_id", "");
  const auto& from = field(in, "ship_from");
  auto postal = from.value("postal_code", "");
  auto country = from.value("country", "");
  if (postal.empty() || postal.find_first_not_of("0 ") == std::string::npos ||
      !valid_country(country)) {
    throw Refusal("AddressInvalid",
                  fmt::format("the carrier cannot collect from postal code \"{}\" in \"{}\"",
                              postal, country));
  }
  bool scans = in.value("scans", false);
  // An outbound label ships from the warehouse to `ship_to` (goods going back to a customer):
  // it is delivered there, never into the warehouse.
  bool outbound = in.value("direction", "inbound") == "outbound";
  SimDoc label{"label", tx.next_id("LBL"), rma_id, "created"};
  auto number = "1ZSIM" + label.id.substr(4);
  label.body = {{"label_id", label.id},
                {"tracking_number", number},
                {"ship_from", from},
                {"service", in.value("service", "ground")},
                {"scans", scans},
                {"notify", in.value("notify", nlohmann::json())}};
  if (!line_id.empty()) label.body["line_id"] = line_id;
  if (outbound) {
    label.body["direction"] = "outbound";
    label.body["ship_to"] = in.value("ship_to", nlohmann::json());
  }
  tx.put(label);

  // An outbound parcel leaves with the warehouse's next collection: it is always shipped.
  const ParcelRule rule = outbound ? ParcelRule{} : *options_.parcels.find(rma_id, line_id);
  if (rule.fate != ParcelRule::Fate::never) {
    if (scans) {
      auto drop = std::min(options_.drop_off, rule.transit / 2);
      auto moving = drop + std::min(kToInTransit, (rule.transit - drop) / 2);
      tx.schedule(tx.now() + drop, kScan, label.id, {{"event", "dropped_off"}});
      tx.schedule(tx.now() + moving, kScan, label.id, {{"event", "in_transit"}});
    }
    if (rule.fate == ParcelRule::Fate::delivered) {
      tx.schedule(tx.now() + rule.transit, kDeliver, label.id, {{"label_id", label.id}});
    }
  }
  nlohmann::json out = {{"label_id", label.id},
                        {"tracking_number", number},
                        {"carrier", "SIMPOST"},
                        {"service", label.body["service"]},
                        {"label_url", fmt::format("https://labels.simpost.example/{}.pdf", label.id)}};
  if (!line_id.empty()) out["line_id"] = line_id;
  return out;
}

nlohmann::json CarrierSystem::open_claim(SimTx& tx, const nlohmann::json& in) {
  auto number = text_field(in, "tracking_number");
  auto labels = tx.find_by("label", "tracking_number", number);
  if (labels.empty()) throw Refusal("NotFound", fmt::format("no parcel {}", number));
  const auto& label = labels.front();
  if (label.status == "delivered") {
    throw Refusal("Delivered", fmt::format("parcel {} was delivered on {}", number,
                                           label.body.value("delivered_at", "")));
  }
  if (!used(label)) {
    throw Refusal("NotShipped", fmt::format("parcel {} was never handed to the carrier (label {})",
                                            number, label.status));
  }
  for (const auto& c : tx.find_by("claim", "tracking_number", number)) {
    if (c.status == "open") return c.body;  // one claim per parcel
  }
  SimDoc claim{"claim", tx.next_id("CLM"), label.rma_id, "open"};
  claim.body = {{"claim_id", claim.id},
                {"tracking_number", number},
                {"label_id", label.id},
                {"line_id", label.body.value("line_id", "")},
                {"value", in.value("value", nlohmann::json())},
                {"currency", in.value("currency", nlohmann::json())},
                {"opened_at", format_time(tx.now())}};
  tx.put(claim);
  return claim.body;
}

void CarrierSystem::run_job(SimTx& tx, const SimJob& job) {
  if (job.kind != kDeliver && job.kind != kScan) {
    SimSystem::run_job(tx, job);
    return;
  }
  auto label = tx.get("label", job.subject);
  if (!label || label->status == "voided" || label->status == "delivered") return;
  if (job.kind == kScan) {
    scan(tx, *label, job.body.value("event", ""));
  } else {
    deliver(tx, *label);
  }
}

void CarrierSystem::scan(SimTx& tx, SimDoc& label, const std::string& event) {
  label.status = event;
  label.body[event + "_at"] = format_time(tx.now());
  tx.put(label);
  auto line_id = label.body.value("line_id", "");
  nlohmann::json payload = {{"label_id", label.id},
                            {"tracking_number", label.body.value("tracking_number", "")},
                            {"rma_id", label.rma_id},
                            {"event", event},
                            {"scanned_at", format_time(tx.now())}};
  if (!line_id.empty()) payload["line_id"] = line_id;
  emit(tx, tx.now(), label.body.value("notify", nlohmann::json()), "carrier." + event,
       std::move(payload),
       fmt::format("scan:{}:{}", label.body.value("tracking_number", ""), event),
       line_id.empty() ? nlohmann::json() : nlohmann::json(line_id));
}

void CarrierSystem::deliver(SimTx& tx, SimDoc& label) {
  label.status = "delivered";
  label.body["delivered_at"] = format_time(tx.now());
  tx.put(label);
  auto number = label.body.value("tracking_number", "");
  for (auto& claim : tx.find_by("claim", "tracking_number", number)) {
    if (claim.status != "open") continue;
    claim.status = "parcel_found";  // it turned up after all
    tx.put(claim);
  }
  // The warehouse scans the parcel; it is idempotent per tracking number, so a crash before
  // this transaction commits only repeats the scan. An outbound parcel reached the customer.
  if (warehouse_ && label.body.value("direction", "") != "outbound") {
    warehouse_->receive_parcel(label.rma_id, label.body.value("line_id", ""), number,
                               label.body.value("notify", nlohmann::json()));
  }
}

}  // namespace rmaflow::sim
