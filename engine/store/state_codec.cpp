#include "engine/store/state_codec.hpp"

#include <fmt/format.h>

#include "rmaflow/errors.hpp"

namespace rmaflow::store {

namespace {

using nlohmann::json;

// A document that does not have the shape this codec writes.
struct Corrupt {
  std::string what;
};

const json& member(const json& j, const char* key) {
  static const json kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string text(const json& j, const char* key) {
  const json& v = member(j, key);
  if (v.is_null()) return {};
  if (!v.is_string()) throw Corrupt{fmt::format("\"{}\" is not a string", key)};
  return v.get<std::string>();
}

std::int64_t integer(const json& j, const char* key) {
  const json& v = member(j, key);
  if (v.is_null()) return 0;
  if (!v.is_number_integer()) throw Corrupt{fmt::format("\"{}\" is not an integer", key)};
  return v.get<std::int64_t>();
}

bool flag(const json& j, const char* key) {
  const json& v = member(j, key);
  if (v.is_null()) return false;
  if (!v.is_boolean()) throw Corrupt{fmt::format("\"{}\" is not true or false", key)};
  return v.get<bool>();
}

const json& object(const json& j, const char* key) {
  const json& v = member(j, key);
  if (!v.is_null() && !v.is_object()) throw Corrupt{fmt::format("\"{}\" is not an object", key)};
  return v;
}

TimePoint time_of(const json& j, const char* key) {
  auto t = parse_time(text(j, key));
  if (!t) throw Corrupt{fmt::format("\"{}\" is not a time", key)};
  return *t;
}

// Parses `text` as a JSON document of the expected type, or throws Error(storage).
template <class Decode>
auto decode(std::string_view stored, const std::string& instance_id, const char* column,
            json::value_t type, Decode fn) {
  json j = json::parse(stored, nullptr, /*allow_exceptions=*/false);
  try {
    if (j.is_discarded()) throw Corrupt{"it is not valid JSON"};
    if (j.type() != type) throw Corrupt{fmt::format("it is {}, not {}", j.type_name(),
                                                    json(type).type_name())};
    return fn(j);
  } catch (const Corrupt& c) {
    throw Error(Errc::storage, fmt::format("instance {} has a corrupt {} column: {}", instance_id,
                                           column, c.what));
  } catch (const json::exception& e) {
    throw Error(Errc::storage, fmt::format("instance {} has a corrupt {} column: {}", instance_id,
                                           column, e.what()));
  }
}

FailureOrigin origin_of(const std::string& name) {
  for (auto o : {FailureOrigin::adapter, FailureOrigin::engine, FailureOrigin::branch,
                 FailureOrigin::child})
    if (to_string(o) == name) return o;
  return FailureOrigin::adapter;
}

Failure read_failure(const json& j) {
  if (!j.is_object()) throw Corrupt{"an error is not an object"};
  return Failure{text(j, "code"), text(j, "message"), flag(j, "retryable"),
                 origin_of(text(j, "origin"))};
}

Incident read_incident(const json& j) {
  if (!j.is_object()) throw Corrupt{"an incident is not an object"};
  Incident i;
  i.step = text(j, "step");
  i.error = read_failure(member(j, "error"));
  i.attempts = static_cast<int>(integer(j, "attempts"));
  i.opened_at = time_of(j, "opened_at");
  i.compensating = flag(j, "compensating");
  return i;
}

json cursor_json(const Cursor& c) {
  json j = json::object();
  if (!c.branch.empty()) j["branch"] = c.branch;
  if (c.index != 0) j["index"] = c.index;
  j["step"] = c.step;
  j["phase"] = static_cast<int>(c.phase);
  if (c.attempt != 0) j["attempt"] = c.attempt;
  if (c.deadline) j["deadline"] = to_millis(*c.deadline);
  if (!c.input.is_null()) j["input"] = c.input;
  if (!c.scope.is_null()) j["scope"] = c.scope;
  if (c.incident) j["incident"] = incident_json(*c.incident);
  if (c.compensation) {
    j["compensation"] = {{"then", c.compensation->then},
                         {"reason", c.compensation->reason},
                         {"from_step", c.compensation->from_step}};
  }
  if (!c.match.is_null()) j["match"] = c.match;
  if (!c.child.empty()) j["child"] = c.child;
  if (!c.label.empty()) j["label"] = c.label;
  if (!c.output.is_null()) j["output"] = c.output;
  if (c.pivot) j["pivot"] = true;
  return j;
}

Cursor cursor_from_json(const json& j) {
  if (!j.is_object()) throw Corrupt{"a cursor is not an object"};
  Cursor c;
  c.branch = text(j, "branch");
  c.index = static_cast<int>(integer(j, "index"));
  c.step = text(j, "step");
  auto phase = integer(j, "phase");
  if (phase < 0 || phase > static_cast<int>(Phase::ended)) throw Corrupt{"unknown phase"};
  c.phase = static_cast<Phase>(phase);
  c.attempt = static_cast<int>(integer(j, "attempt"));
  if (!member(j, "deadline").is_null()) c.deadline = from_millis(integer(j, "deadline"));
  c.input = member(j, "input");
  c.scope = member(j, "scope");
  if (const json& i = object(j, "incident"); !i.is_null()) c.incident = read_incident(i);
  if (const json& r = object(j, "compensation"); !r.is_null()) {
    c.compensation = CompensationRun{text(r, "then"), text(r, "reason"), text(r, "from_step")};
  }
  c.match = member(j, "match");
  c.child = text(j, "child");
  c.label = text(j, "label");
  c.output = member(j, "output");
  c.pivot = flag(j, "pivot");
  return c;
}

}  // namespace

json failure_json(const Failure& f) {
  return {{"code", f.code},
          {"message", f.message},
          {"retryable", f.retryable},
          {"origin", std::string(to_string(f.origin))}};
}

Failure failure_from_json(const json& j) {
  try {
    return read_failure(j);
  } catch (const Corrupt& c) {
    throw Error(Errc::storage, fmt::format("an error is corrupt: {}", c.what));
  }
}

json incident_json(const Incident& i) {
  json j = {{"step", i.step},
            {"error", failure_json(i.error)},
            {"attempts", i.attempts},
            {"opened_at", format_time(i.opened_at)}};
  if (i.compensating) j["compensating"] = true;
  return j;
}

Incident incident_from_json(const json& j) {
  try {
    return read_incident(j);
  } catch (const Corrupt& c) {
    throw Error(Errc::storage, fmt::format("an incident is corrupt: {}", c.what));
  }
}

std::string encode_cursors(const std::vector<Cursor>& cursors) {
  json j = json::array();
  for (const auto& c : cursors) j.push_back(cursor_json(c));
  return j.dump();
}

std::vector<Cursor> decode_cursors(std::string_view stored, const std::string& instance_id) {
  return decode(stored, instance_id, "cursors", json::value_t::array, [](const json& j) {
    std::vector<Cursor> out;
    out.reserve(j.size());
    for (const auto& c : j) out.push_back(cursor_from_json(c));
    return out;
  });
}

std::string encode_saga(const Saga& saga) {
  json done = json::array();
  for (const auto& e : saga.done) {
    json entry = {{"step", e.step}, {"visit", e.visit}, {"input", e.input}};
    if (!e.branch.empty()) entry["branch"] = e.branch;
    if (!e.render_error.empty()) entry["render_error"] = e.render_error;
    if (!e.child.empty()) entry["child"] = e.child;
    if (e.outcome_unknown) entry["outcome_unknown"] = true;
    done.push_back(std::move(entry));
  }
  json j = {{"done", std::move(done)}};
  if (saga.pivot) j["pivot"] = true;
  return j.dump();
}

Saga decode_saga(std::string_view stored, const std::string& instance_id) {
  return decode(stored, instance_id, "saga", json::value_t::object, [](const json& j) {
    Saga saga;
    saga.pivot = flag(j, "pivot");
    const json& done = member(j, "done");
    if (!done.is_null() && !done.is_array()) throw Corrupt{"\"done\" is not a list"};
    if (done.is_array()) {
      for (const auto& e : done) {
        if (!e.is_object()) throw Corrupt{"an entry of \"done\" is not an object"};
        SagaEntry entry;
        entry.step = text(e, "step");
        entry.branch = text(e, "branch");
        entry.visit = static_cast<int>(integer(e, "visit"));
        entry.input = member(e, "input");
        entry.render_error = text(e, "render_error");
        entry.child = text(e, "child");
        entry.outcome_unknown = flag(e, "outcome_unknown");
        saga.done.push_back(std::move(entry));
      }
    }
    return saga;
  });
}

std::string encode_visits(const std::map<std::string, int>& visits) {
  json j = json::object();
  for (const auto& [step, count] : visits) j[step] = count;
  return j.dump();
}

std::map<std::string, int> decode_visits(std::string_view stored, const std::string& instance_id) {
  return decode(stored, instance_id, "visits", json::value_t::object, [](const json& j) {
    std::map<std::string, int> out;
    for (const auto& [step, count] : j.items()) {
      if (!count.is_number_integer()) throw Corrupt{fmt::format("visits of {} is not a count", step)};
      out.emplace(step, count.get<int>());
    }
    return out;
  });
}

}  // namespace rmaflow::store
