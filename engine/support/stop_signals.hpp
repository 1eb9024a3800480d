// SIGTERM and SIGINT as a program's request to stop, for a thread that waits for them.
#pragma once

#include <signal.h>

namespace rmaflow {

// Blocks SIGTERM and SIGINT in the calling thread, and so in every thread it starts afterwards:
// construct it before starting any, then wait() sees them and no other thread is interrupted.
class StopSignals {
 public:
  StopSignals();
  // Blocks until SIGTERM or SIGINT arrives; returns which.
  int wait();

 private:
  sigset_t set_;
};

}  // namespace rmaflow
