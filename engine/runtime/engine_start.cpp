// Starting instances: checked (workflow deployed, input an object within limits and valid
// against the workflow's schema), idempotent by business key, answered once committed.
#include <fmt/format.h>

#include "engine/runtime/engine_impl.hpp"
#include "engine/runtime/request_checks.hpp"
#include "engine/runtime/start_conflict.hpp"
#include "engine/support/canonical_json.hpp"
#include "engine/support/json_depth.hpp"
#include "engine/support/sha256.hpp"

namespace rmaflow {

namespace {

// The business key an input maps to: given by the caller, or the workflow's expression.
std::string business_key_for(const Definition& def, const nlohmann::json& input,
                             const std::optional<std::string>& given) {
  if (given) return *given;
  if (!def.business_key) return {};
  nlohmann::json value;
  try {
    value = def.business_key->evaluate({{"input", input}});
  } catch (const Error& e) {
    throw Error(Errc::invalid_input,
                fmt::format("the business_key of workflow {} did not evaluate: {}", def.name,
                            e.what()));
  }
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number()) return value.dump();
  if (value.is_null()) return {};
  throw Error(Errc::invalid_input,
              fmt::format("the business_key of workflow {} must be a string or a number, not {}",
                          def.name, value.type_name()));
}

void check_start_input(const std::string& workflow, const nlohmann::json& input) {
  if (!input.is_object()) {
    throw Error(Errc::invalid_input,
                fmt::format("the input of workflow {} must be a JSON object, not {}", workflow,
                            input.type_name()));
  }
  if (json_deeper_than(input)) {
    throw Error(Errc::invalid_input, fmt::format("the input of workflow {} nests deeper than {} "
                                                 "levels",
                                                 workflow, kMaxJsonDepth));
  }
}

}  // namespace

StartResult EngineImpl::handle_start(StartRequest request, const std::string& id) {
  check_request(request);
  auto version = request.version ? request.version : definitions_->latest(request.workflow);
  auto def = version ? definitions_->get(request.workflow, *version) : nullptr;
  if (!def) {
    bool pinned = version && request.version;
    throw ArgumentError(Errc::not_found,
                        pinned ? fmt::format("workflow {} has no version {}", request.workflow,
                                             *version)
                               : fmt::format("no workflow named {} is deployed", request.workflow),
                        pinned ? "version" : "workflow");
  }
  check_start_input(request.workflow, request.input);
  // By value: 1.0 is the integer 1 to the schema, and 329.0 the same price as 329.
  request.input = canonical_json(request.input);
  definitions_->check_input(*def, request.input);
  std::string business_key = business_key_for(*def, request.input, request.business_key);
  const std::string input_text = request.input.dump();
  std::string input_hash = sha256_hex(input_text);
  // Every start with one business key goes to one shard, so that one node decides them all.
  int shard = !id.empty()             ? shard_of(id)
              : !business_key.empty() ? shard_of_key(def->name, business_key)
                                      : home_shard();
  // Another node's shard: a key already started is answered here (as its owner would), a new
  // one goes to the owner.
  const bool held = holds(store_->held_shards(), shard);

  if (!business_key.empty()) {
    auto key = pending_key(def->name, business_key);
    auto answer_existing = [&](const std::string& id, const std::string& hash, int v,
                               const nlohmann::json& input) {
      if (hash != input_hash) check_same_input(*def, id, business_key, input, request.input);
      return StartResult{id, v, false};
    };
    if (auto it = pending_keys_.find(key); held && it != pending_keys_.end()) {
      // Answered with the batch that carries the first start.
      const auto& first = it->second;
      return answer_existing(first.instance_id, first.input_hash, first.version, first.input);
    }
    std::optional<InstanceRow> existing;
    {
      std::lock_guard lock(store_mu_);
      existing = store_->find_by_business_key(def->name, business_key);
    }
    if (existing) {
      return answer_existing(existing->id, existing->input_hash, existing->version,
                             stored_input(*existing));
    }
  }
  if (!held) throw RoutedElsewhere("", shard);
  if (id.empty()) check_room(request.workflow, input_text.size());

  Instance& inst = create_instance(id.empty() ? ids_.next(clock_->now(), shard) : id, def,
                                   std::move(request.input), input_text.size(), business_key,
                                   input_hash, request.correlation_id);
  StartResult result{inst.row.id, def->version, true};
  auto marked = processing(inst.row.id);
  machine_.begin(inst);
  settle(inst);
  return result;
}

void EngineImpl::check_room(const std::string& workflow, std::size_t input_bytes) {
  if (options_.max_running > 0 && held_.size() >= options_.max_running) {
    ++starts_refused_;
    throw Error(Errc::busy,
                fmt::format("the engine runs as many instances at once as it may ({}); start "
                            "{} again shortly",
                            options_.max_running, workflow));
  }
  if (options_.max_running_bytes > 0 && held_.size() > 0 &&
      held_.bytes() + input_bytes > options_.max_running_bytes) {
    ++starts_refused_;
    throw Error(Errc::busy,
                fmt::format("the instances the engine runs at once hold as many bytes as they "
                            "may ({} bytes; {} with this input of {}); start {} again shortly",
                            options_.max_running_bytes, held_.bytes() + input_bytes, input_bytes,
                            workflow));
  }
}

Instance& EngineImpl::create_instance(std::string id, std::shared_ptr<const Definition> def,
                                      nlohmann::json input, std::size_t input_bytes,
                                      std::string business_key, std::string input_hash,
                                      std::string correlation_id) {
  auto now = clock_->now();
  auto inst = std::make_unique<Instance>();
  auto& row = inst->row;
  row.id = std::move(id);
  row.workflow = def->name;
  row.version = def->version;
  row.status = InstanceStatus::running;
  row.business_key = std::move(business_key);
  row.correlation_id = correlation_id.empty() ? row.id : std::move(correlation_id);
  row.input_hash = std::move(input_hash);
  row.created_at = now;
  row.updated_at = now;
  row.context = {{"input", std::move(input)},
                 {"instance",
                  {{"id", row.id},
                   {"workflow", row.workflow},
                   {"version", row.version},
                   {"business_key", row.business_key},
                   {"correlation_id", row.correlation_id},
                   {"started_at", format_time(now)}}}};
  inst->cursors.push_back(LiveCursor{});  // the main line; begin() enters the start step
  inst->definition = std::move(def);

  Instance& ref = held_.hold(std::move(inst), input_bytes);
  if (!ref.row.business_key.empty()) {
    auto key = pending_key(ref.row.workflow, ref.row.business_key);
    pending_keys_[key] =
        PendingKey{ref.row.id, ref.row.input_hash, ref.row.version, ref.row.context->at("input")};
    batch().then([this, key] { pending_keys_.erase(key); });
  }
  return ref;
}

}  // namespace rmaflow
