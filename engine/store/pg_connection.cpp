#include "engine/store/pg_connection.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <array>
#include <charconv>

namespace rmaflow::store {

std::string one_line(std::string_view text) {
  std::string out;
  for (char ch : text) {
    bool space = ch == '\n' || ch == '\t' || ch == '\r' || ch == ' ';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : ch;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

namespace {

// libpq prints the server's notices (NOTICE: ... skipping) to stderr by default.
void ignore_notice(void*, const char*) {}

// Leaves out every `password=...` parameter of a URI's query string.
std::string without_password_parameter(std::string_view query) {
  std::string out;
  std::size_t start = 0;
  while (start <= query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    auto part = query.substr(start, end - start);
    if (part.substr(0, part.find('=')) != "password") {
      if (!out.empty()) out += '&';
      out += part;
    }
    start = end + 1;
  }
  return out;
}

// A key/value connection string ("host=db password=secret") rebuilt from what libpq reads in
// it, without the password.
std::string without_password_option(const std::string& conninfo) {
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), nullptr);
  if (options == nullptr) return "a malformed PostgreSQL connection string";
  std::string out;
  for (auto* option = options; option->keyword != nullptr; ++option) {
    if (option->val == nullptr || std::string_view(option->keyword) == "password") continue;
    out += fmt::format("{}{}={}", out.empty() ? "" : " ", option->keyword, option->val);
  }
  PQconninfoFree(options);
  return out;
}

}  // namespace

std::string redact_password(std::string_view uri) {
  auto scheme_end = uri.find("://");
  if (scheme_end == std::string_view::npos) return without_password_option(std::string(uri));
  std::size_t authority = scheme_end + 3;
  std::size_t authority_end = uri.find_first_of("/?#", authority);
  if (authority_end == std::string_view::npos) authority_end = uri.size();
  std::string out(uri.substr(0, authority));
  auto host_part = uri.substr(authority, authority_end - authority);
  if (auto at = host_part.rfind('@'); at != std::string_view::npos) {
    auto user = host_part.substr(0, at);
    out += user.substr(0, user.find(':'));
    out += host_part.substr(at);
  } else {
    out += host_part;
  }
  auto rest = uri.substr(authority_end);
  auto query = rest.find('?');
  out += rest.substr(0, query);
  if (query != std::string_view::npos) {
    auto kept = without_password_parameter(rest.substr(query + 1));
    if (!kept.empty()) out += "?" + kept;
  }
  return out;
}

PgParams& PgParams::add(std::string value) {
  values_.emplace_back(std::move(value));
  return *this;
}

PgParams& PgParams::add(std::int64_t value) {
  return add(std::to_string(value));
}

PgParams& PgParams::add(double value) {
  // The shortest text that reads back as the same double.
  return add(fmt::format("{}", value));
}

PgParams& PgParams::add(const std::optional<TimePoint>& at) {
  return at ? add(*at) : add_null();
}

PgParams& PgParams::add_null() {
  values_.emplace_back(std::nullopt);
  return *this;
}

std::vector<const char*> PgParams::pointers() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (const auto& value : values_) out.push_back(value ? value->c_str() : nullptr);
  return out;
}

void PgResult::Clear::operator()(pg_result* result) const {
  PQclear(result);
}

PgResult::PgResult(pg_result* result) : result_(result) {}

int PgResult::rows() const {
  return PQntuples(result_.get());
}

bool PgResult::is_null(int row, int column) const {
  return PQgetisnull(result_.get(), row, column) != 0;
}

