// A caller's ReplyFn while its request is in the engine: answered once, with the result when
// the commit carrying its transition is durable, or with the error that refused it. If neither
// happens (the commit failed, the engine was destroyed first), the last copy going away answers
// Error(storage), so no caller waits forever.
#pragma once

#include <exception>
#include <utility>

#include "rmaflow/engine.hpp"
#include "rmaflow/errors.hpp"

namespace rmaflow {

template <typename Result>
class PendingReply {
 public:
  explicit PendingReply(ReplyFn<Result> done) : done_(std::move(done)) {}
  PendingReply(const PendingReply&) = delete;
  PendingReply& operator=(const PendingReply&) = delete;
  ~PendingReply() {
    if (!done_) return;
    try {
      fail(std::make_exception_ptr(
          Error(Errc::storage, "the engine stopped before the change was committed")));
    } catch (...) {
      // A callback must not throw; a destructor cannot pass it on.
    }
  }

  void give(Result result) { take()(Reply<Result>{std::move(result), nullptr}); }
  void fail(std::exception_ptr error) { take()(Reply<Result>{std::nullopt, std::move(error)}); }

 private:
  ReplyFn<Result> take() { return std::exchange(done_, nullptr); }

  ReplyFn<Result> done_;
};

}  // namespace rmaflow
