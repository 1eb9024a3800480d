#include "adapters/sim/carrier_system.hpp"

#include <cctype>

#include <fmt/format.h>

namespace rmaflow::sim {

namespace {

constexpr const char* kDeliver = "deliver";

bool valid_country(const std::string& c) {
  return c.size() == 2 && std::isupper(static_cast<unsigned char>(c[0])) &&
         std::isupper(static_cast<unsigned char>(c[1]));
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
    if (label->status == "delivered") {
      throw Refusal("LabelUsed", fmt::format("label {} was used: its parcel was delivered", id));
    }
    label->status = "voided";
    tx.put(*label);
    tx.cancel_jobs(kDeliver, id);  // a voided label's parcel is never shipped
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
                              {"status", label.status == "created" ? "label_created" : label.status},
                              {"delivered_at", label.body.value("delivered_at", nlohmann::json())}};
      },
      /*read_only=*/true);
}

nlohmann::json CarrierSystem::create_label(SimTx& tx, const nlohmann::json& in) {
  auto rma_id = text_field(in, "rma_id");
  const auto& from = field(in, "ship_from");
  auto postal = from.value("postal_code", "");
  auto country = from.value("country", "");
  if (postal.empty() || postal.find_first_not_of("0 ") == std::string::npos ||
      !valid_country(country)) {
    throw Refusal("AddressInvalid",
                  fmt::format("the carrier cannot collect from postal code \"{}\" in \"{}\"",
                              postal, country));
  }
  SimDoc label{"label", tx.next_id("LBL"), rma_id, "created"};
  auto number = "1ZSIM" + label.id.substr(4);
  label.body = {{"label_id", label.id},
                {"tracking_number", number},
                {"ship_from", from},
                {"service", in.value("service", "ground")},
                {"notify", in.value("notify", nlohmann::json())}};
  tx.put(label);
  auto rule = options_.transit.find(rma_id);
  auto transit = rule == options_.transit.end() ? options_.default_transit : rule->second;
  if (transit) tx.schedule(tx.now() + *transit, kDeliver, label.id, {{"label_id", label.id}});
  return {{"label_id", label.id},
          {"tracking_number", number},
          {"carrier", "SIMPOST"},
          {"service", label.body["service"]},
          {"label_url", fmt::format("https://labels.simpost.example/{}.pdf", label.id)}};
}

void CarrierSystem::run_job(SimTx& tx, const SimJob& job) {
  if (job.kind != kDeliver) {
    SimSystem::run_job(tx, job);
    return;
  }
  auto label = tx.get("label", job.subject);
  if (!label || label->status != "created") return;  // voided meanwhile
  label->status = "delivered";
  label->body["delivered_at"] = format_time(tx.now());
  tx.put(*label);
  // The warehouse scans the parcel; it is idempotent per tracking number, so a crash before
  // this transaction commits only repeats the scan.
  if (warehouse_) {
    warehouse_->receive_parcel(label->rma_id, label->body.value("tracking_number", ""),
                               label->body.value("notify", nlohmann::json()));
  }
}

}  // namespace rmaflow::sim
