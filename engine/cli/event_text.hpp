// An instance's history as people read it: one short sentence per event, from the event's own
// data (so a history read from a server reads the same as one from a database).
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace rmaflow::cli {

// What an event (as api::event_json gives it: {seq, at, type, step, data}) says: "attempt 2
// failed: Transient: carrier down", "retry by ops: ERP is back (suspended at credit_memo ->
// running at credit_memo)". An event type it does not know is shown as its data.
std::string event_summary(const nlohmann::json& event);

// The value at `key` as text: a string as it is, anything else as JSON; "" when absent or null.
std::string json_text(const nlohmann::json& object, const char* key);

// `line` cut to `width` bytes (at a character boundary, ending in "..."); 0: not cut.
std::string fit(const std::string& line, std::size_t width);

// The width of the terminal on standard output; else $COLUMNS; else 120.
std::size_t terminal_width();

}  // namespace rmaflow::cli
