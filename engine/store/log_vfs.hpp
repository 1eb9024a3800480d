// A SQLite VFS over the system's own ("unix") that writes a connection's write-ahead log one
// commit at a time.
//
// SQLite writes each page it logs as two writes, the frame's 24-byte header and then the page,
// so an engine commit of 25 pages costs 50 system calls before its sync (about 90 µs on the
// standard machine, against about 12 µs for one write of the same bytes). Through this VFS
// the log's file gathers writes that follow one another in memory and writes them as one when
// SQLite syncs the log, reads from it, truncates it, asks its size or closes it, when a write
// does not follow the last, and at every 120 KiB gathered (the most the system VFS writes at
// once). Every other file (the database, its shared index) is the system VFS's own, untouched.
//
// It suits a connection with `synchronous=FULL` only: there every commit syncs the log before
// SQLite publishes the commit to other connections (the shared index), so nothing another
// connection can read is still gathered. Under NORMAL a commit is published unsynced, and its
// pages could be read by another connection before they were written.
//
// Thread-safety: as a SQLite connection's files, used by one thread at a time.
#pragma once

#include <cstdint>

namespace rmaflow::store {

// The VFS's name for sqlite3_open_v2(), registered (not as the default) on the first call.
const char* log_gathering_vfs();

// The writes SQLite made to logs opened through the VFS, and those the VFS made to the files
// underneath, so far in this process (for tests and diagnostics).
struct LogWrites {
  std::uint64_t asked = 0;
  std::uint64_t made = 0;
};
LogWrites log_writes();

}  // namespace rmaflow::store
