// What the engine's threads say about themselves to the operating system.
#pragma once

#include <string_view>

namespace rmaflow {

// Names the calling thread, as `top -H`, `ps -L`, `perf` and debuggers show it. Linux keeps
// at most 15 bytes of a name: a longer one is cut.
void name_this_thread(std::string_view name);

// Puts the calling thread in Linux's idle scheduling class (SCHED_IDLE): it runs on a core no
// other thread wants, and any other thread that wakes on its core takes the core at once. For
// background work that the engine's threads must never wait behind. False when the system
// refuses (the thread then runs as before).
bool run_this_thread_when_idle();

}  // namespace rmaflow