std::string PgResult::text(int row, int column) const {
  return std::string(PQgetvalue(result_.get(), row, column),
                     static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

std::int64_t PgResult::int64(int row, int column) const {
  const char* value = PQgetvalue(result_.get(), row, column);
  const char* end = value + PQgetlength(result_.get(), row, column);
  std::int64_t out = 0;
  auto [at, error] = std::from_chars(value, end, out);
  if (error != std::errc() || at != end) {
    throw PgFailure(fmt::format("column {} holds \"{}\", not an integer", column, value), "");
  }
  return out;
}

double PgResult::real(int row, int column) const {
  const char* value = PQgetvalue(result_.get(), row, column);
  const char* end = value + PQgetlength(result_.get(), row, column);
  double out = 0;
  auto [at, error] = std::from_chars(value, end, out);
  if (error != std::errc() || at != end) {
    throw PgFailure(fmt::format("column {} holds \"{}\", not a number", column, value), "");
  }
  return out;
}

std::optional<TimePoint> PgResult::optional_time(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return time(row, column);
}

std::int64_t PgResult::affected() const {
  std::string_view count = PQcmdTuples(result_.get());
  std::int64_t out = 0;
  std::from_chars(count.data(), count.data() + count.size(), out);
  return out;
}

PgConnection::PgConnection(const std::string& uri, std::function<void(PgConnection&)> on_connect)
    : display_(redact_password(uri)), on_connect_(std::move(on_connect)) {
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(uri.c_str(), &parse_error);
  if (parsed == nullptr) {
    std::string reason = parse_error != nullptr ? one_line(parse_error) : "out of memory";
    PQfreemem(parse_error);
    throw Error(Errc::invalid_argument,
                fmt::format("{} is not a PostgreSQL connection URI ({})", display_, reason));
  }
  PQconninfoFree(parsed);
  // Later entries override earlier ones, and the URI (expanded from dbname) comes last: its own
  // connect_timeout or application_name wins.
  const std::array<const char*, 5> keys{"client_encoding", "fallback_application_name",
                                        "connect_timeout", "dbname", nullptr};
  const std::array<const char*, 5> values{"UTF8", "rmaflow", "10", uri.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    std::string reason = conn_ != nullptr ? one_line(PQerrorMessage(conn_)) : "out of memory";
    PQfinish(conn_);
    throw Error(Errc::storage, fmt::format("cannot connect to {} ({})", display_, reason));
  }
  PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
  try {
    if (on_connect_) on_connect_(*this);
  } catch (...) {
    PQfinish(conn_);
    throw;
  }
}

PgConnection::~PgConnection() {
  PQfinish(conn_);
}

void PgConnection::ensure_connected() {
  if (PQstatus(conn_) == CONNECTION_OK) return;
  if (in_transaction_) {
    throw PgFailure("the connection to the server was lost in the middle of a transaction", "");
  }
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) throw PgFailure(one_line(PQerrorMessage(conn_)), "");
  PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
  prepared_.clear();
  queries_.clear();
  if (on_connect_) on_connect_(*this);
}

PgFailure PgConnection::failure_of(pg_result* result) const {
  const char* primary =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  return PgFailure(one_line(primary != nullptr ? primary : PQerrorMessage(conn_)),
                   state != nullptr ? state : "");
}

PgResult PgConnection::check(pg_result* result) {
  PgResult out(result);
  auto status = PQresultStatus(result);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return out;
  throw failure_of(result);
}

PgResult PgConnection::exec(std::string_view sql, const PgParams& params) {
  ensure_connected();
  auto values = params.pointers();
  return check(PQexecParams(conn_, std::string(sql).c_str(), static_cast<int>(values.size()),
                            nullptr, values.data(), nullptr, nullptr, 0));
}

PgResult PgConnection::exec(const PgStatement& statement, const PgParams& params) {
  ensure_connected();
  if (!prepared_.contains(statement.name)) {
    check(PQprepare(conn_, statement.name, statement.sql.c_str(), 0, nullptr));
    prepared_.emplace(statement.name);
  }
  return exec_prepared(statement.name, params);
}

PgResult PgConnection::exec_prepared(const char* name, const PgParams& params) {
  auto values = params.pointers();
  return check(PQexecPrepared(conn_, name, static_cast<int>(values.size()), values.data(), nullptr,
                              nullptr, 0));
}

PgResult PgConnection::query(const std::string& sql, const PgParams& params) {
  ensure_connected();
  auto found = queries_.find(sql);
  if (found == queries_.end()) {
    if (queries_.size() >= kMaxQueries) {
      // Forgotten whether or not the server drops them (it does not in a failed transaction,
      // which refuses every statement): a name is never used twice.
      for (const auto& [text, name] : queries_) {
        PgResult(PQexec(conn_, fmt::format("DEALLOCATE {}", name).c_str()));
      }
      queries_.clear();
    }
    // Named apart from the PgStatements' names, which are words.
    auto name = fmt::format("rmaflow_query_{}", ++next_query_);
    check(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr));
    found = queries_.emplace(sql, std::move(name)).first;
  }
  return exec_prepared(found->second.c_str(), params);
}

void PgConnection::exec_script(const std::string& sql) {
  ensure_connected();
  check(PQexec(conn_, sql.c_str()));
}

PgTransaction::PgTransaction(PgConnection& connection, const char* begin)
    : connection_(connection) {
  connection_.exec_script(begin);
  connection_.in_transaction_ = true;
}

PgTransaction::~PgTransaction() {
  if (!open_) return;
  connection_.in_transaction_ = false;
  // A broken connection has lost the transaction already; there is nothing to undo.
  if (PQstatus(connection_.conn_) == CONNECTION_OK) PQclear(PQexec(connection_.conn_, "ROLLBACK"));
}

void PgTransaction::commit() {
  connection_.exec_script("COMMIT");
  connection_.in_transaction_ = false;
  open_ = false;
}

}  // namespace rmaflow::store
