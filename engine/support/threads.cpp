#include "engine/support/threads.hpp"

#include <linux/ioprio.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

namespace rmaflow {

void name_this_thread(std::string_view name) {
  constexpr std::size_t kMaxLength = 15;  // TASK_COMM_LEN less its terminating zero
  std::string kept(name.substr(0, kMaxLength));
  // Only a name too long fails, which `kept` cannot be: a thread's name is a convenience.
  (void)pthread_setname_np(pthread_self(), kept.c_str());
}

bool run_this_thread_when_idle() {
  // Linux would take the idle class for the thread's disk requests too, which a disk scheduler
  // serves only when no one else is using the disk: they are given the usual class first, and
  // the thread stays as it is unless they can be.
  constexpr int kCallingThread = 0;
  if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, kCallingThread,
              IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, IOPRIO_NORM)) != 0) {
    return false;
  }
  sched_param param{};
  return pthread_setschedparam(pthread_self(), SCHED_IDLE, &param) == 0;
}

}  // namespace rmaflow
