#include "examples/mock_service/mock_host.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/system_timer.hpp>
#include <fmt/format.h>

namespace rmaflow::mock {

namespace asio = boost::asio;

namespace {

constexpr std::chrono::milliseconds kSignalTimeout{10'000};

TimePoint wall_now() {
  return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

// The wall clock, shifted so that it read `start` when it was made.
class ShiftedClock final : public Clock {
 public:
  explicit ShiftedClock(TimePoint start) : shift_(start - wall_now()) {}
  TimePoint now() const override { return wall_now() + shift_; }

 private:
  Duration shift_;
};

// What the engine's answer to a signal means for the system that sent it.
SignalDelivery delivery_of(const net::HttpResult& result, const std::string& where) {
  if (!result.ok()) {
    return {std::nullopt, Error(Errc::storage, fmt::format("{}: {}", where, result.message))};
  }
  const auto& r = result.response;
  auto body = nlohmann::json::parse(r.body, nullptr, false);
  auto detail = body.is_object() ? body.value("detail", r.body) : r.body;
  if (r.status >= 200 && r.status < 300) {
    SignalResult accepted;
    if (body.is_object()) {
      accepted.instance_id = body.value("instance_id", "");
      accepted.idempotency_key = body.value("idempotency_key", "");
      accepted.duplicate = body.value("duplicate", false);
    }
    return {accepted, std::nullopt};
  }
  auto code = r.status == 404                                      ? Errc::not_found
              : r.status == 409 || r.status == 410 || r.status == 422 ? Errc::refused
              : r.status == 400                                    ? Errc::invalid_argument
                                                                   : Errc::storage;
  return {std::nullopt, Error(code, fmt::format("{} answered {}: {}", where, r.status, detail))};
}

}  // namespace

MockHost::MockHost(std::optional<net::HttpUrl> signals_to, std::optional<TimePoint> start)
    : clock_(start ? std::make_shared<ShiftedClock>(*start) : system_clock()),
      signals_to_(std::move(signals_to)),
      work_(io_.get_executor()) {
  thread_ = std::thread([this] { io_.run(); });
}

MockHost::~MockHost() {
  work_.reset();
  io_.stop();
  thread_.join();
}

void MockHost::call_at(TimePoint due, std::function<void()> fn) {
  asio::post(io_, [this, due, fn = std::move(fn)]() mutable {
    // Timers run on the wall clock: move the due time back by the clock's shift.
    auto timer = std::make_shared<asio::system_timer>(io_, due - (clock_->now() - wall_now()));
    timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code& ec) {
      if (!ec) fn();
    });
  });
}

void MockHost::deliver_signal(SignalRequest request, SignalDone done) {
  if (!signals_to_) {
    done({std::nullopt, Error(Errc::storage, "no --signals-to server: the event stays stored")});
    return;
  }
  net::HttpRequest post;
  post.method = "POST";
  post.target = signals_to_->target;
  post.headers.set("Content-Type", "application/json");
  nlohmann::json body = {{"workflow", request.workflow},
                         {"business_key", request.business_key},
                         {"name", request.name},
                         {"payload", request.payload},
                         {"idempotency_key", request.idempotency_key}};
  if (!request.match.is_null()) body["match"] = request.match;
  post.body = body.dump();
  auto where = fmt::format("http://{}{}", signals_to_->endpoint.to_string(), signals_to_->target);
  client_.async_request(signals_to_->endpoint, std::move(post), kSignalTimeout,
                        [where, done = std::move(done)](net::HttpResult result) {
                          done(delivery_of(result, where));
                        });
}

}  // namespace rmaflow::mock
