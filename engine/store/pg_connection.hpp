// PgConnection: one libpq connection as the PostgreSQL store uses it. RAII over PGconn and
// PGresult, statements with parameters (text format, never spliced into SQL), statements
// prepared once per connection, and a transaction that rolls back unless committed.
//
// Failures throw PgFailure, which the store turns into rmaflow::Error at its boundary
// (pg_guard), naming the database as display() gives it: its URI without the password.
// A connection that broke (the server restarted, the network dropped) is re-established by
// the next statement outside a transaction, and its session set up again (on_connect).
// Thread-safety: one thread at a time, like the Store that owns it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rmaflow/errors.hpp"
#include "rmaflow/time.hpp"

extern "C" {
struct pg_conn;
struct pg_result;
}

namespace rmaflow::store {

// A failed statement: PostgreSQL's message (one line) and its SQLSTATE ("" when libpq failed
// before the server answered).
class PgFailure : public std::runtime_error {
 public:
  PgFailure(const std::string& message, std::string sqlstate)
      : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
  const std::string& sqlstate() const noexcept { return sqlstate_; }

 private:
  std::string sqlstate_;
};

// `uri` without its password (postgresql://user:secret@host/db -> postgresql://user@host/db,
// and a password=... query or key/value parameter left out): how messages name a database.
std::string redact_password(std::string_view uri);

// libpq's messages span lines ("...failed: Connection refused\n\tIs the server running...");
// an rmaflow message is one line.
std::string one_line(std::string_view text);

// A statement's parameters $1..$N in order, as text; nullopt is SQL NULL. Times are integer
// milliseconds, as the store keeps them.
class PgParams {
 public:
  PgParams& add(std::string value);
  PgParams& add(const char* value) { return add(std::string(value)); }
  PgParams& add(std::int64_t value);
  PgParams& add(int value) { return add(static_cast<std::int64_t>(value)); }
  PgParams& add(double value);
  PgParams& add(TimePoint at) { return add(to_millis(at)); }
  PgParams& add(const std::optional<TimePoint>& at);
  PgParams& add_null();

  std::size_t size() const { return values_.size(); }
  // Pointers into the values, for libpq; valid while this object is unchanged.
  std::vector<const char*> pointers() const;

 private:
  std::vector<std::optional<std::string>> values_;
};

// The rows of a statement's result, read as text and converted.
class PgResult {
 public:
  explicit PgResult(pg_result* result);
  int rows() const;
  bool is_null(int row, int column) const;
  std::string text(int row, int column) const;
  std::int64_t int64(int row, int column) const;
  int integer(int row, int column) const { return static_cast<int>(int64(row, column)); }
  double real(int row, int column) const;
  TimePoint time(int row, int column) const { return from_millis(int64(row, column)); }
  std::optional<TimePoint> optional_time(int row, int column) const;
  // Rows an INSERT, UPDATE or DELETE changed.
  std::int64_t affected() const;

 private:
  struct Clear {
    void operator()(pg_result* result) const;
  };
  std::unique_ptr<pg_result, Clear> result_;
};

// A statement prepared on first use on each connection, by name.
struct PgStatement {
  const char* name;
  std::string sql;
};

class PgConnection {
 public:
  // Connects to `uri` (a postgresql:// URI or libpq key/value string). Throws
  // Error(invalid_argument) when it is malformed and Error(storage) when the server cannot be
  // reached or refuses, with libpq's reason; `on_connect` sets the session up, on this first
  // connection and after every reconnection.
  PgConnection(const std::string& uri, std::function<void(PgConnection&)> on_connect);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // The URI without its password.
  const std::string& display() const { return display_; }

  PgResult exec(std::string_view sql, const PgParams& params = {});
  PgResult exec(const PgStatement& statement, const PgParams& params);
  // A read, prepared on this connection the first time its SQL comes, so that the server
  // parses it once; at most kMaxQueries are kept (past that they are all deallocated and
  // prepared again as they come). The server may then plan it once for any values (a generic
  // plan): only for reads whose best plan does not depend on their values, such as a lookup
  // by key. A filtered list (a rare status best walks its index, a common one the ids in
  // order) goes through exec(), which plans it for its values at each call.
  PgResult query(const std::string& sql, const PgParams& params = {});
  static constexpr std::size_t kMaxQueries = 64;
  bool in_transaction() const { return in_transaction_; }
  // Several statements without parameters (a migration's DDL).
  void exec_script(const std::string& sql);

 private:
  friend class PgTransaction;
  friend class PgPipeline;
  // Reconnects a broken connection; throws PgFailure inside a transaction, which is lost.
  void ensure_connected();
  // Runs the statement prepared on this connection as `name`.
  PgResult exec_prepared(const char* name, const PgParams& params);
  PgResult check(pg_result* result);
  PgFailure failure_of(pg_result* result) const;

  std::string display_;
  pg_conn* conn_ = nullptr;
  std::function<void(PgConnection&)> on_connect_;
  std::set<std::string, std::less<>> prepared_;
  std::unordered_map<std::string, std::string> queries_;  // query()'s: SQL to its name
  std::uint64_t next_query_ = 0;
  bool in_transaction_ = false;
};

// BEGIN on construction (`begin`, which may name an isolation level); ROLLBACK on destruction
// unless commit() ran (never throws).
class PgTransaction {
 public:
  explicit PgTransaction(PgConnection& connection, const char* begin = "BEGIN");
  ~PgTransaction();
  PgTransaction(const PgTransaction&) = delete;
  PgTransaction& operator=(const PgTransaction&) = delete;
  void commit();

 private:
  PgConnection& connection_;
  bool open_ = true;
};

// Runs `fn`, rethrowing a PgFailure as Error(storage): "cannot <action> <database>
// (PostgreSQL: <message>)". rmaflow::Error passes through.
template <class Fn>
decltype(auto) pg_guard(const PgConnection& connection, std::string_view action, Fn&& fn) {
  try {
    return fn();
  } catch (const PgFailure& e) {
    throw Error(Errc::storage, "cannot " + std::string(action) + " " + connection.display() +
                                   " (PostgreSQL: " + e.what() + ")");
  }
}

}  // namespace rmaflow::store
