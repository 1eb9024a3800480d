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
  sched_param param{};
  if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &param) != 0) return false;
  // Linux would take the idle class for the thread's disk requests too, which a disk
  // scheduler serves only when no one else is using the disk: they keep the usual class.
  constexpr int kCallingThread = 0;
  (void)syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, kCallingThread,
                IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, IOPRIO_NORM));
  return true;
}

}  // namespace rmaflow
