// Child instances of call steps. A child is an ordinary instance of its workflow with its
// parent recorded; everything between the two happens in one batch: the child is created with
// the parent's child_started, its end reaches the parent's call step in the commit that ends it.
#include <fmt/format.h>

#include "engine/runtime/engine_impl.hpp"
#include "engine/support/json_depth.hpp"
#include "engine/support/sha256.hpp"

namespace rmaflow {

std::string EngineImpl::create_child(Instance& parent, const std::string& branch,
                                     std::shared_ptr<const Definition> def,
                                     nlohmann::json input) {
  if (!input.is_object()) {
    throw Error(Errc::invalid_input, fmt::format("its input must be a JSON object, not {}",
                                                 input.type_name()));
  }
  if (json_deeper_than(input)) {
    throw Error(Errc::invalid_input,
                fmt::format("its input nests deeper than {} levels", kMaxJsonDepth));
  }
  definitions_->check_input(*def, input);
  std::string business_key;
  if (def->business_key) {
    nlohmann::json value;
    try {
      value = def->business_key->evaluate({{"input", input}});
    } catch (const Error& e) {
      throw Error(Errc::invalid_input, fmt::format("its business_key did not evaluate: {}",
                                                   e.what()));
    }
    if (value.is_string()) business_key = value.get<std::string>();
    if (value.is_number()) business_key = value.dump();
  }
  if (!business_key.empty()) {
    // A child never takes over another instance: its key must be its own.
    std::string holder;
    if (auto it = pending_keys_.find(pending_key(def->name, business_key));
        it != pending_keys_.end()) {
      holder = it->second.instance_id;
    } else {
      std::lock_guard lock(store_mu_);
      if (auto row = store_->find_by_business_key(def->name, business_key)) holder = row->id;
    }
    if (!holder.empty()) {
      throw Error(Errc::conflict, fmt::format("business key {} of workflow {} is taken by "
                                              "instance {}",
                                              business_key, def->name, holder));
    }
  }
  const std::string input_text = input.dump();
  std::string hash = sha256_hex(input_text);
  const LiveCursor& at = parent.at(branch);
  // In its parent's shard: the node that owns the parent owns the child.
  Instance& child = create_instance(ids_.next(clock_->now(), shard_of(parent.row.id)),
                                    std::move(def), std::move(input), input_text.size(),
                                    business_key, hash, parent.row.correlation_id);
  child.row.parent = ParentRef{parent.row.id, at.step, branch};
  child.row.context.edit()["instance"]["parent"] = {
      {"id", parent.row.id}, {"step", at.step}, {"branch", branch}};
  return child.row.id;
}

void EngineImpl::begin_child(const std::string& child_id) {
  Instance* child = find_any(child_id);
  if (child == nullptr) return;
  machine_.begin(*child);
  settle(*child);
}

void EngineImpl::child_ended(Instance& child) {
  const auto& parent_ref = *child.row.parent;
  Instance* parent = acquire(parent_ref.instance_id);
  if (parent == nullptr) return;  // the parent has finished meanwhile
  machine_.on_child_ended(*parent, parent_ref.branch, child.snapshot());
  settle(*parent);
}

void EngineImpl::cancel_child(const std::string& child_id, bool compensate,
                              const std::string& reason) {
  Instance* child = acquire(child_id);
  if (child == nullptr) return;  // finished already
  OperatorAction action;
  action.instance_id = child_id;
  action.kind = ActionKind::cancel;
  action.actor = "rmaflow";
  action.reason = reason;
  action.args = {{"compensate", compensate}};
  try {
    machine_.apply(*child, action);
  } catch (const Error&) {
    // Nothing to cancel in its state; it goes on as it is and its end reaches nobody.
  }
  settle(*child);
}

bool EngineImpl::compensate_child(const std::string& child_id, const std::string& reason) {
  Instance* child = find_any(child_id);
  if (child == nullptr) {
    std::optional<InstanceRow> row;
    {
      std::lock_guard lock(store_mu_);
      row = store_->get_instance(child_id);
    }
    if (!row || row->status != InstanceStatus::completed) return false;
    child = &held_.hold_loaded(load_instance(std::move(*row)));
  }
  if (child->row.status != InstanceStatus::completed) return false;
  machine_.compensate_finished(*child, reason);
  settle(*child);
  return true;
}

}  // namespace rmaflow
