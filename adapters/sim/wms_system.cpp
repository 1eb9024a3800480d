#include "adapters/sim/wms_system.hpp"

#include <fmt/format.h>

#include "adapters/sim/seeded_draw.hpp"

namespace rmaflow::sim {

namespace {

const std::map<std::string, std::string, std::less<>> kGradeNotes = {
    {"A", "as new, original packaging"},
    {"B", "opened, cosmetic wear: refurbish"},
    {"C", "defect confirmed: return to vendor"},
    {"D", "damaged beyond repair"},
};

// A disposition of goods: the document it creates and how it is asked for and undone. Those
// with `op` exist for the whole RMA too; every one exists per line (`line_op`).
struct DispositionKind {
  const char* type;      // the document's type
  const char* prefix;    // of its id
  const char* id_field;  // the id's name in results and in the undo's input
  const char* path;      // POST creates (the whole RMA), DELETE {path}/{id} undoes
  const char* op;        // for the whole RMA; null: per line only
  const char* line_op;   // POST /returns/{rma_id}/lines/{line_id}/{verb}
  const char* verb;
  const char* undo;
};

constexpr DispositionKind kDispositions[] = {
    {"restock", "RST", "restock_id", "/restocks", "restock", "restock_line", "restock",
     "reverse_restock"},
    {"refurbishment", "WO", "work_order_id", "/refurbishments", "refurbish", "refurbish_line",
     "refurbishment", "cancel_refurbishment"},
    {"vendor_return", "RTV", "rtv_id", "/vendor-returns", "return_to_vendor",
     "return_to_vendor_line", "vendor-return", "cancel_return_to_vendor"},
    {"scrap", "SCR", "scrap_id", "/scraps", "scrap", "scrap_line", "scrap", "cancel_scrap"},
    {"repair", "RPR", "repair_id", "/repairs", nullptr, "repair_line", "repair", "cancel_repair"},
    {"quarantine", "QRN", "quarantine_id", "/quarantines", nullptr, "quarantine_line",
     "quarantine", "release_quarantine"},
};

bool live(const SimDoc& d) { return d.status != "reversed" && d.status != "superseded"; }

// The dispositions in force for a line (or, with an empty line id, for any part of the RMA).
std::vector<SimDoc> live_dispositions(SimTx& tx, const std::string& rma_id,
                                      const std::string& line_id) {
  std::vector<SimDoc> out;
  for (const auto& kind : kDispositions) {
    for (auto& d : tx.find(kind.type, rma_id)) {
      if (!live(d)) continue;
      if (line_id.empty() || d.body.value("line_id", "") == line_id) out.push_back(std::move(d));
    }
  }
  return out;
}

bool has_line_inspection(SimTx& tx, const std::string& rma_id, const std::string& line_id) {
  for (const auto& i : tx.find("inspection", rma_id))
    if (i.body.value("line_id", "") == line_id) return true;
  return false;
}

}  // namespace

WmsSystem::WmsSystem(std::string name, std::shared_ptr<SimStore> store, WmsOptions options)
    : SimSystem("wms", std::move(name), std::move(store)), options_(std::move(options)) {
  add("receive", {"POST", "/receipts"}, [this](SimTx& tx, const nlohmann::json& in) {
    return receive(tx, text_field(in, "rma_id"), in.value("line_id", ""),
                   text_field(in, "tracking_number"), in.value("notify", nlohmann::json()));
  });
  add("inspect", {"POST", "/inspections"},
      [this](SimTx& tx, const nlohmann::json& in) { return inspect(tx, in); });
  add("inspect_line", {"POST", "/returns/{rma_id}/lines/{line_id}/inspection"},
      [this](SimTx& tx, const nlohmann::json& in) { return inspect_line(tx, in); });
  add_dispositions();
  add("ship_to_vendor", {"POST", "/vendor-shipments"},
      [this](SimTx& tx, const nlohmann::json& in) { return ship_to_vendor(tx, in); });
  add("cancel_vendor_shipment", {"DELETE", "/vendor-shipments/{shipment_id}"},
      [](SimTx& tx, const nlohmann::json& in) {
        auto id = text_field(in, "shipment_id");
        auto doc = tx.get("vendor_shipment", id);
        if (!doc) throw Refusal("NotFound", fmt::format("no vendor shipment {}", id));
        doc->status = "cancelled";
        tx.put(*doc);
        return nlohmann::json{{"shipment_id", id}, {"status", "cancelled"}};
      });
}

void WmsSystem::receive_parcel(const std::string& rma_id, const std::string& line_id,
                               const std::string& tracking_number, const nlohmann::json& notify) {
  std::vector<SimJob> armed;
  store().transact(now(),
                   [&](SimTx& tx) { receive(tx, rma_id, line_id, tracking_number, notify); },
                   &armed);
  arm(armed);
}

nlohmann::json WmsSystem::receive(SimTx& tx, const std::string& rma_id, const std::string& line_id,
                                  const std::string& tracking_number,
                                  const nlohmann::json& notify) {
  auto existing = tx.find_by("receipt", "tracking_number", tracking_number);
  if (!existing.empty()) return existing.front().body;  // the same parcel scanned again
  SimDoc receipt{"receipt", tx.next_id("RCV"), rma_id, "received"};
  receipt.body = {{"receipt_id", receipt.id},
                  {"rma_id", rma_id},
                  {"tracking_number", tracking_number},
                  {"received_at", format_time(tx.now())}};
  if (!line_id.empty()) receipt.body["line_id"] = line_id;
  tx.put(receipt);
  if (line_id.empty()) {
    emit(tx, tx.now(), notify, "warehouse.received", receipt.body, "receipt:" + tracking_number);
  } else {
    emit(tx, tx.now(), notify, "warehouse.line_received", receipt.body,
         "receipt:" + tracking_number, line_id);
  }
  return receipt.body;
}

InspectionRule WmsSystem::rule_for(const std::string& rma_id, const std::string& line_id) const {
  if (const auto* rule = options_.inspections.specific(rma_id, line_id)) return *rule;
  InspectionRule rule = options_.inspections.fallback().value_or(InspectionRule{});
  double total = 0;
  for (const auto& [grade, weight] : options_.grade_mix) total += weight;
  if (total > 0) {
    double at = seeded_draw(options_.seed, {"grade", rma_id, line_id}) * total;
    for (const auto& [grade, weight] : options_.grade_mix) {
      rule.grade = grade;
      if (at < weight) break;
      at -= weight;
    }
  }
  return rule;
}

nlohmann::json WmsSystem::inspect(SimTx& tx, const nlohmann::json& in) {
  auto rma_id = text_field(in, "rma_id");
  if (tx.find("receipt", rma_id).empty()) {
    throw Refusal("NotReceived", fmt::format("nothing was received for RMA {}", rma_id));
  }
  auto grade = rule_for(rma_id, "").grade;
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

nlohmann::json WmsSystem::inspect_line(SimTx& tx, const nlohmann::json& in) {
  auto rma_id = text_field(in, "rma_id");
  auto line_id = text_field(in, "line_id");
  bool received = false;
  for (const auto& r : tx.find("receipt", rma_id)) {
    auto of = r.body.value("line_id", "");
    received = received || of.empty() || of == line_id;  // its own parcel, or the RMA's
  }
  if (!received) {
    throw Refusal("NotReceived",
                  fmt::format("line {} of RMA {} has not been received", line_id, rma_id));
  }
  auto rule = rule_for(rma_id, line_id);
  auto note = kGradeNotes.find(rule.grade);
  nlohmann::json sold = in.value("serial", nlohmann::json());
  SimDoc inspection{"inspection", tx.next_id("INS"), rma_id, "done"};
  inspection.body = {{"inspection_id", inspection.id},
                     {"rma_id", rma_id},
                     {"line_id", line_id},
                     {"sku", in.value("sku", nlohmann::json())},
                     {"qty", in.value("qty", nlohmann::json())},
                     {"grade", rule.grade},
                     {"condition", rule.condition},
                     {"serial", rule.serial ? nlohmann::json(*rule.serial) : sold},
                     {"notes", note == kGradeNotes.end() ? "" : note->second},
                     {"inspected_at", format_time(tx.now())}};
  tx.put(inspection);
  return inspection.body;
}

void WmsSystem::add_dispositions() {
  for (const auto& kind : kDispositions) {
    const std::string type = kind.type, prefix = kind.prefix, id_field = kind.id_field;
    // Creates the document, once the goods (of the RMA, or of the line) are inspected and
    // nothing else is decided for them; `replaces` names a disposition it supersedes (a line
    // held for the vendor that the vendor refused, scrapped instead).
    auto create = [=](SimTx& tx, const nlohmann::json& in, const std::string& line_id) {
      auto rma_id = text_field(in, "rma_id");
      std::string what = line_id.empty() ? fmt::format("the goods of RMA {}", rma_id)
                                         : fmt::format("line {} of RMA {}", line_id, rma_id);
      bool inspected = line_id.empty() ? !tx.find("inspection", rma_id).empty()
                                       : has_line_inspection(tx, rma_id, line_id);
      if (!inspected) throw Refusal("NotInspected", fmt::format("{} are not inspected", what));
      auto replaces = in.value("replaces", "");
      for (auto& d : live_dispositions(tx, rma_id, line_id)) {
        if (!replaces.empty() && d.id == replaces) {
          d.status = "superseded";
          tx.put(d);
          continue;
        }
        throw Refusal("AlreadyDisposed",
                      fmt::format("{} are disposed of already ({} {})", what, d.type, d.id));
      }
      SimDoc doc{type, tx.next_id(prefix), rma_id, "open"};
      doc.body = in;
      doc.body[id_field] = doc.id;
      if (type == "restock") doc.body["location"] = "RETURNS-" + doc.id.substr(doc.id.size() - 2);
      tx.put(doc);
      return doc.body;
    };
    if (kind.op != nullptr) {
      add(kind.op, {"POST", kind.path},
          [=](SimTx& tx, const nlohmann::json& in) { return create(tx, in, ""); });
    }
    add(kind.line_op, {"POST", fmt::format("/returns/{{rma_id}}/lines/{{line_id}}/{}", kind.verb)},
        [=](SimTx& tx, const nlohmann::json& in) { return create(tx, in, text_field(in, "line_id")); });
    add(kind.undo, {"DELETE", fmt::format("{}/{{{}}}", kind.path, id_field)},
        [=](SimTx& tx, const nlohmann::json& in) {
          auto id = text_field(in, id_field.c_str());
          auto doc = tx.get(type, id);
          if (!doc) throw Refusal("NotFound", fmt::format("no {} {}", type, id));
          doc->status = "reversed";
          tx.put(*doc);
          return nlohmann::json{{id_field, id}, {"status", "reversed"}};
        });
  }
}

nlohmann::json WmsSystem::ship_to_vendor(SimTx& tx, const nlohmann::json& in) {
  auto rma_id = text_field(in, "rma_id");
  auto line_id = text_field(in, "line_id");
  auto vendor = text_field(in, "vendor");
  auto reference = text_field(in, "reference");
  if (!has_line_inspection(tx, rma_id, line_id)) {
    throw Refusal("NotInspected",
                  fmt::format("line {} of RMA {} is not inspected", line_id, rma_id));
  }
  for (const auto& s : tx.find("vendor_shipment", rma_id)) {
    if (s.status != "cancelled" && s.body.value("line_id", "") == line_id &&
        s.body.value("reference", "") == reference) {
      throw Refusal("AlreadyShipped", fmt::format("line {} of RMA {} left for {} already as {}",
                                                  line_id, rma_id, vendor, s.id));
    }
  }
  SimDoc shipment{"vendor_shipment", tx.next_id("VSH"), rma_id, "shipped"};
  shipment.body = {{"shipment_id", shipment.id},
                   {"rma_id", rma_id},
                   {"line_id", line_id},
                   {"vendor", vendor},
                   {"reference", reference},
                   {"tracking_number", "1ZVND" + shipment.id.substr(4)},
                   {"shipped_at", format_time(tx.now())}};
  tx.put(shipment);
  return shipment.body;
}

}  // namespace rmaflow::sim
