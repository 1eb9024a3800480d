// The process's structured log: one line per record, as JSON (one object per line, for a log
// shipper) or as text (for a terminal). Every record has a time, a level and a message; records
// about an instance also carry its ids (instance, workflow, step, branch, correlation and trace
// id) so that a search for one RMA finds all of its lines.
//
// The level is process-wide and may change while the process runs (set_level()); records below
// it cost a relaxed atomic load. Lines go to standard error through spdlog, whole lines at a
// time, from any thread.
//
// Thread-safety: every function may be called from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace rmaflow::observe {

enum class LogLevel { trace = 0, debug = 1, info = 2, warn = 3, error = 4, off = 5 };
enum class LogFormat { text, json };

std::string_view to_string(LogLevel level);
std::optional<LogLevel> parse_log_level(std::string_view text);
std::optional<LogFormat> parse_log_format(std::string_view text);

// Sets the format and the level (both may be set again later).
void configure_log(LogFormat format, LogLevel level);
void set_log_level(LogLevel level);
LogLevel log_level();
inline bool log_enabled(LogLevel level) { return level >= log_level() && level != LogLevel::off; }

// Writes a record whatever the level (the caller decided it is wanted: log() checks first, a
// transition selected for one workflow is written below the level). `fields` is a JSON object
// of strings, numbers and booleans; its keys follow time, level and msg in that order.
void write_log(LogLevel level, std::string_view message, const nlohmann::json& fields);

inline void log(LogLevel level, std::string_view message,
                const nlohmann::json& fields = nlohmann::json::object()) {
  if (log_enabled(level)) write_log(level, message, fields);
}

// The line as it is written, without its newline (for tests and for write_log).
std::string format_log_line(LogFormat format, std::string_view time, LogLevel level,
                            std::string_view message, const nlohmann::json& fields);

}  // namespace rmaflow::observe
