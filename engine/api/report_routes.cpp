// What the console reads besides instances and workflows: who the caller is, the overview of
// the database, and the audit trail of operator actions across instances.
#include <charconv>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "engine/api/api_context.hpp"
#include "engine/api/handlers.hpp"
#include "engine/api/overview.hpp"
#include "engine/api/problem.hpp"
#include "engine/api/views.hpp"

namespace rmaflow::api {

namespace {

// An audit cursor is "<ms>:<instance id>:<seq>", the position of a page's last entry.
std::string cursor_text(const EventRow& e) {
  return fmt::format("{}:{}:{}", to_millis(e.at), e.instance_id, e.seq);
}

AuditCursor parse_cursor(const std::string& text) {
  auto bad = [&] {
    bad_parameter("cursor", fmt::format("cursor must be a next_cursor this endpoint answered, not \"{}\"", text));
  };
  auto first = text.find(':');
  auto last = text.rfind(':');
  if (first == std::string::npos || last == first) bad();
  auto number = [&](std::string_view digits) {
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc() || end != digits.data() + digits.size() || n < 0) bad();
    return n;
  };
  std::string_view view = text;
  AuditCursor cursor;
  cursor.at = from_millis(number(view.substr(0, first)));
  cursor.instance_id = text.substr(first + 1, last - first - 1);
  cursor.seq = number(view.substr(last + 1));
  if (cursor.instance_id.empty()) bad();
  return cursor;
}

}  // namespace

void get_me(ApiContext&, ApiRequest& request, const Answer& answer) {
  request.query.finish();
  auto may = nlohmann::json::object();
  for (auto p : {Permission::read, Permission::act, Permission::signal, Permission::start,
                 Permission::deploy}) {
    may[std::string(to_string(p))] = role_may(request.principal.role, p);
  }
  answer(json_response(200, {{"name", request.principal.name},
                             {"role", to_string(request.principal.role)},
                             {"may", may}}));
}

void get_overview(ApiContext& context, ApiRequest& request, const Answer& answer) {
  request.query.finish();
  nlohmann::json out;
  {
    auto store = context.reads.get();
    out = overview(*store, system_clock()->now(), context.definitions);
  }
  answer(json_response(200, out));
}

void get_audit(ApiContext& context, ApiRequest& request, const Answer& answer) {
  auto& query = request.query;
  AuditFilter filter;
  filter.actor = query.text("actor").value_or("");
  filter.action = query.text("action").value_or("");
  if (!filter.action.empty() && !parse_action_kind(filter.action)) {
    bad_parameter("action", fmt::format("unknown action \"{}\" (retry, skip, goto, cancel, patch, "
                                        "resolve, migrate)",
                                        filter.action));
  }
  filter.instance_id = query.text("instance").value_or("");
  filter.from = query.time("after");
  filter.before = query.time("before");
  if (auto cursor = query.text("cursor")) filter.older_than = parse_cursor(*cursor);
  auto limit = static_cast<std::size_t>(
      query.integer("limit", 1, static_cast<std::int64_t>(context.max_page)).value_or(100));
  query.finish();
  filter.limit = limit + 1;  // one more than answered tells whether a next page exists

  auto items = nlohmann::json::array();
  nlohmann::json next;
  {
    auto store = context.reads.get();
    auto events = store->audit_trail(filter);
    if (events.size() > limit) {
      events.resize(limit);
      next = cursor_text(events.back());
    }
    std::map<std::string, std::optional<InstanceRow>> instances;  // each read once per page
    for (const auto& e : events) {
      auto [it, fresh] = instances.try_emplace(e.instance_id);
      if (fresh) it->second = store->get_instance(e.instance_id);
      items.push_back(audit_entry_json(e, it->second ? &*it->second : nullptr));
    }
  }
  answer(json_response(200, {{"items", items}, {"next_cursor", next}}));
}

}  // namespace rmaflow::api
