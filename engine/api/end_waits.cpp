#include "engine/api/end_waits.hpp"

#include <map>
#include <mutex>

namespace rmaflow::api {

struct EndWaits::Shared {
  Render render;
  std::mutex mu;
  std::map<std::uint64_t, std::pair<std::string, Answer>> open;  // by ticket: instance, answer
  std::uint64_t next = 0;
  bool stopped = false;

  // The wait's answer, if it is still out (the first of the end, the timeout and the stop).
  std::optional<Answer> take(std::uint64_t ticket) {
    std::lock_guard lock(mu);
    auto it = open.find(ticket);
    if (it == open.end()) return std::nullopt;
    auto answer = std::move(it->second.second);
    open.erase(it);
    return answer;
  }
};

EndWaits::EndWaits(Render render) : shared_(std::make_shared<Shared>()) {
  shared_->render = std::move(render);
}

EndWaits::~EndWaits() {
  stop();
}

void EndWaits::wait(Engine& engine, const std::string& id, Duration timeout, Answer answer) {
  if (!begin(shared_, engine, id, timeout, answer)) {
    answer(shared_->render(id, std::nullopt));  // as it stands
  }
}

EndWaits::Later EndWaits::later() const {
  Later later;
  later.shared_ = shared_;
  return later;
}

bool EndWaits::Later::begin(Engine& engine, const std::string& id, Duration timeout,
                            Answer answer) const {
  auto shared = shared_.lock();
  return shared && EndWaits::begin(shared, engine, id, timeout, answer);
}

bool EndWaits::begin(const std::shared_ptr<Shared>& shared, Engine& engine, const std::string& id,
                     Duration timeout, Answer& answer) {
  std::uint64_t ticket = 0;
  {
    std::lock_guard lock(shared->mu);
    if (shared->stopped) return false;
    ticket = ++shared->next;
    shared->open.emplace(ticket, std::pair{id, std::move(answer)});
  }
  // The engine answers with the instance's committed row (its end, or, at the timeout, the row
  // as it then stands in the store) or an error; the page is built from that row on the
  // connection's thread. It holds the component: the server's I/O threads, which build it,
  // stop before what the render reads goes.
  engine.await_end(id, timeout,
                   [weak = std::weak_ptr<Shared>(shared), id, ticket](Reply<InstanceRow> reply) {
                     auto shared = weak.lock();
                     if (!shared) return;
                     auto answer = shared->take(ticket);
                     if (!answer) return;
                     answer->produce([shared, id, reply = std::move(reply)]() mutable {
                       if (reply.error) return problem_response(problem_for(reply.error));
                       return shared->render(id, std::move(reply.result));
                     });
                   });
  return true;
}

void EndWaits::stop() {
  std::map<std::uint64_t, std::pair<std::string, Answer>> open;
  {
    std::lock_guard lock(shared_->mu);
    if (shared_->stopped) return;
    shared_->stopped = true;
    open.swap(shared_->open);
  }
  for (auto& [ticket, waiting] : open) {
    waiting.second(shared_->render(waiting.first, std::nullopt));
  }
}

}  // namespace rmaflow::api
