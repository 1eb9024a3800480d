// A throwaway PostgreSQL 15 cluster for tests: a real server (never a mock) in a temporary
// directory, listening on a Unix socket there only, with fsync off. One per test process,
// started on first use and stopped (and its directory removed) when the process exits, or,
// when it is killed (a CTest timeout), by a watcher process that outlives it.
#pragma once

#include <string>
#include <vector>

namespace rmaflow::testing {

class PgCluster {
 public:
  // The process's cluster, started on first use. Throws std::runtime_error, with the server's
  // log, when it cannot be started.
  static PgCluster& shared();
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // A new, empty database ("t_1", "t_2", ...) and the URI that names it:
  // postgresql://postgres@/t_3?host=/tmp/rmaflow-pg-XXXXXX.
  std::string create_database();
  // `database`'s URI with a password in it, for tests that check it is never shown (the
  // cluster trusts local connections and ignores it).
  std::string uri_with_password(const std::string& database, const std::string& password) const;
  // Runs `sql` as the superuser on `database`; throws std::runtime_error when it fails.
  void exec(const std::string& database, const std::string& sql) const;

 private:
  PgCluster();
  std::string uri(const std::string& database) const;
  // initdb, pg_ctl as the postgres user when run as root (initdb refuses root).
  std::vector<std::string> as_server_user(std::vector<std::string> argv) const;
  // Starts the watcher that stops the cluster once this process is gone, however it ends.
  void watch_for_exit() const;

  std::string dir_;  // holds data/, the socket and the log
  int databases_ = 0;
};

}  // namespace rmaflow::testing
