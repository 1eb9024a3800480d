#include "adapters/sim/marketplace_system.hpp"

#include <fmt/format.h>

namespace rmaflow::sim {

namespace {

constexpr const char* kEscalate = "escalate";
constexpr const char* kBuyerAnswer = "buyer_answer";
constexpr const char* kReturnArrives = "return_arrives";
constexpr const char* kRule = "rule";

}  // namespace

MarketplaceSystem::MarketplaceSystem(std::string name, std::shared_ptr<SimStore> store,
                                     MarketplaceOptions options)
    : SimSystem("marketplace", std::move(name), std::move(store)), options_(std::move(options)) {
  add("acknowledge_case", {"POST", "/cases/{case_id}/acknowledgement"},
      [this](SimTx& tx, const nlohmann::json& in) { return acknowledge(tx, in); });
  add("offer_partial_refund", {"POST", "/cases/{case_id}/offers"},
      [this](SimTx& tx, const nlohmann::json& in) { return offer_partial_refund(tx, in); });
  add("accept_return", {"POST", "/cases/{case_id}/return-acceptance"},
      [this](SimTx& tx, const nlohmann::json& in) { return accept_return(tx, in); });
  add("decline_case", {"POST", "/cases/{case_id}/decline"},
      [this](SimTx& tx, const nlohmann::json& in) { return decline(tx, in); });
  add("refund", {"POST", "/cases/{case_id}/refunds"},
      [this](SimTx& tx, const nlohmann::json& in) { return refund(tx, in); });
  add("close_case", {"POST", "/cases/{case_id}/close"}, [](SimTx& tx, const nlohmann::json& in) {
    auto id = text_field(in, "case_id");
    auto c = tx.get("case", id);
    if (!c) throw Refusal("NotFound", fmt::format("no case {}", id));
    c->body["outcome"] = in.value("outcome", nlohmann::json());
    c->body["closed_at"] = format_time(tx.now());
    c->status = "closed";
    tx.put(*c);
    for (const auto* kind : {kEscalate, kBuyerAnswer, kReturnArrives, kRule}) tx.cancel_jobs(kind, id);
    return nlohmann::json{{"case_id", id}, {"status", "closed"}};
  });
}

nlohmann::json MarketplaceSystem::acknowledge(SimTx& tx, const nlohmann::json& in) {
  auto id = text_field(in, "case_id");
  if (auto c = tx.get("case", id)) return c->body;  // the case is known: the same answer
  SimDoc c{"case", id, id, "open"};
  c.body = {{"case_id", id},
            {"order_id", in.value("order_id", nlohmann::json())},
            {"buyer_id", in.value("buyer_id", nlohmann::json())},
            {"amount", amount_field(in, "amount")},
            {"currency", in.value("currency", "USD")},
            {"reason", in.value("reason", nlohmann::json())},
            {"respond_by", format_time(tx.now() + options_.respond_within)},
            {"notify", in.value("notify", nlohmann::json())}};
  tx.put(c);
  tx.schedule(tx.now() + options_.respond_within, kEscalate, id, {});
  return c.body;
}

SimDoc MarketplaceSystem::answerable(SimTx& tx, const nlohmann::json& in) {
  auto id = text_field(in, "case_id");
  auto c = tx.get("case", id);
  if (!c) throw Refusal("NotFound", fmt::format("no case {}", id));
  if (c->status == "escalated" || c->status == "ruled") {
    throw Refusal("CaseEscalated", fmt::format("case {} is with the marketplace: it was not answered "
                                               "by {}",
                                               id, c->body.value("respond_by", "")));
  }
  if (c->status == "closed" || c->status == "refunded" || c->status == "partially_refunded") {
    throw Refusal("CaseClosed", fmt::format("case {} is {}", id, c->status));
  }
  return *c;
}

nlohmann::json MarketplaceSystem::offer_partial_refund(SimTx& tx, const nlohmann::json& in) {
  auto c = answerable(tx, in);
  double amount = amount_field(in, "amount");
  if (amount >= c.body.value("amount", 0.0)) {
    throw Refusal("BadRequest", fmt::format("a partial refund of {:.2f} is not less than the {:.2f} "
                                            "the case is about",
                                            amount, c.body.value("amount", 0.0)));
  }
  c.status = "offer_pending";
  c.body["offer"] = amount;
  tx.put(c);
  tx.cancel_jobs(kEscalate, c.id);
  const CaseRule& rule = *options_.cases.find(c.id);
  if (rule.offer != CaseRule::Answer::silent) {
    tx.schedule(tx.now() + options_.buyer_answers_after, kBuyerAnswer, c.id,
                {{"accepted", rule.offer == CaseRule::Answer::accept}});
  }
  return {{"case_id", c.id}, {"status", c.status}, {"offer", amount}};
}

nlohmann::json MarketplaceSystem::accept_return(SimTx& tx, const nlohmann::json& in) {
  auto c = answerable(tx, in);
  if (c.status == "return_accepted" || c.status == "return_delivered") return c.body;
  c.status = "return_accepted";
  c.body["return_label"] = "1ZMKT" + c.id;
  tx.put(c);
  for (const auto* kind : {kEscalate, kBuyerAnswer}) tx.cancel_jobs(kind, c.id);
  if (auto ships = options_.cases.find(c.id)->ships) {
    tx.schedule(tx.now() + *ships, kReturnArrives, c.id, {});
  }
  return c.body;
}

nlohmann::json MarketplaceSystem::decline(SimTx& tx, const nlohmann::json& in) {
  auto c = answerable(tx, in);
  c.status = "declined";
  c.body["declined_because"] = in.value("reason", nlohmann::json());
  tx.put(c);
  for (const auto* kind : {kEscalate, kBuyerAnswer}) tx.cancel_jobs(kind, c.id);
  tx.schedule(tx.now() + options_.ruling_after, kRule, c.id, {});  // the buyer appeals
  return {{"case_id", c.id}, {"status", c.status}};
}

nlohmann::json MarketplaceSystem::refund(SimTx& tx, const nlohmann::json& in) {
  auto id = text_field(in, "case_id");
  auto c = tx.get("case", id);
  if (!c) throw Refusal("NotFound", fmt::format("no case {}", id));
  double amount = amount_field(in, "amount");
  if (c->status == "refunded") {
    throw Refusal("AlreadyRefunded", fmt::format("the buyer of case {} was refunded already", id));
  }
  if (amount > c->body.value("amount", 0.0) + 0.005) {
    throw Refusal("ExceedsCase", fmt::format("a refund of {:.2f} exceeds the {:.2f} of case {}",
                                             amount, c->body.value("amount", 0.0), id));
  }
  return refund_buyer(tx, *c, amount, "refunded", "seller");
}

nlohmann::json MarketplaceSystem::refund_buyer(SimTx& tx, SimDoc& c, double amount,
                                               const std::string& status, const std::string& by) {
  SimDoc refund{"buyer_refund", tx.next_id("MRF"), c.id, "refunded"};
  refund.body = {{"refund_id", refund.id},
                 {"case_id", c.id},
                 {"amount", amount},
                 {"currency", c.body.value("currency", "USD")},
                 {"by", by}};
  tx.put(refund);
  c.status = status;
  c.body["refunded"] = amount;
  tx.put(c);
  return refund.body;
}

void MarketplaceSystem::run_job(SimTx& tx, const SimJob& job) {
  auto c = tx.get("case", job.subject);
  if (!c) {
    SimSystem::run_job(tx, job);
    return;
  }
  auto notify = c->body.value("notify", nlohmann::json());
  if (job.kind == kEscalate) {
    if (c->status != "open") return;  // answered in time
    c->status = "escalated";
    tx.put(*c);
    tx.schedule(tx.now() + options_.ruling_after, kRule, c->id, {});
  } else if (job.kind == kBuyerAnswer) {
    if (c->status != "offer_pending") return;
    bool accepted = job.body.value("accepted", false);
    double offer = c->body.value("offer", 0.0);
    if (accepted) {
      refund_buyer(tx, *c, offer, "partially_refunded", "seller");
    } else {
      c->status = "open";  // the buyer still wants to return it
      tx.put(*c);
    }
    emit(tx, tx.now(), notify, "marketplace.offer_answered",
         {{"case_id", c->id}, {"accepted", accepted}, {"amount", offer}}, c->id + ":offer");
  } else if (job.kind == kReturnArrives) {
    if (c->status != "return_accepted") return;
    c->status = "return_delivered";
    tx.put(*c);
    emit(tx, tx.now(), notify, "marketplace.return_delivered",
         {{"case_id", c->id}, {"tracking_number", c->body.value("return_label", "")}},
         c->id + ":delivered");
  } else if (job.kind == kRule) {
    if (c->status != "escalated" && c->status != "declined") return;
    const CaseRule& rule = *options_.cases.find(c->id);
    double refunded = 0;
    if (rule.ruling == "buyer") {
      refunded = c->body.value("amount", 0.0);
      refund_buyer(tx, *c, refunded, "ruled", "marketplace");
    } else {
      c->status = "ruled";
      tx.put(*c);
    }
    emit(tx, tx.now(), notify, "marketplace.case_decided",
         {{"case_id", c->id}, {"ruling", rule.ruling}, {"refund_amount", refunded}},
         c->id + ":ruling");
  } else {
    SimSystem::run_job(tx, job);
  }
}

}  // namespace rmaflow::sim
