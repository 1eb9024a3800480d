// How many files this process may hold open at once (RLIMIT_NOFILE). A server holds one for
// each connection; the soft limit most systems start a process with (1,024) is a default for
// programs that do not say what they need, and may be raised up to the hard limit that the
// administrator set.
#pragma once

#include <cstddef>

namespace rmaflow {

// Files a server holds besides its connections: the database, its log and lock files, the
// readers' connections, the I/O threads' and timers' descriptors, the layout children's pipes,
// an exporter's socket, the simulated systems' state. About 25 when idle; the rest is room.
inline constexpr std::size_t kFilesBesideConnections = 64;

// Raises this process's soft limit to its hard one (to the kernel's most, fs.nr_open, when the
// hard one is unlimited), and returns the soft limit then in force. When the raise is refused,
// the limit stays as it was and is returned.
std::size_t raise_open_files_limit();

}  // namespace rmaflow
