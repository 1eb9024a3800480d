#include "engine/observe/log.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>

#include <fmt/format.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "rmaflow/time.hpp"

namespace rmaflow::observe {

namespace {

std::atomic<LogLevel> g_level{LogLevel::info};
std::atomic<LogFormat> g_format{LogFormat::text};

// spdlog writes whole lines under its sink's lock and flushes each; the line is ours already.
spdlog::logger& sink() {
  static auto logger = [] {
    auto l = std::make_shared<spdlog::logger>("rmaflow",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%v");
    l->set_level(spdlog::level::trace);
    return l;
  }();
  return *logger;
}

spdlog::level::level_enum spdlog_level(LogLevel level) {
  switch (level) {
    case LogLevel::trace: return spdlog::level::trace;
    case LogLevel::debug: return spdlog::level::debug;
    case LogLevel::info: return spdlog::level::info;
    case LogLevel::warn: return spdlog::level::warn;
    case LogLevel::error: return spdlog::level::err;
    case LogLevel::off: break;
  }
  return spdlog::level::off;
}

// A text value is quoted when it would not read back as one word.
void append_text_value(std::string& out, const nlohmann::json& value) {
  if (!value.is_string()) {
    out += value.dump();
    return;
  }
  const auto& s = value.get_ref<const std::string&>();
  // Spaces, quotes, '=', backslashes and control characters would let a value forge fields
  // or lines; such a value is written as a JSON string.
  bool plain = !s.empty() && std::none_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f;
  });
  out += plain ? s : nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::trace: return "trace";
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
    case LogLevel::off: return "off";
  }
  return "off";
}

std::optional<LogLevel> parse_log_level(std::string_view text) {
  for (auto level : {LogLevel::trace, LogLevel::debug, LogLevel::info, LogLevel::warn,
                     LogLevel::error, LogLevel::off}) {
    if (text == to_string(level)) return level;
  }
  return std::nullopt;
}

std::optional<LogFormat> parse_log_format(std::string_view text) {
  if (text == "text") return LogFormat::text;
  if (text == "json") return LogFormat::json;
  return std::nullopt;
}

void configure_log(LogFormat format, LogLevel level) {
  g_format = format;
  g_level = level;
}

void set_log_level(LogLevel level) { g_level = level; }

LogLevel log_level() { return g_level.load(std::memory_order_relaxed); }

std::string format_log_line(LogFormat format, std::string_view time, LogLevel level,
                            std::string_view message, const nlohmann::json& fields) {
  if (format == LogFormat::json) {
    // nlohmann's object sorts its keys; the line keeps time, level and msg first.
    std::string out = fmt::format(R"({{"time":"{}","level":"{}","msg":{})", time, to_string(level),
                                  nlohmann::json(std::string(message))
                                      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    for (const auto& [key, value] : fields.items()) {
      out += fmt::format(",{}:{}", nlohmann::json(key).dump(),
                         value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    out += '}';
    return out;
  }
  std::string out = fmt::format("{} {:<5} {}", time, to_string(level), message);
  for (const auto& [key, value] : fields.items()) {
    out += fmt::format(" {}=", key);
    append_text_value(out, value);
  }
  return out;
}

void write_log(LogLevel level, std::string_view message, const nlohmann::json& fields) {
  if (level == LogLevel::off) return;
  auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  auto line = format_log_line(g_format.load(std::memory_order_relaxed), format_time(now), level,
                              message, fields);
  sink().log(spdlog_level(level), "{}", line);
}

}  // namespace rmaflow::observe
