#include "engine/store/state_codec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <optional>
#include <string_view>

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

// A member's value checked for its type, null meaning the type's default. `take_text` moves
// the text out.
std::string take_text(json& v, std::string_view key) {
  if (v.is_null()) return {};
  if (!v.is_string()) throw Corrupt{fmt::format("\"{}\" is not a string", key)};
  return std::move(*v.get_ptr<std::string*>());
}

std::int64_t integer_value(const json& v, std::string_view key) {
  if (v.is_null()) return 0;
  if (!v.is_number_integer()) throw Corrupt{fmt::format("\"{}\" is not an integer", key)};
  return v.get<std::int64_t>();
}

bool flag_value(const json& v, std::string_view key) {
  if (v.is_null()) return false;
  if (!v.is_boolean()) throw Corrupt{fmt::format("\"{}\" is not true or false", key)};
  return v.get<bool>();
}

std::string text(const json& j, const char* key) {
  json v = member(j, key);
  return take_text(v, key);
}

std::int64_t integer(const json& j, const char* key) {
  return integer_value(member(j, key), key);
}

bool flag(const json& j, const char* key) {
  return flag_value(member(j, key), key);
}

TimePoint time_of(const json& j, const char* key) {
  auto t = parse_time(text(j, key));
  if (!t) throw Corrupt{fmt::format("\"{}\" is not a time", key)};
  return *t;
}

// Parses `text` as a JSON document of the expected type and hands it to `fn`, which may move
// values out of it; or throws Error(storage).
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
  i.team = text(j, "team");
  if (!member(j, "due_at").is_null()) i.due_at = time_of(j, "due_at");
  return i;
}

// Writes one JSON object as text, member by member, without building a document first: the
// instance's state is encoded at every commit, and copying its values into a tree only to
// serialize them was most of the codec's cost. Keys are this codec's own names.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) { out_ += '{'; }
  ~ObjectWriter() { out_ += '}'; }
  ObjectWriter(const ObjectWriter&) = delete;
  ObjectWriter& operator=(const ObjectWriter&) = delete;

  void add(std::string_view key, std::string_view text) {
    name(key);
    string(out_, text);
  }
  void add(std::string_view key, const std::string& text) { add(key, std::string_view(text)); }
  void add(std::string_view key, std::int64_t number) {
    name(key);
    out_ += std::to_string(number);
  }
  void add(std::string_view key, bool value) {
    name(key);
    out_ += value ? "true" : "false";
  }
  void add(std::string_view key, const json& value) {
    name(key);
    out_ += value.dump();
  }
  // The member `key` holding an object the caller writes next (with a writer of its own).
  void open(std::string_view key) { name(key); }

  // `text` as a JSON string; plain text (the usual step names and keys) is copied as it is.
  static void string(std::string& out, std::string_view text) {
    bool plain = std::all_of(text.begin(), text.end(), [](char ch) {
      auto u = static_cast<unsigned char>(ch);
      return u >= 0x20 && u < 0x7f && ch != '"' && ch != '\\';
    });
    if (plain) {
      out += '"';
      out += text;
      out += '"';
    } else {
      out += json(std::string(text)).dump();
    }
  }

 private:
  void name(std::string_view key) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += key;
    out_ += "\":";
  }
  std::string& out_;
  bool first_ = true;
};

void write_cursor(std::string& out, const Cursor& c) {
  ObjectWriter w(out);
  if (!c.branch.empty()) w.add("branch", c.branch);
  if (c.index != 0) w.add("index", std::int64_t{c.index});
  w.add("step", c.step);
  w.add("phase", std::int64_t{static_cast<int>(c.phase)});
  if (c.attempt != 0) w.add("attempt", std::int64_t{c.attempt});
  if (c.deadline) w.add("deadline", std::int64_t{to_millis(*c.deadline)});
  if (!c.input.is_null()) w.add("input", c.input);
  if (!c.scope->is_null()) w.add("scope", c.scope.get());
  if (c.incident) w.add("incident", incident_json(*c.incident));
  if (c.compensation) {
    w.open("compensation");
    ObjectWriter r(out);
    r.add("then", c.compensation->then);
    r.add("reason", c.compensation->reason);
    r.add("from_step", c.compensation->from_step);
  }
  if (!c.match.is_null()) w.add("match", c.match);
  if (!c.child.empty()) w.add("child", c.child);
  if (!c.label.empty()) w.add("label", c.label);
  if (!c.output.is_null()) w.add("output", c.output);
  if (c.pivot) w.add("pivot", true);
}

