#include "adapters/sim/erp_system.hpp"

#include <cmath>
#include <map>

#include <fmt/format.h>

namespace rmaflow::sim {

namespace {

// Quantities of each SKU an authorization covers.
std::map<std::string, long> quantities(const nlohmann::json& lines) {
  std::map<std::string, long> out;
  for (const auto& l : lines) out[l.value("sku", "")] += l.value("qty", 0L);
  return out;
}

double authorized_value(const nlohmann::json& lines) {
  double total = 0;
  for (const auto& l : lines) total += round_cents(l.value("qty", 0L) * l.value("unit_price", 0.0));
  return round_cents(total);
}

}  // namespace

ErpSystem::ErpSystem(std::string name, std::shared_ptr<SimStore> store, ErpOptions options)
    : SimSystem("erp", std::move(name), std::move(store)), options_(std::move(options)) {
  add("authorize_return", {"POST", "/returns/authorizations"},
      [this](SimTx& tx, const nlohmann::json& in) { return authorize_return(tx, in); });
  add("void_authorization", {"POST", "/returns/authorizations/{authorization_id}/void"},
      [this](SimTx& tx, const nlohmann::json& in) {
        return change_status(tx, "authorization", text_field(in, "authorization_id"), "void",
                             "authorization_id");
      });
  add("post_credit_memo", {"POST", "/credit-memos"},
      [this](SimTx& tx, const nlohmann::json& in) { return post_credit_memo(tx, in); });
  add("reverse_credit_memo", {"POST", "/credit-memos/{credit_memo_id}/reversal"},
      [this](SimTx& tx, const nlohmann::json& in) {
        return change_status(tx, "credit_memo", text_field(in, "credit_memo_id"), "reversed",
                             "credit_memo_id");
      });
  add("create_replacement_order", {"POST", "/replacement-orders"},
      [](SimTx& tx, const nlohmann::json& in) {
        SimDoc order{"replacement_order", tx.next_id("SO"), text_field(in, "rma_id"), "released"};
        order.body = {{"customer_id", text_field(in, "customer_id")},
                      {"lines", field(in, "lines")},
                      {"ship_to", in.value("ship_to", nlohmann::json())},
                      {"advance", in.value("advance", false)}};
        tx.put(order);
        return nlohmann::json{{"order_id", order.id}, {"status", order.status},
                              {"lines", order.body["lines"]}};
      });
  add("cancel_replacement_order", {"POST", "/replacement-orders/{order_id}/cancellation"},
      [this](SimTx& tx, const nlohmann::json& in) {
        return change_status(tx, "replacement_order", text_field(in, "order_id"), "cancelled",
                             "order_id");
      });
  add("charge_customer", {"POST", "/charges"}, [](SimTx& tx, const nlohmann::json& in) {
    double amount = amount_field(in, "amount");
    SimDoc charge{"charge", tx.next_id("CHG"), text_field(in, "rma_id"), "invoiced"};
    charge.body = in;
    tx.put(charge);
    return nlohmann::json{{"charge_id", charge.id}, {"amount", amount},
                          {"currency", in.value("currency", "")}};
  });
  add("void_charge", {"POST", "/charges/{charge_id}/void"},
      [this](SimTx& tx, const nlohmann::json& in) {
        return change_status(tx, "charge", text_field(in, "charge_id"), "voided", "charge_id");
      });
  add("close_rma", {"POST", "/returns/{rma_id}/close"},
      [this](SimTx& tx, const nlohmann::json& in) { return close_rma(tx, in); });
  add("get_authorization", {"GET", "/returns/authorizations/{authorization_id}"},
      [](SimTx& tx, const nlohmann::json& in) {
        auto id = text_field(in, "authorization_id");
        auto doc = tx.get("authorization", id);
        if (!doc) throw Refusal("NotFound", fmt::format("no authorization {}", id));
        auto out = doc->body;
        out["authorization_id"] = id;
        out["status"] = doc->status;
        return out;
      },
      /*read_only=*/true);
  add_cases();
  load_master_data();
}

void ErpSystem::load_master_data() {
  auto customers = options_.data.value("customers", nlohmann::json::object());
  auto invoices = options_.data.value("invoices", nlohmann::json::object());
  store().transact(now(), [&](SimTx& tx) {
    for (const auto& [id, customer] : customers.items()) {
      tx.put_new(SimDoc{"customer", id, "", "active", customer});
    }
    for (const auto& [id, invoice] : invoices.items()) {
      tx.put_new(SimDoc{"invoice", id, "", "open", invoice});
    }
  });
}

nlohmann::json ErpSystem::authorize_return(SimTx& tx, const nlohmann::json& in) {
  auto rma_id = text_field(in, "rma_id");
  auto customer_id = text_field(in, "customer_id");
  auto invoice_id = text_field(in, "invoice_id");
  const auto& lines = field(in, "lines");
  if (!lines.is_array() || lines.empty()) throw Refusal("BadRequest", "\"lines\" must be a non-empty array");
  bool advance = in.value("advance", false);
  // A warranty claim is checked against the warranty, line by line, not the return window.
  bool warranty = in.value("kind", "return") == "warranty";
  auto refuse = [&](const std::string& why) {
    throw Refusal("NotEligible", fmt::format("RMA {} is not eligible: {}", rma_id, why));
  };

  for (const auto& existing : tx.find("authorization", rma_id)) {
    if (existing.status != "void") {
      throw Refusal("AlreadyAuthorized", fmt::format("RMA {} is already authorized as {}", rma_id,
                                                     existing.id));
    }
  }
  auto invoice = tx.get("invoice", invoice_id);
  if (!invoice) refuse(fmt::format("invoice {} is not in the ERP", invoice_id));
  const auto& inv = invoice->body;
  if (inv.value("customer_id", "") != customer_id) {
    refuse(fmt::format("invoice {} was billed to another customer", invoice_id));
  }
  auto invoiced_at = parse_time(inv.value("date", ""));
  if (!invoiced_at) throw Refusal("BadMasterData", fmt::format("invoice {} has no valid date", invoice_id));
  TimePoint window_ends = *invoiced_at + options_.return_window;
  if (!warranty && tx.now() > window_ends) {
    refuse(fmt::format("the return window of invoice {} closed on {}", invoice_id,
                       format_time(window_ends).substr(0, 10)));
  }
  auto customer = tx.get("customer", customer_id);
  if (advance && !(customer && customer->body.value("advance_replacement", false))) {
    refuse(fmt::format("customer {} is not entitled to advance replacements", customer_id));
  }

  // What is still returnable per SKU: invoiced, less what live authorizations already cover.
  std::map<std::string, long> returnable;
  std::map<std::string, double> price;
  for (const auto& l : inv.value("lines", nlohmann::json::array())) {
    returnable[l.value("sku", "")] += l.value("qty", 0L);
    price[l.value("sku", "")] = l.value("unit_price", 0.0);
  }
  for (const auto& other : tx.find_by("authorization", "invoice_id", invoice_id)) {
    if (other.status == "void") continue;
    for (const auto& [sku, qty] : quantities(other.body["lines"])) returnable[sku] -= qty;
  }
  auto currency = inv.value("currency", "USD");
  nlohmann::json authorized = nlohmann::json::array();
  for (const auto& [sku, qty] : quantities(lines)) {
    if (!returnable.count(sku)) refuse(fmt::format("{} is not on invoice {}", sku, invoice_id));
    if (qty > returnable[sku]) {
      refuse(fmt::format("{} {} of {} asked for, {} still returnable on invoice {}", qty,
                         qty == 1 ? "unit" : "units", sku, std::max(0L, returnable[sku]),
                         invoice_id));
    }
  }
  for (const auto& l : lines) {
    auto line = l;
    line["line_id"] = fmt::format("L{}", authorized.size() + 1);
    line["unit_price"] = price[l.value("sku", "")];  // credit follows the invoiced price
    line["currency"] = currency;
    authorized.push_back(std::move(line));
  }
  // What the risk desk's rules read: the customer's share of orders returned (master data).
  nlohmann::json risk = {{"return_rate", customer ? customer->body.value("return_rate", 0.0) : 0.0}};

  SimDoc auth{"authorization", tx.next_id("AUTH"), rma_id, "authorized"};
  auth.body = {{"customer_id", customer_id}, {"invoice_id", invoice_id},
               {"lines", authorized},        {"advance", advance},
               {"returnless", in.value("returnless", false)},
               {"kind", warranty ? "warranty" : "return"},
               {"window_ends", format_time(window_ends)}};
  tx.put(auth);
  if (advance) {
    bool reverse = customer && customer->body.value("credit_review", "pass") == "reverse";
    nlohmann::json review = {
        {"authorization_id", auth.id},
        {"decision", reverse ? "reversed" : "confirmed"},
        {"reason", reverse ? "credit control reversed the advance replacement" : "credit approved"}};
    emit(tx, tx.now() + options_.review_after, in.value("notify", nlohmann::json()),
         "authorization.reviewed", std::move(review), auth.id + ":review");
  }
  return {{"authorization_id", auth.id},
          {"rma_id", rma_id},
          {"invoice_id", invoice_id},
          {"invoice_date", format_time(*invoiced_at)},
          {"window_ends", format_time(window_ends)},
          {"currency", currency},
          {"lines", authorized},
          {"advance", advance},
          {"risk", risk}};
}

nlohmann::json ErpSystem::post_credit_memo(SimTx& tx, const nlohmann::json& in) {
  auto rma_id = text_field(in, "rma_id");
  auto authorization_id = text_field(in, "authorization_id");
  double amount = amount_field(in, "amount", /*allow_zero=*/true);
  auto auth = tx.get("authorization", authorization_id);
  if (!auth || auth->status != "authorized") {
    throw Refusal("NotAuthorized", fmt::format("authorization {} is {}", authorization_id,
                                               auth ? auth->status : "unknown"));
  }
  auto customer_id = auth->body.value("customer_id", "");
  auto customer = tx.get("customer", customer_id);
  if (customer && customer->body.value("credit_hold", false)) {
    throw Refusal("CustomerOnHold",
                  fmt::format("customer {} is on credit hold: finance must release it before a "
                              "credit memo is posted",
                              customer_id));
  }
  for (const auto& memo : tx.find("credit_memo", rma_id)) {
    if (memo.status == "posted") {
      throw Refusal("AlreadyCredited",
                    fmt::format("RMA {} was already credited by {}", rma_id, memo.id));
    }
  }
  double ceiling = authorized_value(auth->body["lines"]);
  if (amount > ceiling + 0.005) {
    throw Refusal("CreditExceedsAuthorization",
                  fmt::format("a credit of {:.2f} exceeds the {:.2f} authorized", amount, ceiling));
  }
  SimDoc memo{"credit_memo", tx.next_id("CM"), rma_id, "posted"};
  memo.body = in;
  memo.body["amount"] = amount;
  tx.put(memo);
  return {{"credit_memo_id", memo.id},
          {"amount", amount},
          {"currency", in.value("currency", "")},
          {"kind", in.value("kind", "refund")},
          {"status", memo.status}};
}

nlohmann::json ErpSystem::close_rma(SimTx& tx, const nlohmann::json& in) {
  auto rma_id = text_field(in, "rma_id");
  auto authorization_id = text_field(in, "authorization_id");
  auto auth = tx.get("authorization", authorization_id);
  if (!auth || auth->rma_id != rma_id) {
    throw Refusal("NotFound", fmt::format("RMA {} has no authorization {}", rma_id,
                                          authorization_id));
  }
  if (auth->status == "void") {
    throw Refusal("NotAuthorized", fmt::format("authorization {} is void", authorization_id));
  }
  auth->status = "closed";
  auth->body["closure"] = in;
  tx.put(*auth);
  return {{"rma_id", rma_id}, {"status", "closed"}, {"outcome", in.value("outcome", "")}};
}

nlohmann::json ErpSystem::change_status(SimTx& tx, const std::string& type, const std::string& id,
                                        const std::string& status, const std::string& id_field) {
  auto doc = tx.get(type, id);
  if (!doc) throw Refusal("NotFound", fmt::format("no {} {}", type, id));
  if (doc->status != status) {
    if (doc->status == "closed" || doc->status == "shipped") {
      throw Refusal("NotReversible", fmt::format("{} {} is {} already", type, id, doc->status));
    }
    doc->status = status;
    tx.put(*doc);
  }
  return {{id_field, id}, {"status", status}};
}

}  // namespace rmaflow::sim
