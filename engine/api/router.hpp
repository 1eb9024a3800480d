// Routing: the API's routes in one table (routes.cpp), and the dispatch of one HTTP request to
// its route: 404 and 405 for what no route takes, 401 and 403 for who may not, and a
// problem+json answer for whatever a handler refuses or throws.
#pragma once

#include <exception>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/api/auth.hpp"
#include "engine/api/problem.hpp"
#include "engine/api/query.hpp"
#include "engine/net/http_server.hpp"
#include "rmaflow/engine.hpp"

namespace rmaflow::api {

struct ApiContext;

// How a handler answers; callable from any thread (the engine's commit callbacks). An answer
// that takes work to build (a page read from the store) goes as a producer instead, built on
// the connection's own I/O thread just before it is written (net::Responder::produce): the
// thread that learns the answer is due need not build it, and no other thread is woken for it.
class Answer {
 public:
  using Deliver = std::function<void(net::Producer)>;
  explicit Answer(Deliver deliver) : deliver_(std::move(deliver)) {}

  void operator()(net::HttpResponse response) const;
  void produce(net::Producer produce) const { deliver_(std::move(produce)); }

 private:
  Deliver deliver_;
};

struct ApiRequest {
  const net::HttpRequest& http;
  Principal principal;                      // who called (the actor of operator actions)
  std::map<std::string, std::string> path;  // the pattern's {names}, decoded
  QueryParams query;
};

// Handlers validate on the calling I/O thread and throw ProblemError or Error for what they
// refuse; anything they answer later goes through `answer`.
using RouteHandler = void (*)(ApiContext& context, ApiRequest& request, const Answer& answer);

struct Route {
  const char* method;
  const char* pattern;  // "/v1/instances/{id}/history"
  Permission permission;
  RouteHandler handler;
};

// Every route of the API (docs/openapi.yaml describes each; a test holds them together).
const std::vector<Route>& api_routes();

// Answers one request through its route.
void dispatch(ApiContext& context, net::HttpRequest request, net::Responder respond);

net::HttpResponse json_response(int status, const nlohmann::json& body);
// An SVG drawing; opened on its own in a browser it may run nothing (its own CSP).
net::HttpResponse svg_response(std::string svg);

// The problem for an exception a request ended in.
Problem problem_for(std::exception_ptr error);

// A ReplyFn answering with render(result), or with the problem the engine's Error stands for
// (problem_from(): by the error's type and code, never by its words).
template <typename Result, typename Render>
ReplyFn<Result> reply_with(Answer answer, Render render) {
  return [answer = std::move(answer), render = std::move(render)](Reply<Result> reply) {
    if (reply.ok()) {
      answer(render(*reply.result));
      return;
    }
    answer(problem_response(problem_for(reply.error)));
  };
}

}  // namespace rmaflow::api
