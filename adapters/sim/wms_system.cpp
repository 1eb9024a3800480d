#include "adapters/sim/wms_system.hpp"

#include <fmt/format.h>

namespace rmaflow::sim {

namespace {

const std::map<std::string, std::string, std::less<>> kGradeNotes = {
    {"A", "as new, original packaging"},
    {"B", "opened, cosmetic wear: refurbish"},
    {"C", "defect confirmed: return to vendor"},
    {"D", "damaged beyond repair"},
};

// Dispositions of one RMA that are in force (not reversed).
bool has_live_disposition(SimTx& tx, const std::string& rma_id) {
  for (const auto* type : {"restock", "refurbishment", "vendor_return", "scrap"}) {
    for (const auto& d : tx.find(type, rma_id))
      if (d.status != "reversed") return true;
  }
  return false;
}

}  // namespace

WmsSystem::WmsSystem(std::string name, std::shared_ptr<SimStore> store, WmsOptions options)
    : SimSystem("wms", std::move(name), std::move(store)), options_(std::move(options)) {
  add("receive", {"POST", "/receipts"}, [this](SimTx& tx, const nlohmann::json& in) {
    return receive(tx, text_field(in, "rma_id"), text_field(in, "tracking_number"),
                   in.value("notify", nlohmann::json()));
  });
  add("inspect", {"POST", "/inspections"},
      [this](SimTx& tx, const nlohmann::json& in) { return inspect(tx, in); });
  add_disposition("restock", "reverse_restock", "restock", "RST", "restock_id", "/restocks");
  add_disposition("refurbish", "cancel_refurbishment", "refurbishment", "WO", "work_order_id",
                  "/refurbishments");
  add_disposition("return_to_vendor", "cancel_return_to_vendor", "vendor_return", "RTV", "rtv_id",
                  "/vendor-returns");
  add_disposition("scrap", "cancel_scrap", "scrap", "SCR", "scrap_id", "/scraps");
}

void WmsSystem::receive_parcel(const std::string& rma_id, const std::string& tracking_number,
                               const nlohmann::json& notify) {
  std::vector<SimJob> armed;
  store().transact(now(), [&](SimTx& tx) { receive(tx, rma_id, tracking_number, notify); },
                   &armed);
  arm(armed);
}

nlohmann::json WmsSystem::receive(SimTx& tx, const std::string& rma_id,
                                  const std::string& tracking_number,
                                  const nlohmann::json& notify) {
  auto existing = tx.find_by("receipt", "tracking_number", tracking_number);
  if (!existing.empty()) return existing.front().body;  // the same parcel scanned again
  SimDoc receipt{"receipt", tx.next_id("RCV"), rma_id, "received"};
  receipt.body = {{"receipt_id", receipt.id},
                  {"rma_id", rma_id},
                  {"tracking_number", tracking_number},
                  {"received_at", format_time(tx.now())}};
  tx.put(receipt);
  emit(tx, tx.now(), notify, "warehouse.received", receipt.body, "receipt:" + tracking_number);
  return receipt.body;
}

nlohmann::json WmsSystem::inspect(SimTx& tx, const nlohmann::json& in) {
  auto rma_id = text_field(in, "rma_id");
  if (tx.find("receipt", rma_id).empty()) {
    throw Refusal("NotReceived", fmt::format("nothing was received for RMA {}", rma_id));
  }
  auto it = options_.grades.find(rma_id);
  std::string grade = it == options_.grades.end() ? options_.default_grade : it->second;
  auto note = kGradeNotes.find(grade);
  SimDoc inspection{"inspection", tx.next_id("INS"), rma_id, "done"};
  inspection.body = {{"inspection_id", inspection.id},
                     {"grade", grade},
                     {"notes", note == kGradeNotes.end() ? "" : note->second},
                     {"lines", in.value("lines", nlohmann::json::array())},
                     {"inspected_at", format_time(tx.now())}};
  tx.put(inspection);
  return inspection.body;
}

void WmsSystem::add_disposition(const std::string& op, const std::string& undo,
                                const std::string& type, const std::string& prefix,
                                const std::string& id_field, const std::string& path) {
  add(op, {"POST", path}, [=](SimTx& tx, const nlohmann::json& in) {
    auto rma_id = text_field(in, "rma_id");
    if (tx.find("inspection", rma_id).empty()) {
      throw Refusal("NotInspected", fmt::format("RMA {} has not been inspected", rma_id));
    }
    if (has_live_disposition(tx, rma_id)) {
      throw Refusal("AlreadyDisposed", fmt::format("the goods of RMA {} are disposed of already",
                                                   rma_id));
    }
    SimDoc doc{type, tx.next_id(prefix), rma_id, "open"};
    doc.body = in;
    doc.body[id_field] = doc.id;
    if (type == "restock") doc.body["location"] = "RETURNS-" + doc.id.substr(doc.id.size() - 2);
    tx.put(doc);
    return doc.body;
  });
  add(undo, {"DELETE", path + "/{" + id_field + "}"}, [=](SimTx& tx, const nlohmann::json& in) {
    auto id = text_field(in, id_field.c_str());
    auto doc = tx.get(type, id);
    if (!doc) throw Refusal("NotFound", fmt::format("no {} {}", type, id));
    doc->status = "reversed";
    tx.put(*doc);
    return nlohmann::json{{id_field, id}, {"status", "reversed"}};
  });
}

}  // namespace rmaflow::sim
