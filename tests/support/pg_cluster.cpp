#include "tests/support/pg_cluster.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <spawn.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/process.hpp"

extern char** environ;

namespace rmaflow::testing {

namespace {

const std::string kBin = "/usr/lib/postgresql/15/bin/";

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

void run_or_throw(const std::vector<std::string>& argv, const std::string& log) {
  auto result = run_process(argv);
  if (result.exit_code != 0) {
    throw std::runtime_error(fmt::format("{} failed ({}): {}{}\n{}", argv.front(), result.exit_code,
                                         result.out, result.err,
                                         log.empty() ? "" : read_file(log)));
  }
}

}  // namespace

PgCluster& PgCluster::shared() {
  static PgCluster cluster;  // destroyed at exit: the server stops with the test process
  return cluster;
}

PgCluster::PgCluster() {
  std::string pattern = (std::filesystem::temp_directory_path() / "rmaflow-pg-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  if (geteuid() == 0) {
    const passwd* server = getpwnam("postgres");
    if (server == nullptr) throw std::runtime_error("no postgres user to run the server as");
    if (chown(dir_.c_str(), server->pw_uid, server->pw_gid) != 0) {
      throw std::runtime_error("cannot give " + dir_ + " to the postgres user");
    }
  }
  const std::string data = dir_ + "/data";
  const std::string log = dir_ + "/server.log";
  run_or_throw(as_server_user({kBin + "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E",
                               "UTF8", "--locale=C", "--no-sync", "--no-instructions"}),
               "");
  // -w waits (at most -t seconds) until the server accepts connections.
  run_or_throw(as_server_user({kBin + "pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", "-o",
                               fmt::format("-c listen_addresses='' -k {} -c fsync=off "
                                           "-c full_page_writes=off -c max_connections=40",
                                           dir_),
                               "start"}),
               log);
  // And check it does, from here: a bounded wait, for the rare slow start.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (PQping(uri("postgres").c_str()) != PQPING_OK) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("the test PostgreSQL server does not answer: " + read_file(log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  watch_for_exit();
}

void PgCluster::watch_for_exit() const {
  // The watcher reads a pipe whose only writing end is this process's (close-on-exec, so no
  // server the test starts inherits it): end of file comes when this process is gone. It runs
  // in a session of its own, out of reach of a signal to this process's group.
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  std::vector<std::string> stop =
      as_server_user({kBin + "pg_ctl", "-D", dir_ + "/data", "-m", "immediate", "-w", "stop"});
  std::string script = "read -r _; ";
  for (const auto& word : stop) script += "'" + word + "' ";
  script += "> /dev/null 2>&1; rm -rf '" + dir_ + "'";
  std::vector<std::string> argv = {"/bin/sh", "-c", script};
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[0], 0);  // dup2 clears close-on-exec
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  pid_t pid = 0;
  int failed = posix_spawn(&pid, argv[0].c_str(), &actions, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[0]);
  if (failed != 0) {
    ::close(fds[1]);
    throw std::runtime_error("cannot start the test cluster's watcher");
  }
  // fds[1] stays open until this process ends; the watcher is reaped by init then.
}

PgCluster::~PgCluster() {
  run_process(
      as_server_user({kBin + "pg_ctl", "-D", dir_ + "/data", "-m", "immediate", "-w", "stop"}));
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::vector<std::string> PgCluster::as_server_user(std::vector<std::string> argv) const {
  if (geteuid() != 0) return argv;
  argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
  return argv;
}

std::string PgCluster::uri(const std::string& database) const {
  return fmt::format("postgresql://postgres@/{}?host={}", database, dir_);
}

std::string PgCluster::uri_with_password(const std::string& database,
                                         const std::string& password) const {
  return fmt::format("postgresql://postgres:{}@/{}?host={}", password, database, dir_);
}

std::string PgCluster::create_database() {
  std::string name = fmt::format("t_{}", ++databases_);
  exec("postgres", "CREATE DATABASE " + name);
  return uri(name);
}

void PgCluster::exec(const std::string& database, const std::string& sql) const {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(uri(database).c_str()), PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    throw std::runtime_error(std::string("cannot connect: ") + PQerrorMessage(conn.get()));
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn.get(), sql.c_str()), PQclear);
  auto status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error(sql + ": " + PQerrorMessage(conn.get()));
  }
}

}  // namespace rmaflow::testing
