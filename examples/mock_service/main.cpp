// rmaflow-mock: the simulated ERP, carrier and warehouse of an adapters file, served over HTTP
// on loopback until interrupted.
//   rmaflow-mock --adapters examples/sim/adapters.yaml [--listen 127.0.0.1:8090]
//                [--signals-to http://127.0.0.1:8080/v1/signals] [--late-by 60s]
//                [--start 2025-06-02T08:00:00Z]
#include <cstdio>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "adapters/sim/sim_adapter.hpp"
#include "examples/mock_service/mock_host.hpp"
#include "engine/support/stop_signals.hpp"
#include "examples/mock_service/mock_service.hpp"

namespace {

struct Options {
  std::string adapters;
  std::string listen = "127.0.0.1:8090";
  std::string signals_to;
  std::string late_by = "60s";
  std::string start;
};

int serve(const Options& opt) {
  using namespace rmaflow;
  auto registry = AdapterRegistry::from_file(opt.adapters);
  std::vector<std::shared_ptr<sim::SimSystem>> systems;
  for (const auto& name : registry.names()) {
    if (auto* adapter = dynamic_cast<sim::SimAdapter*>(registry.find(name))) {
      systems.push_back(adapter->system());
    }
  }
  if (systems.empty()) {
    throw Error(Errc::adapter_config,
                fmt::format("{} configures no adapter of type sim to serve", opt.adapters));
  }
  auto late_by = parse_duration(opt.late_by);
  if (!late_by) {
    throw Error(Errc::invalid_argument, fmt::format("--late-by \"{}\" is not a duration", opt.late_by));
  }
  auto listen = net::parse_listen("--listen", opt.listen);
  net::HttpServerOptions server_options;
  server_options.address = listen.address;
  server_options.port = listen.port;
  std::optional<net::HttpUrl> signals_to;
  if (!opt.signals_to.empty()) signals_to = net::HttpUrl::parse(opt.signals_to);
  std::optional<TimePoint> start;
  if (!opt.start.empty()) {
    start = parse_time(opt.start);
    if (!start) {
      throw Error(Errc::invalid_argument,
                  fmt::format("--start \"{}\" is not a time such as 2025-06-02T08:00:00Z", opt.start));
    }
  }

  // Before any thread starts, so that only stop.wait() sees them.
  StopSignals stop;

  mock::MockHost host(signals_to, start);
  mock::MockService service(systems, host, *late_by);
  for (const auto& system : systems) system->attach(host);
  net::HttpServer server(server_options, [&](net::HttpRequest request, net::Responder respond) {
    service.handle(std::move(request), std::move(respond));
  });
  server.start();
  fmt::print("rmaflow-mock: serving on http://{}:{}\n", server_options.address, server.port());
  for (const auto& route : service.routes()) fmt::print("  {}\n", route);
  std::fflush(stdout);
  stop.wait();
  server.stop();
  for (const auto& system : systems) system->detach();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"rmaflow-mock: the simulated ERP, carrier and warehouse over HTTP", "rmaflow-mock"};
  app.add_option("--adapters", opt.adapters, "Adapters file whose sim adapters to serve")->required();
  app.add_option("--listen", opt.listen, "Address and port (default 127.0.0.1:8090; port 0 picks one)");
  app.add_option("--signals-to", opt.signals_to,
                 "An rmaflow server's POST /v1/signals URL, for the events the systems send");
  app.add_option("--late-by", opt.late_by, "How late a late answer comes (default 60s)");
  app.add_option("--start", opt.start,
                 "The systems' clock reads this time at start-up and runs from there "
                 "(default: the wall clock)");
  try {
    app.parse(argc, argv);
    return serve(opt);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const rmaflow::Error& e) {
    fmt::print(stderr, "rmaflow-mock: {}\n", e.what());
    return 1;
  }
}
