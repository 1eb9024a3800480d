// The auditor's listing (`rmaflow audit`): across instances, the operator actions (who did
// what to which instance, and why) and the financial postings and stock movements the
// workflows' task steps record (`posting:`: credit memos, refunds, captures, restocks), with
// the reversals their compensations made. Read from the histories, where each was stored in
// the commit of the transition that made it, so the listing is exactly what happened.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rmaflow/store.hpp"

namespace rmaflow::observe {

struct AuditQuery {
  std::optional<TimePoint> from;    // at or after
  std::optional<TimePoint> before;  // strictly before
  // Operator actions of this actor only, and no postings (a posting's actor is the workflow).
  std::string actor;
  // Postings whose rendered customer is this, and no operator actions (they carry none).
  std::string customer;
  // "operator" for operator actions only, an action ("retry") or a posting kind ("credit_memo").
  std::string kind;
  std::string workflow;  // empty: all
};

struct AuditLine {
  TimePoint at;
  std::string instance_id;
  std::string business_key;
  std::string workflow;
  std::string step;
  std::string branch;
  bool posting = false;   // a posting (or its reversal); else an operator action
  std::string kind;       // the posting's kind, or the operator's action
  bool reversal = false;  // the posting's step was compensated: this undoes it
  std::string actor;      // the operator; "workflow" for a posting
  std::string customer;
  // A posting's rendered fields (reference, amount, currency, sku, quantity, or an error when
  // they did not render); an operator action's reason and arguments.
  nlohmann::json details = nlohmann::json::object();
};

struct AuditListing {
  std::vector<AuditLine> lines;  // oldest first
  std::int64_t instances = 0;    // histories read
};

// Throws Error(storage) when the database cannot be read.
AuditListing audit_listing(Store& store, const AuditQuery& query);

nlohmann::json to_json(const AuditLine& line);

}  // namespace rmaflow::observe
