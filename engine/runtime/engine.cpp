// Engine: opening one, and the future-returning forms of its requests.
#include <future>
#include <memory>

#include "engine/runtime/engine_impl.hpp"

namespace rmaflow {

namespace {

// Makes the callback form of a request return a future.
template <typename Result, typename Call>
std::future<Result> as_future(Call call) {
  auto promise = std::make_shared<std::promise<Result>>();
  auto future = promise->get_future();
  call([promise](Reply<Result> reply) {
    if (reply.ok()) {
      promise->set_value(std::move(*reply.result));
    } else {
      promise->set_exception(reply.error);
    }
  });
  return future;
}

}  // namespace

std::unique_ptr<Engine> Engine::open(EngineOptions options) {
  return std::make_unique<EngineImpl>(std::move(options));
}

std::future<StartResult> Engine::start(StartRequest request) {
  return as_future<StartResult>(
      [&](ReplyFn<StartResult> done) { start(std::move(request), std::move(done)); });
}

std::future<SignalResult> Engine::signal(SignalRequest request) {
  return as_future<SignalResult>(
      [&](ReplyFn<SignalResult> done) { signal(std::move(request), std::move(done)); });
}

std::future<ActionResult> Engine::act(OperatorAction action) {
  return as_future<ActionResult>(
      [&](ReplyFn<ActionResult> done) { act(std::move(action), std::move(done)); });
}

std::future<JobRow> Engine::start_job(JobRequest request) {
  return as_future<JobRow>(
      [&](ReplyFn<JobRow> done) { start_job(std::move(request), std::move(done)); });
}

std::future<JobRow> Engine::cancel_job(std::string id, std::string actor, std::string reason) {
  return as_future<JobRow>([&](ReplyFn<JobRow> done) {
    cancel_job(std::move(id), std::move(actor), std::move(reason), std::move(done));
  });
}

std::future<InstanceRow> Engine::await_end(std::string instance_id, Duration timeout) {
  return as_future<InstanceRow>([&](ReplyFn<InstanceRow> done) {
    await_end(std::move(instance_id), timeout, std::move(done));
  });
}

}  // namespace rmaflow
