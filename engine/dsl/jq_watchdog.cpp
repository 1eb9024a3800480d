#include "engine/dsl/jq_watchdog.hpp"

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "engine/support/threads.hpp"

namespace rmaflow::dsl {

struct JqWatchdog::State {
  struct Watch {
    jq_state* jq;
    std::chrono::steady_clock::time_point deadline;
    bool fired = false;
  };
  std::mutex mu;
  std::condition_variable changed;
  std::map<std::uint64_t, Watch> watches;  // by ticket
  std::uint64_t next_ticket = 1;
  bool stopping = false;
  std::thread thread;

  void run() {
    std::unique_lock lock(mu);
    while (!stopping) {
      auto now = std::chrono::steady_clock::now();
      auto next = std::chrono::steady_clock::time_point::max();
      for (auto& [ticket, watch] : watches) {
        if (watch.fired) continue;
        if (watch.deadline <= now) {
          // Under the lock: disarm() cannot return, nor the jq state go, before this is done.
          jq_halt(watch.jq, jv_invalid(), jv_invalid());
          watch.fired = true;
        } else if (watch.deadline < next) {
          next = watch.deadline;
        }
      }
      if (next == std::chrono::steady_clock::time_point::max()) {
        changed.wait(lock);
      } else {
        changed.wait_until(lock, next);
      }
    }
  }
};

JqWatchdog& JqWatchdog::instance() {
  static JqWatchdog watchdog;
  return watchdog;
}

JqWatchdog::JqWatchdog() : state_(new State) {
  state_->thread = std::thread([s = state_] {
    name_this_thread("rmaflow-jqwatch");
    s->run();
  });
}

JqWatchdog::~JqWatchdog() {
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = true;
  }
  state_->changed.notify_all();
  state_->thread.join();
  delete state_;
}

std::uint64_t JqWatchdog::arm(jq_state* jq, std::chrono::steady_clock::time_point deadline) {
  std::uint64_t ticket;
  {
    std::lock_guard lock(state_->mu);
    ticket = state_->next_ticket++;
    state_->watches.emplace(ticket, State::Watch{jq, deadline});
  }
  state_->changed.notify_all();
  return ticket;
}

bool JqWatchdog::disarm(std::uint64_t ticket) {
  std::lock_guard lock(state_->mu);
  auto it = state_->watches.find(ticket);
  if (it == state_->watches.end()) return false;
  bool fired = it->second.fired;
  state_->watches.erase(it);
  return fired;
}

void JqWatchdog::halt(std::uint64_t ticket) {
  std::lock_guard lock(state_->mu);
  auto it = state_->watches.find(ticket);
  if (it == state_->watches.end() || it->second.fired) return;
  jq_halt(it->second.jq, jv_invalid(), jv_invalid());
  it->second.fired = true;
}

}  // namespace rmaflow::dsl