// Whether two JSON values are written as the same text: nlohmann's == takes 1 and 1.0, or 0.0
// and -0.0, for equal, but they are written apart. Unsigned and signed integers count as apart
// (they are written alike, so that costs at most a text encoded again).
bool written_alike(const json& a, const json& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case json::value_t::object: {
      const auto& x = *a.get_ptr<const json::object_t*>();
      const auto& y = *b.get_ptr<const json::object_t*>();
      return x.size() == y.size() &&
             std::equal(x.begin(), x.end(), y.begin(), [](const auto& l, const auto& r) {
               return l.first == r.first && written_alike(l.second, r.second);
             });
    }
    case json::value_t::array: {
      const auto& x = *a.get_ptr<const json::array_t*>();
      const auto& y = *b.get_ptr<const json::array_t*>();
      return std::equal(x.begin(), x.end(), y.begin(), y.end(),
                        [](const json& l, const json& r) { return written_alike(l, r); });
    }
    case json::value_t::number_float:
      return std::bit_cast<std::uint64_t>(a.get<double>()) ==
             std::bit_cast<std::uint64_t>(b.get<double>());
    default:
      return a == b;  // null, boolean, string, integers, binary: equal means written alike
  }
}

// Every field of the two, here and below. Each structured binding names every field of its
// type: a field added to a Cursor, an Incident, a Failure or a CompensationRun stops this
// compiling until it is compared too.
bool written_alike(const Failure& a, const Failure& b) {
  const auto& [code, message, retryable, origin] = a;
  return code == b.code && message == b.message && retryable == b.retryable && origin == b.origin;
}

bool written_alike(const Incident& a, const Incident& b) {
  const auto& [step, error, attempts, opened_at, compensating, team, due_at] = a;
  return step == b.step && written_alike(error, b.error) && attempts == b.attempts &&
         opened_at == b.opened_at && compensating == b.compensating && team == b.team &&
         due_at == b.due_at;
}

bool written_alike(const CompensationRun& a, const CompensationRun& b) {
  const auto& [then, reason, from_step] = a;
  return then == b.then && reason == b.reason && from_step == b.from_step;
}

template <typename T>
bool written_alike(const std::optional<T>& a, const std::optional<T>& b) {
  return a.has_value() == b.has_value() && (!a || written_alike(*a, *b));
}

bool written_alike(const SagaEntry& a, const SagaEntry& b) {
  const auto& [step, branch, visit, input, render_error, child, outcome_unknown] = a;
  return visit == b.visit && outcome_unknown == b.outcome_unknown && step == b.step &&
         branch == b.branch && render_error == b.render_error && child == b.child &&
         written_alike(input, b.input);
}

bool written_alike(const Cursor& a, const Cursor& b) {
  const auto& [branch, index, step, phase, attempt, deadline, input, scope, incident, compensation,
               match, child, label, output, pivot] = a;
  if (index != b.index || phase != b.phase || attempt != b.attempt || pivot != b.pivot ||
      deadline != b.deadline || branch != b.branch || step != b.step || child != b.child ||
      label != b.label) {
    return false;
  }
  return written_alike(incident, b.incident) && written_alike(compensation, b.compensation) &&
         written_alike(match, b.match) && written_alike(output, b.output) &&
         written_alike(input, b.input) &&
         (scope.shares(b.scope) || written_alike(scope.get(), b.scope.get()));
}

// A cursor's members, each visited once and its values taken out of the document (its input
// and scope hold a whole line of a return): looking each field up and copying its value took
// half of the decoder's time.
Cursor take_cursor(json& j) {
  if (!j.is_object()) throw Corrupt{"a cursor is not an object"};
  Cursor c;
  for (auto& [key, v] : *j.get_ptr<json::object_t*>()) {
    if (key == "branch") {
      c.branch = take_text(v, key);
    } else if (key == "index") {
      c.index = static_cast<int>(integer_value(v, key));
    } else if (key == "step") {
      c.step = take_text(v, key);
    } else if (key == "phase") {
      auto phase = integer_value(v, key);
      if (phase < 0 || phase > static_cast<int>(Phase::held)) throw Corrupt{"unknown phase"};
      c.phase = static_cast<Phase>(phase);
    } else if (key == "attempt") {
      c.attempt = static_cast<int>(integer_value(v, key));
    } else if (key == "deadline") {
      if (!v.is_null()) c.deadline = from_millis(integer_value(v, key));
    } else if (key == "input") {
      c.input = std::move(v);
    } else if (key == "scope") {
      c.scope = std::move(v);
    } else if (key == "incident") {
      if (v.is_null()) continue;
      if (!v.is_object()) throw Corrupt{"\"incident\" is not an object"};
      c.incident = read_incident(v);
    } else if (key == "compensation") {
      if (v.is_null()) continue;
      if (!v.is_object()) throw Corrupt{"\"compensation\" is not an object"};
      c.compensation = CompensationRun{text(v, "then"), text(v, "reason"), text(v, "from_step")};
    } else if (key == "match") {
      c.match = std::move(v);
    } else if (key == "child") {
      c.child = take_text(v, key);
    } else if (key == "label") {
      c.label = take_text(v, key);
    } else if (key == "output") {
      c.output = std::move(v);
    } else if (key == "pivot") {
      c.pivot = flag_value(v, key);
    }
  }
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
  if (!i.team.empty()) j["team"] = i.team;
  if (i.due_at) j["due_at"] = format_time(*i.due_at);
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
  std::string out = "[";
  for (const auto& c : cursors) {
    if (out.size() > 1) out += ',';
    write_cursor(out, c);
  }
  out += ']';
  return out;
}

