// The ERP's customer-service side: review cases, warranty checks, repair quotes and vendor
// credits (see erp_system.hpp).
#include <set>

#include <fmt/format.h>

#include "adapters/sim/erp_system.hpp"

namespace rmaflow::sim {

namespace {

const std::set<std::string, std::less<>> kDecisions = {"approve", "deny", "partial"};

}  // namespace

void ErpSystem::add_cases() {
  add("open_review", {"POST", "/reviews"},
      [this](SimTx& tx, const nlohmann::json& in) { return open_review(tx, in); });
  add("escalate_review", {"POST", "/reviews/{case_id}/escalation"},
      [](SimTx& tx, const nlohmann::json& in) {
        auto id = text_field(in, "case_id");
        auto doc = tx.get("review_case", id);
        if (!doc) throw Refusal("NotFound", fmt::format("no review case {}", id));
        if (doc->status == "open") {
          doc->status = "escalated";
          doc->body["escalated_to"] = in.value("to", "returns-supervisor");
          doc->body["escalated_at"] = format_time(tx.now());
          tx.put(*doc);
        }
        return nlohmann::json{{"case_id", id}, {"status", doc->status}};
      });
  add("record_review", {"POST", "/reviews/{case_id}/decision"},
      [](SimTx& tx, const nlohmann::json& in) {
        auto id = text_field(in, "case_id");
        auto decision = text_field(in, "decision");
        auto reviewer = text_field(in, "reviewer");
        if (!kDecisions.contains(decision)) {
          throw Refusal("BadRequest", fmt::format("decision \"{}\" is not approve, deny or partial",
                                                  decision));
        }
        auto doc = tx.get("review_case", id);
        if (!doc) throw Refusal("NotFound", fmt::format("no review case {}", id));
        if (doc->status == "decided") {
          throw Refusal("AlreadyDecided", fmt::format("review case {} was decided by {}", id,
                                                      doc->body.value("reviewer", "")));
        }
        doc->status = "decided";
        doc->body["decision"] = decision;
        doc->body["reviewer"] = reviewer;
        doc->body["refund_ratio"] = in.value("refund_ratio", nlohmann::json());
        doc->body["note"] = in.value("note", nlohmann::json());
        doc->body["decided_at"] = format_time(tx.now());
        tx.put(*doc);
        return nlohmann::json{{"case_id", id}, {"status", "decided"}, {"decision", decision},
                              {"reviewer", reviewer}};
      });
  add("check_warranty", {"GET", "/warranty/{invoice_id}/{sku}"},
      [this](SimTx& tx, const nlohmann::json& in) { return check_warranty(tx, in); },
      /*read_only=*/true);
  add("send_quote", {"POST", "/quotes"},
      [this](SimTx& tx, const nlohmann::json& in) { return send_quote(tx, in); });
  add("record_vendor_credit", {"POST", "/vendor-credits"},
      [](SimTx& tx, const nlohmann::json& in) {
        auto rma_id = text_field(in, "rma_id");
        auto note = text_field(in, "credit_note_id");
        double amount = amount_field(in, "amount", /*allow_zero=*/true);
        for (const auto& c : tx.find_by("vendor_credit", "credit_note_id", note)) {
          throw Refusal("AlreadyRecorded",
                        fmt::format("the vendor's credit note {} is booked already as {}", note, c.id));
        }
        SimDoc credit{"vendor_credit", tx.next_id("VCR"), rma_id, "booked"};
        credit.body = in;
        credit.body["amount"] = amount;
        credit.body["vendor_credit_id"] = credit.id;
        tx.put(credit);
        return credit.body;
      });
}

nlohmann::json ErpSystem::open_review(SimTx& tx, const nlohmann::json& in) {
  auto rma_id = text_field(in, "rma_id");
  auto subject = text_field(in, "subject");  // "rma", or a line id
  SimDoc review{"review_case", tx.next_id("REV"), rma_id, "open"};
  review.body = {{"case_id", review.id},
                 {"rma_id", rma_id},
                 {"subject", subject},
                 {"flags", in.value("flags", nlohmann::json::array())},
                 {"value", in.value("value", nlohmann::json())},
                 {"customer_id", in.value("customer_id", nlohmann::json())},
                 {"opened_at", format_time(tx.now())}};
  tx.put(review);
  const ReviewRule& rule = *options_.reviews.find(rma_id, subject);
  if (rule.decision) {
    nlohmann::json decided = {{"case_id", review.id},
                              {"decision", *rule.decision},
                              {"reviewer", rule.reviewer},
                              {"refund_ratio", *rule.decision == "partial" ? rule.refund_ratio
                                               : *rule.decision == "deny"  ? 0.0
                                                                           : 1.0},
                              {"note", fmt::format("{} by the risk desk", *rule.decision == "deny"
                                                                              ? "denied"
                                                                              : "reviewed")}};
    emit(tx, tx.now() + rule.after, in.value("notify", nlohmann::json()), "review.decided",
         std::move(decided), review.id + ":decision");
  }
  return {{"case_id", review.id}, {"status", "open"}, {"subject", subject}};
}

nlohmann::json ErpSystem::check_warranty(SimTx& tx, const nlohmann::json& in) {
  auto invoice_id = text_field(in, "invoice_id");
  auto sku = text_field(in, "sku");
  auto invoice = tx.get("invoice", invoice_id);
  if (!invoice) throw Refusal("NotFound", fmt::format("invoice {} is not in the ERP", invoice_id));
  bool sold = false;
  for (const auto& l : invoice->body.value("lines", nlohmann::json::array()))
    sold = sold || l.value("sku", "") == sku;
  if (!sold) throw Refusal("NotFound", fmt::format("{} is not on invoice {}", sku, invoice_id));
  auto invoiced_at = parse_time(invoice->body.value("date", ""));
  if (!invoiced_at) throw Refusal("BadMasterData", fmt::format("invoice {} has no valid date", invoice_id));
  auto ends = *invoiced_at + options_.warranty;
  return {{"invoice_id", invoice_id},
          {"sku", sku},
          {"serial", in.value("serial", nlohmann::json())},
          {"invoice_date", format_time(*invoiced_at)},
          {"warranty_ends", format_time(ends)},
          {"in_warranty", tx.now() <= ends}};
}

nlohmann::json ErpSystem::send_quote(SimTx& tx, const nlohmann::json& in) {
  auto rma_id = text_field(in, "rma_id");
  auto line_id = text_field(in, "line_id");
  auto quote_id = text_field(in, "quote_id");
  for (const auto& q : tx.find_by("quote_offer", "quote_id", quote_id)) return q.body;
  SimDoc offer{"quote_offer", tx.next_id("QOF"), rma_id, "sent"};
  offer.body = in;
  offer.body.erase("notify");
  offer.body["offer_id"] = offer.id;
  offer.body["sent_at"] = format_time(tx.now());
  tx.put(offer);
  const QuoteRule& rule = *options_.quotes.find(rma_id, line_id);
  if (rule.accept) {
    emit(tx, tx.now() + rule.after, in.value("notify", nlohmann::json()), "customer.quote_answered",
         {{"quote_id", quote_id}, {"accepted", *rule.accept}, {"line_id", line_id}},
         quote_id + ":answer", line_id);
  }
  return offer.body;
}

}  // namespace rmaflow::sim
