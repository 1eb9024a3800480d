// Forwarder: a node's requests about instances another node owns (several nodes sharing one
// database, StoreOptions::node). Each is written to the database's command queue, which the
// owner applies for its shards every EngineOptions::command_poll, and answered once the owner
// has recorded the outcome; or, for a caller awaiting an instance's end, answered once the
// committed row shows it ended.
//
// Thread-safety: send() and await_end() may be called from any thread; answers come on the
// forwarder's own thread, which has a store of its own.
#pragma once

#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "rmaflow/store.hpp"

namespace rmaflow {

class Forwarder {
 public:
  // The owner's outcome (CommandRow::outcome set), read through the forwarder's store. May
  // throw; the exception then answers through `Failed`.
  using Applied = std::function<void(const CommandRow& done, Store& store)>;
  using Failed = std::function<void(std::exception_ptr error)>;
  using Ended = std::function<void(InstanceRow row)>;

  // `location`: the database, opened on the forwarder's thread when first needed. `patience`:
  // how long a command may stay unapplied before its caller is told so (it stays queued).
  Forwarder(std::string location, Duration patience);
  ~Forwarder();  // what is still waiting is told that the node stopped
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  void send(CommandRow command, Applied applied, Failed failed);
  // Answers with the instance's committed row once it has ended, or at `deadline` as it is.
  void await_end(std::string instance_id, std::chrono::steady_clock::time_point deadline,
                 Ended ended, Failed failed);

 private:
  struct Waiting {
    CommandRow command;       // id 0 until written
    std::string instance_id;  // awaiting an end
    std::chrono::steady_clock::time_point deadline;
    Applied applied;
    Ended ended;
    Failed failed;
  };
  void run();
  // True when `w` is answered (and done with).
  bool poll(Waiting& w);

  std::string location_;
  Duration patience_;
  std::unique_ptr<Store> store_;  // the forwarder thread's
  std::mutex mu_;
  std::condition_variable wake_;
  std::vector<Waiting> incoming_;  // under mu_
  bool stopping_ = false;          // under mu_
  std::thread thread_;
};

}  // namespace rmaflow
