// Requests that wait for an instance's end: `GET /v1/instances/{id}?wait=N` answers once the
// instance has ended (its end committed) or N seconds have passed, whichever is first, so a
// client follows an instance without polling in a loop.
//
// The engine tells (Engine::await_end, on its thread); the answer's page is built on this
// component's own thread, never the engine's. When the server stops, the waits still out are
// answered at once with the instance as it stands, so that stopping never waits on a long poll.
//
// Thread-safety: every method may be called from any thread. The engine's answers may come
// after the server is gone: they then find nothing to answer.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "engine/api/router.hpp"
#include "rmaflow/engine.hpp"

namespace rmaflow::api {

class EndWaits {
 public:
  // `render` builds the answer for an instance (its view, or a problem); it runs on the
  // component's thread, or on the stopping thread.
  explicit EndWaits(std::function<net::HttpResponse(const std::string& id)> render);
  ~EndWaits();
  EndWaits(const EndWaits&) = delete;
  EndWaits& operator=(const EndWaits&) = delete;

  // Answers `answer` with render(id) once the instance has ended or `timeout` has passed.
  void wait(Engine& engine, const std::string& id, Duration timeout, Answer answer);
  // Answers every wait still out, now, and every later one at once. Idempotent.
  void stop();

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace rmaflow::api
