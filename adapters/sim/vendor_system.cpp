#include "adapters/sim/vendor_system.hpp"

#include <fmt/format.h>

namespace rmaflow::sim {

namespace {

constexpr const char* kDecide = "decide";
constexpr const char* kCredit = "credit";
constexpr const char* kRepair = "repair";

// A vendor document by id, or a NotFound refusal.
SimDoc vendor_doc(SimTx& tx, const std::string& type, const std::string& id) {
  auto doc = tx.get(type, id);
  if (!doc) throw Refusal("NotFound", fmt::format("the vendor has no {} {}", type, id));
  return *doc;
}

// Cancels a document and the jobs the vendor would run for it.
nlohmann::json cancel_vendor_doc(SimTx& tx, const std::string& type, const std::string& id,
                                 const char* id_field) {
  auto doc = vendor_doc(tx, type, id);
  if (doc.status == "credited" || doc.status == "repaired" || doc.status == "unrepairable") {
    throw Refusal("NotReversible", fmt::format("{} {} is {} already", type, id, doc.status));
  }
  doc.status = "cancelled";
  tx.put(doc);
  for (const auto* kind : {kDecide, kCredit, kRepair}) tx.cancel_jobs(kind, id);
  return {{id_field, id}, {"status", "cancelled"}};
}

}  // namespace

VendorSystem::VendorSystem(std::string name, std::shared_ptr<SimStore> store, VendorOptions options)
    : SimSystem("vendor", std::move(name), std::move(store)), options_(std::move(options)) {
  add("open_rma", {"POST", "/rmas"},
      [this](SimTx& tx, const nlohmann::json& in) { return open_rma(tx, in); });
  add("cancel_rma", {"DELETE", "/rmas/{vendor_rma_id}"}, [](SimTx& tx, const nlohmann::json& in) {
    return cancel_vendor_doc(tx, "vendor_rma", text_field(in, "vendor_rma_id"), "vendor_rma_id");
  });
  add("advise_shipment", {"POST", "/shipments"},
      [this](SimTx& tx, const nlohmann::json& in) { return advise_shipment(tx, in); });
  add("quote_repair", {"POST", "/quotes"}, [this](SimTx& tx, const nlohmann::json& in) {
    auto rma_id = text_field(in, "rma_id");
    SimDoc quote{"quote", tx.next_id("VQT"), rma_id, "quoted"};
    quote.body = {{"quote_id", quote.id},
                  {"rma_id", rma_id},
                  {"line_id", in.value("line_id", nlohmann::json())},
                  {"sku", text_field(in, "sku")},
                  {"serial", in.value("serial", nlohmann::json())},
                  {"price", options_.quote_price},
                  {"currency", in.value("currency", "USD")},
                  {"valid_until", format_time(tx.now() + Duration(14LL * 86'400'000))}};
    tx.put(quote);
    return quote.body;
  });
  add("open_repair", {"POST", "/repairs"},
      [this](SimTx& tx, const nlohmann::json& in) { return open_repair(tx, in); });
  add("cancel_repair", {"DELETE", "/repairs/{repair_id}"}, [](SimTx& tx, const nlohmann::json& in) {
    return cancel_vendor_doc(tx, "repair_order", text_field(in, "repair_id"), "repair_id");
  });
}

bool VendorSystem::listed(const std::set<std::string, std::less<>>& names, const SimDoc& doc) {
  auto line = doc.body.value("line_id", "");
  auto serial = doc.body.value("serial", nlohmann::json());
  return names.contains(doc.body.value("sku", "")) || names.contains(doc.rma_id) ||
         (!line.empty() && names.contains(fmt::format("{}/{}", doc.rma_id, line))) ||
         (serial.is_string() && names.contains(serial.get<std::string>()));
}

nlohmann::json VendorSystem::open_rma(SimTx& tx, const nlohmann::json& in) {
  auto rma_id = text_field(in, "rma_id");
  SimDoc rma{"vendor_rma", tx.next_id("VRMA"), rma_id, "pending"};
  rma.body = {{"vendor_rma_id", rma.id},
              {"rma_id", rma_id},
              {"line_id", in.value("line_id", nlohmann::json())},
              {"sku", text_field(in, "sku")},
              {"serial", in.value("serial", nlohmann::json())},
              {"qty", in.value("qty", 1)},
              {"unit_cost", amount_field(in, "unit_cost", /*allow_zero=*/true)},
              {"currency", in.value("currency", "USD")},
              {"reason", in.value("reason", nlohmann::json())},
              {"notify", in.value("notify", nlohmann::json())}};
  tx.put(rma);
  if (!listed(options_.silent, rma)) tx.schedule(tx.now() + options_.decides_after, kDecide, rma.id, {});
  return {{"vendor_rma_id", rma.id}, {"status", rma.status}};
}

nlohmann::json VendorSystem::open_repair(SimTx& tx, const nlohmann::json& in) {
  auto rma_id = text_field(in, "rma_id");
  SimDoc repair{"repair_order", tx.next_id("VRP"), rma_id, "open"};
  repair.body = {{"repair_id", repair.id},
                 {"rma_id", rma_id},
                 {"line_id", in.value("line_id", nlohmann::json())},
                 {"sku", text_field(in, "sku")},
                 {"serial", in.value("serial", nlohmann::json())},
                 {"warranty", in.value("warranty", false)},
                 {"quote_id", in.value("quote_id", nlohmann::json())},
                 {"ship_to", in.value("ship_to", nlohmann::json())},
                 {"notify", in.value("notify", nlohmann::json())}};
  tx.put(repair);
  return {{"repair_id", repair.id}, {"status", repair.status}};
}

nlohmann::json VendorSystem::advise_shipment(SimTx& tx, const nlohmann::json& in) {
  auto reference = text_field(in, "reference");
  bool repair = reference.starts_with("VRP-");
  auto doc = vendor_doc(tx, repair ? "repair_order" : "vendor_rma", reference);
  const char* expected = repair ? "open" : "approved";
  if (doc.status != expected) {
    if (doc.status == (repair ? "in_repair" : "shipped")) return doc.body;  // advised already
    throw Refusal(repair ? "NotOpen" : "NotApproved",
                  fmt::format("{} is {}: nothing can be shipped against it", reference, doc.status));
  }
  doc.status = repair ? "in_repair" : "shipped";
  doc.body["tracking_number"] = in.value("tracking_number", nlohmann::json());
  doc.body["advised_at"] = format_time(tx.now());
  tx.put(doc);
  if (!listed(options_.silent, doc)) {
    auto due = tx.now() + options_.transit + (repair ? options_.repair_time : options_.credit_after);
    tx.schedule(due, repair ? kRepair : kCredit, reference, {});
  }
  return doc.body;
}

void VendorSystem::run_job(SimTx& tx, const SimJob& job) {
  if (job.kind != kDecide && job.kind != kCredit && job.kind != kRepair) {
    SimSystem::run_job(tx, job);
    return;
  }
  auto doc = tx.get(job.kind == kRepair ? "repair_order" : "vendor_rma", job.subject);
  if (!doc || doc->status == "cancelled") return;
  auto notify = doc->body.value("notify", nlohmann::json());
  if (job.kind == kDecide) {
    bool refused = listed(options_.refuse, *doc);
    doc->status = refused ? "refused" : "approved";
    tx.put(*doc);
    emit(tx, tx.now(), notify, "vendor.rma_decided",
         {{"vendor_rma_id", doc->id},
          {"decision", doc->status},
          {"reason", refused ? "outside the vendor's return policy" : "approved for credit"}},
         doc->id + ":decision");
  } else if (job.kind == kCredit) {
    doc->status = "credited";
    double amount = round_cents(doc->body.value("unit_cost", 0.0) * doc->body.value("qty", 1) *
                                options_.credit_rate);
    doc->body["credit_note_id"] = "VCN-" + doc->id.substr(5);
    doc->body["credited_amount"] = amount;
    tx.put(*doc);
    emit(tx, tx.now(), notify, "vendor.credit_issued",
         {{"vendor_rma_id", doc->id},
          {"credit_note_id", doc->body["credit_note_id"]},
          {"amount", amount},
          {"currency", doc->body.value("currency", "USD")}},
         doc->id + ":credit");
  } else {
    bool fixed = !listed(options_.unrepairable, *doc);
    doc->status = fixed ? "repaired" : "unrepairable";
    tx.put(*doc);
    emit(tx, tx.now(), notify, "vendor.repair_finished",
         {{"repair_id", doc->id},
          {"result", doc->status},
          {"tracking_number", "1ZREP" + doc->id.substr(4)}},
         doc->id + ":finished");
  }
}

}  // namespace rmaflow::sim
