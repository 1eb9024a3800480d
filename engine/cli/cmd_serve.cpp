// rmaflow serve: the engine and its HTTP API in one process. Deploys the workflows of a
// directory, resumes what the database left unfinished, and serves until SIGTERM or SIGINT;
// then it stops accepting, lets requests in flight get their commits, and stops the engine.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "adapters/sim/sim_clock.hpp"
#include "engine/api/api_server.hpp"
#include "engine/api/graph_svg.hpp"
#include "engine/api/token_file.hpp"
#include "engine/cli/cli_support.hpp"
#include "engine/cli/commands.hpp"
#include "engine/net/http_server.hpp"
#include "engine/observe/deployed_definitions.hpp"
#include "engine/observe/log.hpp"
#include "engine/observe/observability.hpp"
#include "engine/support/open_files.hpp"
#include "engine/support/stop_signals.hpp"
#include "engine/support/threads.hpp"
#include "rmaflow/engine.hpp"

namespace rmaflow::cli {

namespace {

struct ServeOptions {
  std::string db;
  std::string workflows;
  std::string adapters;
  std::string listen = "127.0.0.1:8080";
  std::string auth;
  bool no_auth = false;
  std::string sync = "full";
  std::size_t max_body = 1 << 20;
  std::size_t max_connections = 256;
  std::size_t max_running = 100'000;
  std::uint64_t max_running_bytes = std::uint64_t{512} << 20;
  std::uint64_t keep_waiting_bytes = EngineOptions().keep_waiting_bytes;
  std::string header_timeout = "10s";
  std::string body_timeout = "30s";
  std::string layout_timeout = "15s";
  std::string log_format = "text";
  std::string log_level = "info";
  std::string otlp_endpoint;
  double trace_sample = 1.0;
  std::string sim_start;
  double sim_speed = 86400;
  std::string node;
  std::string lease = "10s";
};

bool is_loopback(const std::string& host) {
  return host == "::1" || host.rfind("127.", 0) == 0;
}

// The simulated systems' state files are shared by the nodes of one database: each node arms
// the jobs the others scheduled or left behind (SimSystem::share_jobs).
constexpr Duration kSimRescan = std::chrono::seconds(1);

// --sim-start: the simulated systems run on a clock of their own (see SimClock); on a node it
// does not jump, so that the nodes' clocks agree.
void run_sims_on_own_clock(const ServeOptions& opt, const AdapterRegistry& adapters) {
  auto start = parse_time(opt.sim_start);
  if (!start) {
    throw Error(Errc::invalid_argument,
                fmt::format("--sim-start \"{}\" is not a time such as 2025-06-02T08:00:00Z",
                            opt.sim_start));
  }
  if (sim::use_sim_clock(adapters, *start, opt.sim_speed, opt.node.empty()) == 0) {
    throw Error(Errc::invalid_argument,
                opt.adapters.empty()
                    ? std::string("--sim-start sets the clock of simulated systems; give an "
                                  "--adapters file that configures some (type: sim)")
                    : fmt::format("--sim-start sets the clock of simulated systems, and {} "
                                  "configures none (type: sim)",
                                  opt.adapters));
  }
}

using observe::LogLevel;

// The connections serve may hold with `files` open at most. `given`: --max-connections was
// given, and a value the limit cannot hold is an error; the default is lowered to fit, with a
// warning.
std::size_t connections_within(std::size_t files, std::size_t wanted, bool given) {
  if (files <= kFilesBesideConnections) {
    throw Error(Errc::refused,
                fmt::format("this process may hold only {} files open (ulimit -n), and serve "
                            "needs at least {}; raise the limit",
                            files, kFilesBesideConnections + 1));
  }
  auto room = files - kFilesBesideConnections;
  if (wanted <= room) return wanted;
  if (given) {
    throw Error(Errc::invalid_argument,
                fmt::format("--max-connections {} needs {} open files, and this process may hold "
                            "{} (ulimit -n); give at most {}, or raise the limit",
                            wanted, wanted + kFilesBesideConnections, files, room));
  }
  observe::log(LogLevel::warn, "holding fewer connections than the default",
               {{"max_connections", room},
                {"default", wanted},
                {"open_files_limit", files},
                {"why", "this process may hold no more files open (ulimit -n)"}});
  return room;
}

int serve(const ServeOptions& opt, bool max_connections_given) {
  // CLI11 checked both against the same lists.
  observe::configure_log(*observe::parse_log_format(opt.log_format),
                         *observe::parse_log_level(opt.log_level));
  if (opt.auth.empty() && !opt.no_auth) {
    throw CLI::ValidationError("needs --auth FILE (bearer tokens; see rmaflow token add), or "
                               "--no-auth to serve without authentication on a loopback address");
  }
  // SIGTERM and SIGINT are taken by this thread alone (stop_signals.wait() below): blocked
  // before any thread starts (the engine's, a node's forwarder, exporters, simulated systems),
  // so that none of them is ended by one. One that arrives while starting waits for the wait.
  StopSignals stop_signals;
  auto [host, port] = net::parse_listen("--listen", opt.listen);
  if (opt.no_auth && !is_loopback(host)) {
    throw Error(Errc::refused, fmt::format("--no-auth serves only a loopback address (127.0.0.1 or "
                                           "::1), not {}; give --auth FILE",
                                           host));
  }
  api::ApiOptions api_options;
  if (!opt.auth.empty()) api_options.tokens = api::load_token_file(opt.auth);
  api_options.http.address = host;
  api_options.http.port = port;
  api_options.http.max_body_bytes = opt.max_body;
  auto files = raise_open_files_limit();
  api_options.http.max_connections =
      connections_within(files, opt.max_connections, max_connections_given);
  api_options.http.on_out_of_files = [files](std::string_view why) {
    observe::log(LogLevel::warn, "a connection waits: this process holds every file it may",
                 {{"error", why}, {"open_files_limit", files}});
  };
  api_options.http.header_timeout = duration_option("--header-timeout", opt.header_timeout);
  api_options.http.body_timeout = duration_option("--body-timeout", opt.body_timeout);
  api_options.drawings.layout.timeout =
      duration_option("--layout-timeout", opt.layout_timeout, api::kMaxLayoutTimeout);
  api_options.db_path = opt.db;
  api_options.workflows_dir = opt.workflows;

  auto defs = load_workflow_dir_reporting(opt.workflows, "served", opt.db);
  if (!defs) return kExitFailure;
  auto adapters = load_adapters(opt.adapters);
  if (!check_actions_reporting(*defs, *adapters, opt.adapters, "served")) return kExitFailure;
  if (!opt.sim_start.empty()) run_sims_on_own_clock(opt, *adapters);
  if (!opt.node.empty()) sim::share_sim_jobs(*adapters, kSimRescan);
  api_options.adapters = adapters;
  auto deployed = std::make_shared<observe::DeployedDefinitions>(opt.db, *defs);
  std::optional<observe::SpanExportOptions> traces;
  if (!opt.otlp_endpoint.empty()) {
    traces = observe::SpanExportOptions{.endpoint = opt.otlp_endpoint, .sample = opt.trace_sample};
  }
  auto observability = std::make_shared<observe::Observability>(
      [deployed](const std::string& workflow, int version) { return deployed->get(workflow, version); },
      std::move(traces));
  auto engine = open_engine(
      opt.db, opt.sync, adapters, nullptr, observe::Observability::commit_observer(observability),
      opt.otlp_endpoint.empty() ? 1.0 : opt.trace_sample,
      NodeOptions{opt.node, duration_option("--lease", opt.lease)},
      RunningLimits{opt.max_running, opt.max_running_bytes, opt.keep_waiting_bytes});
  for (const auto& def : *defs) engine->deploy(def);
  api_options.definitions = *defs;

  std::atomic<bool> engine_running{true};
  std::string engine_failure;
  std::thread engine_thread([&] {
    name_this_thread("rmaflow-engine");
    try {
      engine->run();
    } catch (const std::exception& e) {
      engine_failure = e.what();
    }
    engine_running = false;
    if (!engine_failure.empty()) ::kill(::getpid(), SIGTERM);  // wake the main thread to shut down
  });
  api_options.engine_running = [&engine_running] { return engine_running.load(); };
  api_options.observability = observability;

  api::ApiServer server(*engine, std::move(api_options));
  try {
    server.start();
  } catch (const Error&) {
    engine->stop();
    engine_thread.join();
    throw;
  }
  auto url = fmt::format("http://{}:{}", host.find(':') != std::string::npos ? "[" + host + "]" : host,
                         server.port());
  fmt::print("rmaflow: serving {} (database {}, {}{})\n", url, display_location(opt.db),
             opt.no_auth ? "no authentication" : "tokens from " + opt.auth,
             opt.node.empty() ? "" : ", node " + opt.node);
  std::fflush(stdout);
  observe::log(
      LogLevel::info, "serving",
      {{"url", url}, {"db", display_location(opt.db)}, {"auth", opt.no_auth ? "none" : opt.auth}});

  int received = stop_signals.wait();
  observe::log(LogLevel::info, "finishing requests in flight",
               {{"cause", engine_failure.empty() ? (received == SIGINT ? "interrupted" : "stopping")
                                                 : "the engine stopped"}});
  server.stop();
  engine->stop();
  engine_thread.join();
  if (!engine_failure.empty()) {
    observe::log(LogLevel::error, "the engine failed", {{"error", engine_failure}});
    return kExitFailure;
  }
  observe::log(LogLevel::info, "stopped");
  return kExitOk;
}

}  // namespace

void register_serve(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<ServeOptions>();
  auto* cmd = app.add_subcommand("serve",
                                 "Run the engine with its HTTP API until SIGTERM: deploy DIR's "
                                 "workflows, resume unfinished instances, serve requests");
  cmd->add_option("--db", opt->db, "Database: a SQLite file (created if missing) or a postgresql:// URI")->required();
  cmd->add_option("--workflows", opt->workflows, "Directory of workflow YAML files")->required();
  cmd->add_option("--adapters", opt->adapters, "Adapters YAML file (default: builtin only)");
  cmd->add_option("--listen", opt->listen, "ADDRESS:PORT to listen on (default 127.0.0.1:8080; "
                                           "port 0 picks a free one)");
  cmd->add_option("--auth", opt->auth, "Tokens file (see rmaflow token add)");
  cmd->add_flag("--no-auth", opt->no_auth,
                "Serve without authentication (loopback addresses only): every caller is admin");
  cmd->add_option("--node", opt->node,
                  "Join the nodes that share this PostgreSQL database under this name (letters, "
                  "digits, '-', '_', '.'): each owns the instances of its share of the "
                  "database's shards, and takes over a stopped node's");
  cmd->add_option("--lease", opt->lease,
                  "With --node: how long its leases last unless renewed (default 10s): another "
                  "node takes a silent node's instances over this long after it went silent")
      ->needs("--node");
  cmd->add_option("--sync", opt->sync, "SQLite synchronous mode: full (default) or normal")
      ->check(CLI::IsMember({"full", "normal"}));
  cmd->add_option("--max-body", opt->max_body,
                  "Largest request body, e.g. 4MiB; a number alone is bytes (default 1MiB, at "
                  "most 1GiB)")
      ->transform(CLI::AsSizeValue(true))
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30));
  auto* max_connections =
      cmd->add_option("--max-connections", opt->max_connections,
                      "Connections held at once; more are answered 503 (default 256)")
          ->check(CLI::Range(std::size_t{1}, std::size_t{100000}));
  cmd->add_option("--max-running", opt->max_running,
                  "Instances running at once (held in memory; waiting ones are not); a start "
                  "past it is answered 503 with Retry-After (default 100000)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}));
  cmd->add_option("--max-running-bytes", opt->max_running_bytes,
                  "Bytes of text the instances running at once may be stored as (their contexts, "
                  "with the steps' results, and their cursors), e.g. 2GiB, a tenth to a "
                  "fourteenth of the memory they take; a start past it is answered 503 with "
                  "Retry-After (default 512MiB)")
      ->transform(CLI::AsSizeValue(true))
      ->check(CLI::Range(std::uint64_t{1} << 20, std::uint64_t{1} << 40));
  cmd->add_option("--keep-waiting-bytes", opt->keep_waiting_bytes,
                  "Bytes of text of the big waiting instances (rows of 64KiB or more: returns of "
                  "about a hundred lines) kept decoded between their signals, e.g. 64MiB, about "
                  "a tenth of the memory they take; the least recently used are let go first, "
                  "and 0 keeps none (default 8MiB)")
      ->transform(CLI::AsSizeValue(true))
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 40));
  cmd->add_option("--header-timeout", opt->header_timeout,
                  "Time a request's header may take to arrive (default 10s)");
  cmd->add_option("--body-timeout", opt->body_timeout,
                  "Time a request's body may take to arrive (default 30s)");
  cmd->add_option("--layout-timeout", opt->layout_timeout,
                  "How long Graphviz may take to lay out a graph the API draws as SVG (default "
                  "15s); a graph that takes longer is refused with 422, its version for good");
  auto* sim_start = cmd->add_option("--sim-start", opt->sim_start,
                  "Run the simulated systems (adapters of type sim) on a clock of their own that "
                  "reads this time now, e.g. 2025-06-02T08:00:00Z; the events they schedule (a "
                  "parcel in transit, a credit review) come --sim-speed times sooner");
  cmd->add_option("--sim-speed", opt->sim_speed,
                  "With --sim-start: how many times sooner (default 86400: a simulated day in a "
                  "second)")
      ->check(CLI::Range(1.0, 1e9))
      ->needs(sim_start);
  cmd->add_option("--log-format", opt->log_format,
                  "Log lines on stderr as text (default) or json (one object per line)")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--log-level", opt->log_level,
                  "Least level logged: trace, debug (every instance transition), info (default), "
                  "warn, error, off; changed while serving with PUT /v1/logging")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  cmd->add_option("--otlp-endpoint", opt->otlp_endpoint,
                  "Export traces (instances, attempts, waits, operator actions) as OTLP/HTTP JSON "
                  "to this collector URL, e.g. http://127.0.0.1:4318/v1/traces; spans are dropped "
                  "and counted, never waited for, when it is slow or down");
  cmd->add_option("--trace-sample", opt->trace_sample,
                  "The share of instances traced, 0 to 1 (default 1: every one), decided from "
                  "each trace id so that every node agrees; calls out say whether theirs is")
      ->check(CLI::Range(0.0, 1.0))
      ->needs("--otlp-endpoint");
  cmd->callback([opt, max_connections, &exit_code] {
    exit_code = serve(*opt, max_connections->count() > 0);
  });
}

}  // namespace rmaflow::cli
