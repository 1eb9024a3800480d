#include "adapters/sim/payment_system.hpp"

#include <fmt/format.h>

namespace rmaflow::sim {

namespace {

SimDoc existing_payment_doc(SimTx& tx, const std::string& type, const std::string& id,
                            const char* what) {
  auto doc = tx.get(type, id);
  if (!doc) throw Refusal("NotFound", fmt::format("no {} {}", what, id));
  return *doc;
}

// What is left of a refund once its live reversals are taken off.
double refund_left(SimTx& tx, const SimDoc& refund) {
  double left = refund.body.value("amount", 0.0);
  for (const auto& r : tx.find_by("reversal", "refund_id", refund.id))
    if (r.status == "reversed") left -= r.body.value("amount", 0.0);
  return round_cents(left);
}

}  // namespace

PaymentSystem::PaymentSystem(std::string name, std::shared_ptr<SimStore> store,
                             PaymentOptions options)
    : SimSystem("payments", std::move(name), std::move(store)), options_(std::move(options)) {
  add("place_hold", {"POST", "/holds"},
      [this](SimTx& tx, const nlohmann::json& in) { return place_hold(tx, in); });
  add("release_hold", {"POST", "/holds/{hold_id}/release"},
      [](SimTx& tx, const nlohmann::json& in) {
        auto hold = existing_payment_doc(tx, "hold", text_field(in, "hold_id"), "hold");
        if (hold.status == "captured") {
          throw Refusal("AlreadyCaptured", fmt::format("hold {} was captured", hold.id));
        }
        if (hold.status == "held") {
          hold.status = "released";
          hold.body["released_at"] = format_time(tx.now());
          tx.put(hold);
        }
        return nlohmann::json{{"hold_id", hold.id}, {"status", hold.status}};
      });
  add("capture_hold", {"POST", "/holds/{hold_id}/capture"},
      [this](SimTx& tx, const nlohmann::json& in) { return capture_hold(tx, in); });
  add("refund_capture", {"POST", "/captures/{capture_id}/refund"},
      [](SimTx& tx, const nlohmann::json& in) {
        auto capture = existing_payment_doc(tx, "capture", text_field(in, "capture_id"), "capture");
        capture.status = "refunded";
        tx.put(capture);
        return nlohmann::json{{"capture_id", capture.id}, {"status", "refunded"}};
      });
  add("refund", {"POST", "/refunds"},
      [this](SimTx& tx, const nlohmann::json& in) { return refund(tx, in); });
  add("reverse_refund", {"POST", "/refunds/{refund_id}/reversals"},
      [this](SimTx& tx, const nlohmann::json& in) { return reverse_refund(tx, in); });
  add("cancel_reversal", {"DELETE", "/reversals/{reversal_id}"},
      [](SimTx& tx, const nlohmann::json& in) {
        auto reversal = existing_payment_doc(tx, "reversal", text_field(in, "reversal_id"),
                                             "reversal");
        reversal.status = "cancelled";
        tx.put(reversal);
        return nlohmann::json{{"reversal_id", reversal.id}, {"status", "cancelled"}};
      });
}

nlohmann::json PaymentSystem::place_hold(SimTx& tx, const nlohmann::json& in) {
  auto rma_id = text_field(in, "rma_id");
  auto customer_id = text_field(in, "customer_id");
  double amount = amount_field(in, "amount");
  if (options_.declined.contains(customer_id)) {
    throw Refusal("CardDeclined",
                  fmt::format("the card of customer {} declined a hold of {:.2f}", customer_id, amount));
  }
  SimDoc hold{"hold", tx.next_id("HLD"), rma_id, "held"};
  hold.body = {{"hold_id", hold.id},
               {"rma_id", rma_id},
               {"customer_id", customer_id},
               {"order_id", in.value("order_id", nlohmann::json())},
               {"amount", amount},
               {"currency", in.value("currency", "USD")},
               {"expires_at", format_time(tx.now() + options_.hold_valid)}};
  tx.put(hold);
  return hold.body;
}

nlohmann::json PaymentSystem::capture_hold(SimTx& tx, const nlohmann::json& in) {
  auto hold = existing_payment_doc(tx, "hold", text_field(in, "hold_id"), "hold");
  double held = hold.body.value("amount", 0.0);
  double amount = in.contains("amount") ? amount_field(in, "amount") : held;
  if (hold.status != "held") {
    throw Refusal(hold.status == "captured" ? "AlreadyCaptured" : "HoldReleased",
                  fmt::format("hold {} is {}", hold.id, hold.status));
  }
  if (auto expires = parse_time(hold.body.value("expires_at", "")); expires && tx.now() > *expires) {
    throw Refusal("HoldExpired", fmt::format("hold {} expired on {}", hold.id,
                                             hold.body.value("expires_at", "")));
  }
  if (amount > held + 0.005) {
    throw Refusal("ExceedsHold", fmt::format("a capture of {:.2f} exceeds hold {} of {:.2f}",
                                             amount, hold.id, held));
  }
  hold.status = "captured";
  tx.put(hold);
  SimDoc capture{"capture", tx.next_id("CAP"), hold.rma_id, "captured"};
  capture.body = {{"capture_id", capture.id},
                  {"hold_id", hold.id},
                  {"amount", amount},
                  {"currency", hold.body.value("currency", "USD")},
                  {"reason", in.value("reason", nlohmann::json())}};
  tx.put(capture);
  return capture.body;
}

nlohmann::json PaymentSystem::refund(SimTx& tx, const nlohmann::json& in) {
  auto rma_id = text_field(in, "rma_id");
  SimDoc refund{"refund", tx.next_id("RFD"), rma_id, "refunded"};
  refund.body = {{"refund_id", refund.id},
                 {"rma_id", rma_id},
                 {"customer_id", text_field(in, "customer_id")},
                 {"order_id", in.value("order_id", nlohmann::json())},
                 {"amount", amount_field(in, "amount")},
                 {"currency", in.value("currency", "USD")},
                 {"reason", in.value("reason", nlohmann::json())},
                 {"refunded_at", format_time(tx.now())}};
  tx.put(refund);
  return refund.body;
}

nlohmann::json PaymentSystem::reverse_refund(SimTx& tx, const nlohmann::json& in) {
  auto refund = existing_payment_doc(tx, "refund", text_field(in, "refund_id"), "refund");
  double left = refund_left(tx, refund);
  double amount = in.contains("amount") && !in["amount"].is_null() ? amount_field(in, "amount") : left;
  if (amount <= 0 || amount > left + 0.005) {
    throw Refusal("ExceedsRefund", fmt::format("a reversal of {:.2f} exceeds the {:.2f} left of "
                                               "refund {}",
                                               amount, left, refund.id));
  }
  SimDoc reversal{"reversal", tx.next_id("REV"), refund.rma_id, "reversed"};
  reversal.body = {{"reversal_id", reversal.id},
                   {"refund_id", refund.id},
                   {"amount", amount},
                   {"currency", refund.body.value("currency", "USD")},
                   {"reason", in.value("reason", nlohmann::json())}};
  tx.put(reversal);
  return reversal.body;
}

}  // namespace rmaflow::sim
