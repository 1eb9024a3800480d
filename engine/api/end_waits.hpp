// Requests that wait for an instance's end: `GET /v1/instances/{id}?wait=N` answers once the
// instance has ended (its end committed) or N seconds have passed, whichever is first, so a
// client follows an instance without polling in a loop; `POST /v1/instances?wait=N` starts one
// and waits for its end the same way, in one request.
//
// The engine tells (Engine::await_end, on its thread) and hands over the instance's committed
// row; the answer's page is built from it on the connection's own I/O thread (Answer::produce),
// never the engine's, and no thread of this component's own is woken for it.
// When the server stops, the waits still out are answered at once with the instance as it
// stands, read from the store, so that stopping never waits on a long poll.
//
// Thread-safety: every method may be called from any thread. The engine's answers may come
// after the server is gone: they then find nothing to answer.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/api/router.hpp"
#include "rmaflow/engine.hpp"
#include "rmaflow/store.hpp"

namespace rmaflow::api {

class EndWaits {
  struct Shared;

 public:
  // `render` builds the answer for an instance (its view, or a problem) from its committed row,
  // or, without one, from the store; it runs on the connection's I/O thread, or on the
  // stopping thread, several at a time.
  using Render =
      std::function<net::HttpResponse(const std::string& id, std::optional<InstanceRow> row)>;
  explicit EndWaits(Render render);
  ~EndWaits();
  EndWaits(const EndWaits&) = delete;
  EndWaits& operator=(const EndWaits&) = delete;

  // Answers `answer` with render(id) once the instance has ended or `timeout` has passed.
  void wait(Engine& engine, const std::string& id, Duration timeout, Answer answer);

  // The waits, held weakly, for a wait that begins later on another thread (once a start is
  // committed, on the engine's): begin() returns false, answering nothing, when the waits
  // are stopped or gone (or for a Later made empty), and the caller answers as it would
  // without waiting.
  class Later {
   public:
    bool begin(Engine& engine, const std::string& id, Duration timeout, Answer answer) const;

   private:
    friend class EndWaits;
    std::weak_ptr<Shared> shared_;
  };
  Later later() const;
  // Answers every wait still out, now, and every later one at once. Idempotent.
  void stop();

 private:
  // False when stopped: nothing is waited for, `answer` is not called.
  static bool begin(const std::shared_ptr<Shared>& shared, Engine& engine, const std::string& id,
                    Duration timeout, Answer& answer);
  std::shared_ptr<Shared> shared_;
};

}  // namespace rmaflow::api
