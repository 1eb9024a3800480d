// The limits of the adapters file (CallLimit, AdapterLimits) applied to the engine's adapter
// calls: a call goes out when its adapter and its operation each have a slot (fewer than
// `in_flight` unanswered) and their rate allows it (calls spaced 1/per_second apart: never a
// burst); otherwise it waits in its adapter's queue, in the order calls were made. A call
// holds its slots until the adapter answers it (also when its attempt timed out meanwhile:
// the system is still working on it).
//
// Only the engine thread uses it; snapshot() may be called from any thread.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "rmaflow/adapter.hpp"
#include "rmaflow/engine.hpp"
#include "rmaflow/time.hpp"

namespace rmaflow {

// A call waiting for its turn, or let through: which cursor's attempt it is.
struct CallTicket {
  std::string instance_id;
  std::string branch;
  std::uint64_t generation = 0;
  std::string adapter;
  std::string operation;
  TimePoint queued_at;  // when it was made (wall clock, for the instance's view)
};

class CallLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit CallLimiter(const std::map<std::string, AdapterLimits, std::less<>>& limits);

  // Whether calls of this adapter and operation are limited at all.
  bool limited(std::string_view adapter, std::string_view operation) const;
  // True: the call may go now (its slots are taken; release() them when it is answered).
  // False: it waits; due() hands it out in its turn.
  bool admit(CallTicket ticket, Clock::time_point now);
  void release(const std::string& adapter, const std::string& operation);
  // The waiting calls whose turn has come, in order (their slots taken), and when the next one
  // may come (nullopt: none waits, or only for a slot to free up).
  std::vector<CallTicket> due(Clock::time_point now, std::optional<Clock::time_point>& next);

  std::vector<LimitState> snapshot() const;
  std::optional<QueuedCall> queued(const std::string& instance_id) const;

 private:
  struct Gate {
    CallLimit limit;
    std::size_t in_flight = 0;
    Clock::time_point next_start{};  // the rate's: no call starts before it
    std::uint64_t waited = 0;
    double waited_seconds = 0;
  };
  struct Waiting {
    CallTicket ticket;
    Clock::time_point since;
  };
  Gate* gate(const std::string& adapter, const std::string& operation);
  bool open(const Gate* g, Clock::time_point now) const;
  void take(Gate* g, Clock::time_point now);
  // Takes both gates if both are open.
  bool pass(const std::string& adapter, const std::string& operation, Clock::time_point now);
  void publish();

  std::map<std::string, Gate, std::less<>> adapters_;               // by adapter
  std::map<std::string, Gate, std::less<>> operations_;             // by "adapter.operation"
  std::map<std::string, std::deque<Waiting>, std::less<>> queues_;  // by adapter

  mutable std::mutex mu_;  // guards the published copies below
  std::vector<LimitState> published_;
  std::map<std::string, QueuedCall> published_queued_;  // by instance id
};

}  // namespace rmaflow
