#include "engine/runtime/forwarder.hpp"

#include <fmt/format.h>

#include "engine/support/threads.hpp"
#include "rmaflow/errors.hpp"

namespace rmaflow {

namespace {

// How often what waits is looked at again: an owner applies commands every 50 ms.
constexpr auto kPollEvery = std::chrono::milliseconds(20);

}  // namespace

Forwarder::Forwarder(std::string location, Duration patience)
    : location_(std::move(location)), patience_(patience), thread_([this] {
        name_this_thread("rmaflow-forward");
        run();
      }) {}

Forwarder::~Forwarder() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Forwarder::send(CommandRow command, Applied applied, Failed failed) {
  Waiting w;
  w.command = std::move(command);
  w.deadline = std::chrono::steady_clock::now() + patience_;
  w.applied = std::move(applied);
  w.failed = std::move(failed);
  {
    std::lock_guard lock(mu_);
    incoming_.push_back(std::move(w));
  }
  wake_.notify_all();
}

void Forwarder::await_end(std::string instance_id, std::chrono::steady_clock::time_point deadline,
                          Ended ended, Failed failed) {
  Waiting w;
  w.instance_id = std::move(instance_id);
  w.deadline = deadline;
  w.ended = std::move(ended);
  w.failed = std::move(failed);
  {
    std::lock_guard lock(mu_);
    incoming_.push_back(std::move(w));
  }
  wake_.notify_all();
}

void Forwarder::run() {
  std::vector<Waiting> waiting;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, kPollEvery, [this] { return stopping_ || !incoming_.empty(); });
      if (stopping_) break;
      for (auto& w : incoming_) waiting.push_back(std::move(w));
      incoming_.clear();
    }
    std::erase_if(waiting, [this](Waiting& w) {
      try {
        return poll(w);
      } catch (...) {
        w.failed(std::current_exception());
        return true;
      }
    });
  }
  {
    std::lock_guard lock(mu_);
    for (auto& w : incoming_) waiting.push_back(std::move(w));
  }
  for (auto& w : waiting) {
    w.failed(std::make_exception_ptr(
        Error(Errc::storage, "this node stopped before the node that owns the instance answered")));
  }
}

bool Forwarder::poll(Waiting& w) {
  if (!store_) store_ = open_store(location_);
  const bool late = std::chrono::steady_clock::now() >= w.deadline;
  if (!w.instance_id.empty()) {  // awaiting an end
    auto row = store_->get_instance(w.instance_id);
    if (!row) throw Error(Errc::not_found, fmt::format("no instance {}", w.instance_id));
    if (!is_final(row->status) && !late) return false;
    w.ended(std::move(*row));
    return true;
  }
  if (w.command.id == 0) {
    w.command.id = store_->add_command(w.command);
    return false;
  }
  auto done = store_->get_command(w.command.id);
  if (done && !done->outcome.empty()) {
    w.applied(*done, *store_);
    return true;
  }
  if (!late) return false;
  throw Error(Errc::storage,
              fmt::format("the node that owns instance {} did not apply the request within {} "
                          "s; it stays queued as command {} and is applied when that node "
                          "gets to it",
                          w.command.instance_id, patience_.count() / 1000, w.command.id));
}

}  // namespace rmaflow
