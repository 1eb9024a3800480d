// EngineLock: at most one engine writes a database. Held for the engine's lifetime as an
// exclusive flock on "<db>.lock" beside the database's canonical path (db_file.hpp), which
// records the holder's pid; the kernel drops it when the process dies, however it dies, so a
// crashed engine never blocks its successor.
#pragma once

#include <string>

namespace rmaflow {

class EngineLock {
 public:
  // Throws Error(conflict) naming the database and the holder's pid when another engine
  // holds it (under whatever name it opened it), Error(storage) when the file has other hard
  // links, Error(io) when the lock file cannot be created.
  explicit EngineLock(const std::string& db_path);
  ~EngineLock();
  EngineLock(const EngineLock&) = delete;
  EngineLock& operator=(const EngineLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace rmaflow
