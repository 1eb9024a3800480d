// MockHost: what the mock service offers the simulated systems in place of an engine: a
// real-time clock, timers on a thread of its own, and the events the systems send back (the
// warehouse's receipt scan) POSTed to an rmaflow server's signal endpoint,
// `POST /v1/signals {workflow, business_key, name, payload, idempotency_key}`.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <memory>
#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "engine/net/http_client.hpp"
#include "rmaflow/adapter.hpp"

namespace rmaflow::mock {

class MockHost final : public AdapterHost {
 public:
  // Without `signals_to`, events stay stored in the systems' files, undelivered. With
  // `start`, the clock reads `start` now and runs at real speed from there (a demo set on a
  // given day); otherwise it is the wall clock.
  explicit MockHost(std::optional<net::HttpUrl> signals_to,
                    std::optional<TimePoint> start = std::nullopt);
  // Pending timers are dropped: what they stood for is stored and re-armed next time.
  ~MockHost() override;

  const Clock& clock() const override { return *clock_; }
  void call_at(TimePoint due, std::function<void()> fn) override;
  void deliver_signal(SignalRequest request, SignalDone done) override;

 private:
  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::shared_ptr<Clock> clock_;
  std::optional<net::HttpUrl> signals_to_;
  boost::asio::io_context io_;
  std::optional<WorkGuard> work_;
  std::thread thread_;
  net::HttpClient client_;
};

}  // namespace rmaflow::mock
