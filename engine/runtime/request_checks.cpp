#include "engine/runtime/request_checks.hpp"

#include <fmt/format.h>

#include <vector>

#include "engine/support/limits.hpp"
#include "engine/support/utf8.hpp"

namespace rmaflow {

namespace {

// The longest error message recorded from an adapter.
constexpr std::size_t kMaxOutcomeMessage = 4096;

void check_text(std::string_view what, std::string_view value, std::size_t max_bytes,
                Errc code = Errc::invalid_argument) {
  if (auto why = name_problem(what, value, max_bytes)) throw Error(code, *why);
}

// True when every string and key in `value` is UTF-8. Iterative: safe on any document.
bool all_text_valid(const nlohmann::json& value) {
  std::vector<const nlohmann::json*> stack{&value};
  while (!stack.empty()) {
    const auto* node = stack.back();
    stack.pop_back();
    if (node->is_string()) {
      if (!is_valid_utf8(node->get_ref<const std::string&>())) return false;
    } else if (node->is_object()) {
      for (const auto& [key, child] : node->items()) {
        if (!is_valid_utf8(key)) return false;
        stack.push_back(&child);
      }
    } else if (node->is_array()) {
      for (const auto& child : *node) stack.push_back(&child);
    }
  }
  return true;
}

void check_document(std::string_view what, const nlohmann::json& value,
                    Errc code = Errc::invalid_argument) {
  if (!all_text_valid(value)) throw Error(code, fmt::format("{} holds text that is not UTF-8", what));
}

}  // namespace

void check_request(const StartRequest& request) {
  check_text("the workflow name", request.workflow, kMaxNameBytes);
  if (request.business_key) check_text("the business key", *request.business_key, kMaxKeyBytes);
  check_text("the correlation id", request.correlation_id, kMaxKeyBytes);
  check_document("the input", request.input, Errc::invalid_input);
}

void check_request(const SignalRequest& request) {
  check_text("the instance id", request.instance_id, kMaxNameBytes);
  check_text("the workflow name", request.workflow, kMaxNameBytes);
  check_text("the business key", request.business_key, kMaxKeyBytes);
  check_text("the signal name", request.name, kMaxKeyBytes);
  check_text("the idempotency key", request.idempotency_key, kMaxKeyBytes);
  check_document("the signal's payload", request.payload);
  check_document("the signal's match value", request.match);
}

void check_request(const OperatorAction& action) {
  check_text("the instance id", action.instance_id, kMaxNameBytes);
  check_text("the actor", action.actor, kMaxTextBytes);
  check_text("the reason", action.reason, kMaxTextBytes);
  check_document("the action's arguments", action.args);
  check_text("the branch", action.branch, kMaxKeyBytes);
}

Outcome checked_outcome(Outcome outcome) {
  auto& error = outcome.error;
  if (!is_valid_utf8(error.code) || error.code.size() > kMaxKeyBytes) {
    error.code = quote_utf8(error.code, kMaxKeyBytes);
  }
  if (!is_valid_utf8(error.message) || error.message.size() > kMaxOutcomeMessage) {
    error.message = quote_utf8(error.message, kMaxOutcomeMessage);
  }
  if (outcome.ok() && !all_text_valid(*outcome.result)) {
    return Outcome::failure("BadResult", "the adapter's result holds text that is not UTF-8",
                            false);
  }
  return outcome;
}

}  // namespace rmaflow
