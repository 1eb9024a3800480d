#include "engine/support/stop_signals.hpp"

#include <pthread.h>

namespace rmaflow {

StopSignals::StopSignals() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
}

int StopSignals::wait() {
  int received = 0;
  sigwait(&set_, &received);
  return received;
}

}  // namespace rmaflow
