// The lock an engine's store is used under: by the engine thread, by the commit writer, by
// deploy() and by next_timer().
//
// Unlike a mutex it may be released by another thread than the one that took it. The engine
// thread takes it when it hands a batch to the commit writer (GroupCommit), which releases it
// once the batch is committed. So whatever the engine thread reads from the store after a
// hand-off waits for that commit and sees it: a read never sees the database without a batch
// the engine has already handed over, nor a transaction half written on the same connection.
#pragma once

#include <semaphore>

namespace rmaflow {

class StoreGate {
 public:
  void lock() { free_.acquire(); }
  void unlock() { free_.release(); }

 private:
  std::binary_semaphore free_{1};
};

}  // namespace rmaflow
