#include "engine/api/api_server.hpp"

#include "engine/api/api_context.hpp"
#include "engine/api/end_waits.hpp"
#include "engine/api/handlers.hpp"
#include "engine/api/problem.hpp"
#include "engine/api/router.hpp"

namespace rmaflow::api {

struct ApiServer::State {
  State(Engine& engine, ApiOptions options)
      : context(engine, options.db_path,
                options.tokens ? std::optional<Authenticator>(Authenticator(*options.tokens))
                               : std::nullopt,
                options.drawings),
        http(with_problems(std::move(options.http)),
             [this](net::HttpRequest request, net::Responder respond) {
               dispatch(context, std::move(request), std::move(respond));
             }),
        end_waits([this](const std::string& id, std::optional<InstanceRow> row) {
          try {
            return instance_response(context, id, row);
          } catch (...) {
            return problem_response(problem_for(std::current_exception()));
          }
        }) {
    context.end_waits = &end_waits;
    context.max_page = options.max_page;
    context.workflows_dir = options.workflows_dir;
    context.adapters = options.adapters;
    context.engine_running = options.engine_running;
    context.observability = options.observability;
    for (auto& definition : options.definitions) context.definitions.add(std::move(definition));
  }

  static net::HttpServerOptions with_problems(net::HttpServerOptions options) {
    options.error_response = transport_problem;
    return options;
  }

  ApiContext context;
  net::HttpServer http;
  EndWaits end_waits;
};

ApiServer::ApiServer(Engine& engine, ApiOptions options)
    : state_(std::make_unique<State>(engine, std::move(options))) {}

ApiServer::~ApiServer() { stop(); }

void ApiServer::start() { state_->http.start(); }

std::uint16_t ApiServer::port() const { return state_->http.port(); }

void ApiServer::stop() {
  state_->end_waits.stop();  // a long poll is answered as it stands, not waited out
  state_->context.drawings.stop();  // a layout under way is stopped and answered 503
  state_->http.stop();
}

}  // namespace rmaflow::api