namespace {

// Appends `value`'s text, kept or written afresh by `write` (and kept).
template <typename T, typename Write>
void append_kept(std::string& out, const T& value, KeptText<T>& kept, Write write) {
  if (kept.text.empty() || !written_alike(value, kept.as_written)) {
    kept.text.clear();
    write(kept.text, value);
    kept.as_written = value;
  }
  out += kept.text;
}

}  // namespace

void append_cursor(std::string& out, const Cursor& cursor, KeptCursorText& kept) {
  append_kept(out, cursor, kept, write_cursor);
}

std::vector<Cursor> decode_cursors(std::string_view stored, const std::string& instance_id) {
  return decode(stored, instance_id, "cursors", json::value_t::array, [](json& j) {
    std::vector<Cursor> out;
    out.reserve(j.size());
    for (auto& c : j) out.push_back(take_cursor(c));
    return out;
  });
}

namespace {

void write_saga_entry(std::string& out, const SagaEntry& e) {
  ObjectWriter entry(out);
  entry.add("step", e.step);
  entry.add("visit", std::int64_t{e.visit});
  entry.add("input", e.input);
  if (!e.branch.empty()) entry.add("branch", e.branch);
  if (!e.render_error.empty()) entry.add("render_error", e.render_error);
  if (!e.child.empty()) entry.add("child", e.child);
  if (e.outcome_unknown) entry.add("outcome_unknown", true);
}

// The saga's document, `append_entry(out, i)` writing its i-th entry.
template <typename AppendEntry>
std::string saga_document(const Saga& saga, AppendEntry append_entry) {
  std::string out;
  {
    ObjectWriter j(out);
    j.open("done");
    out += '[';
    for (std::size_t i = 0; i < saga.done.size(); ++i) {
      if (i > 0) out += ',';
      append_entry(out, i);
    }
    out += ']';
    if (saga.pivot) j.add("pivot", true);
  }
  return out;
}

}  // namespace

std::string encode_saga(const Saga& saga) {
  return saga_document(
      saga, [&](std::string& out, std::size_t i) { write_saga_entry(out, saga.done[i]); });
}

std::string encode_saga(const Saga& saga, KeptSagaText& kept) {
  kept.entries.resize(saga.done.size());
  return saga_document(saga, [&](std::string& out, std::size_t i) {
    append_kept(out, saga.done[i], kept.entries[i], write_saga_entry);
  });
}

Saga decode_saga(std::string_view stored, const std::string& instance_id) {
  return decode(stored, instance_id, "saga", json::value_t::object, [](json& j) {
    Saga saga;
    saga.pivot = flag(j, "pivot");
    json& done = j["done"];
    if (!done.is_null() && !done.is_array()) throw Corrupt{"\"done\" is not a list"};
    if (done.is_array()) {
      for (auto& e : done) {
        if (!e.is_object()) throw Corrupt{"an entry of \"done\" is not an object"};
        SagaEntry entry;
        entry.step = text(e, "step");
        entry.branch = text(e, "branch");
        entry.visit = static_cast<int>(integer(e, "visit"));
        if (auto it = e.find("input"); it != e.end()) entry.input = std::move(*it);
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
  std::string out = "{";
  for (const auto& [step, count] : visits) {
    if (out.size() > 1) out += ',';
    ObjectWriter::string(out, step);
    out += ':';
    out += std::to_string(count);
  }
  out += '}';
  return out;
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

EncodedInstance encode_instance(const InstanceRow& row) {
  if (const auto& done = row.encoded) {
    return EncodedInstance{EncodedText::the_rows(done->visits), EncodedText::the_rows(done->saga),
                           EncodedText::the_rows(done->cursors)};
  }
  return EncodedInstance{EncodedText(encode_visits(row.visits)), EncodedText(encode_saga(row.saga)),
                         EncodedText(encode_cursors(row.cursors))};
}

}  // namespace rmaflow::store
