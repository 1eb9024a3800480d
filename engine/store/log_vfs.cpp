#include "engine/store/log_vfs.hpp"

#include <sqlite3.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

namespace rmaflow::store {

namespace {

constexpr const char* kName = "rmaflow-log";
// The system VFS writes at most 128 KiB less a byte at a time (os_unix.c, seekAndWriteFd).
constexpr sqlite3_int64 kGatherMax = 120 << 10;

sqlite3_vfs* g_system = nullptr;  // the VFS underneath, set once at registration
std::atomic<std::uint64_t> g_asked{0}, g_made{0};

// A log file: the system's file, and the writes gathered for it. SQLite allocates
// `szOsFile` bytes for every file it opens through the VFS, so the system's own file object
// lives right behind this one.
struct LogFile {
  sqlite3_file base;   // first: SQLite sees a LogFile as a sqlite3_file
  char* gathered;      // kGatherMax bytes, malloc'd
  sqlite3_int64 from;  // where the gathered bytes go in the file
  sqlite3_int64 length;

  sqlite3_file* system() { return reinterpret_cast<sqlite3_file*>(this + 1); }
};

LogFile* as_log(sqlite3_file* file) {
  return reinterpret_cast<LogFile*>(file);
}

int flush(LogFile* log) {
  if (log->length == 0) return SQLITE_OK;
  auto* system = log->system();
  g_made.fetch_add(1, std::memory_order_relaxed);
  int rc =
      system->pMethods->xWrite(system, log->gathered, static_cast<int>(log->length), log->from);
  log->length = 0;
  return rc;
}

// Each method that reads, syncs, sizes or ends the file writes what is gathered first.
template <class Call>
int flushed(sqlite3_file* file, Call call) {
  auto* log = as_log(file);
  int rc = flush(log);
  return rc != SQLITE_OK ? rc : call(log->system());
}

int log_close(sqlite3_file* file) {
  auto* log = as_log(file);
  int rc = flush(log);
  int closed = log->system()->pMethods->xClose(log->system());
  std::free(log->gathered);
  log->gathered = nullptr;
  return rc != SQLITE_OK ? rc : closed;
}

int log_read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  return flushed(file, [&](sqlite3_file* s) { return s->pMethods->xRead(s, out, amount, offset); });
}

int log_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  auto* log = as_log(file);
  g_asked.fetch_add(1, std::memory_order_relaxed);
  const bool follows = log->length > 0 && offset == log->from + log->length;
  if ((!follows && log->length > 0) || log->length + amount > kGatherMax) {
    int rc = flush(log);
    if (rc != SQLITE_OK) return rc;
  }
  if (amount > kGatherMax) {
    g_made.fetch_add(1, std::memory_order_relaxed);
    return log->system()->pMethods->xWrite(log->system(), data, amount, offset);
  }
  if (log->length == 0) log->from = offset;
  std::memcpy(log->gathered + log->length, data, static_cast<std::size_t>(amount));
  log->length += amount;
  return SQLITE_OK;
}

int log_truncate(sqlite3_file* file, sqlite3_int64 size) {
  return flushed(file, [&](sqlite3_file* s) { return s->pMethods->xTruncate(s, size); });
}

int log_sync(sqlite3_file* file, int flags) {
  return flushed(file, [&](sqlite3_file* s) { return s->pMethods->xSync(s, flags); });
}

int log_file_size(sqlite3_file* file, sqlite3_int64* size) {
  return flushed(file, [&](sqlite3_file* s) { return s->pMethods->xFileSize(s, size); });
}

int log_file_control(sqlite3_file* file, int op, void* arg) {
  return flushed(file, [&](sqlite3_file* s) { return s->pMethods->xFileControl(s, op, arg); });
}

// The rest as the system's file does it.
sqlite3_file* system_of(sqlite3_file* file) {
  return as_log(file)->system();
}
int log_lock(sqlite3_file* f, int level) {
  return system_of(f)->pMethods->xLock(system_of(f), level);
}
int log_unlock(sqlite3_file* f, int level) {
  return system_of(f)->pMethods->xUnlock(system_of(f), level);
}
int log_check_reserved(sqlite3_file* f, int* out) {
  return system_of(f)->pMethods->xCheckReservedLock(system_of(f), out);
}
int log_sector_size(sqlite3_file* f) {
  return system_of(f)->pMethods->xSectorSize(system_of(f));
}
int log_device(sqlite3_file* f) {
  return system_of(f)->pMethods->xDeviceCharacteristics(system_of(f));
}

// A log is never mapped to shared memory or into the address space (the database's shared
// index is the database file's): the version 1 methods are all it needs.
sqlite3_io_methods log_methods() {
  sqlite3_io_methods m{};
  m.iVersion = 1;
  m.xClose = log_close;
  m.xRead = log_read;
  m.xWrite = log_write;
  m.xTruncate = log_truncate;
  m.xSync = log_sync;
  m.xFileSize = log_file_size;
  m.xLock = log_lock;
  m.xUnlock = log_unlock;
  m.xCheckReservedLock = log_check_reserved;
  m.xFileControl = log_file_control;
  m.xSectorSize = log_sector_size;
  m.xDeviceCharacteristics = log_device;
  return m;
}
const sqlite3_io_methods kLogMethods = log_methods();

int vfs_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  if ((flags & SQLITE_OPEN_WAL) == 0) {
    // Not a log: the system's file object, in the same place.
    return g_system->xOpen(g_system, name, file, flags, out_flags);
  }
  // No methods until it is open: SQLite then closes nothing.
  auto* log = new (file) LogFile{{nullptr}, nullptr, 0, 0};
  log->gathered = static_cast<char*>(std::malloc(kGatherMax));
  if (log->gathered == nullptr) return SQLITE_NOMEM;
  int rc = g_system->xOpen(g_system, name, log->system(), flags, out_flags);
  if (rc != SQLITE_OK) {
    std::free(log->gathered);
    log->gathered = nullptr;
    return rc;
  }
  log->base.pMethods = &kLogMethods;
  return SQLITE_OK;
}

// Everything but opening a file is the system VFS's.
int vfs_delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return g_system->xDelete(g_system, name, sync_dir);
}
int vfs_access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_system->xAccess(g_system, name, flags, out);
}
int vfs_full_path(sqlite3_vfs*, const char* name, int size, char* out) {
  return g_system->xFullPathname(g_system, name, size, out);
}
int vfs_randomness(sqlite3_vfs*, int size, char* out) {
  return g_system->xRandomness(g_system, size, out);
}
int vfs_sleep(sqlite3_vfs*, int micros) {
  return g_system->xSleep(g_system, micros);
}
int vfs_current_time(sqlite3_vfs*, double* out) {
  return g_system->xCurrentTime(g_system, out);
}
int vfs_last_error(sqlite3_vfs*, int size, char* out) {
  return g_system->xGetLastError(g_system, size, out);
}
int vfs_current_time64(sqlite3_vfs*, sqlite3_int64* out) {
  return g_system->xCurrentTimeInt64(g_system, out);
}

sqlite3_vfs g_vfs{};

}  // namespace

const char* log_gathering_vfs() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_system = sqlite3_vfs_find(nullptr);
    g_vfs.iVersion = 2;
    // A non-log file is the system's object itself, so both must fit.
    g_vfs.szOsFile = static_cast<int>(sizeof(LogFile)) + g_system->szOsFile;
    g_vfs.mxPathname = g_system->mxPathname;
    g_vfs.zName = kName;
    g_vfs.xOpen = vfs_open;
    g_vfs.xDelete = vfs_delete;
    g_vfs.xAccess = vfs_access;
    g_vfs.xFullPathname = vfs_full_path;
    g_vfs.xRandomness = vfs_randomness;
    g_vfs.xSleep = vfs_sleep;
    g_vfs.xCurrentTime = vfs_current_time;
    g_vfs.xGetLastError = vfs_last_error;
    g_vfs.xCurrentTimeInt64 = vfs_current_time64;
    sqlite3_vfs_register(&g_vfs, /*makeDflt=*/0);
  });
  return kName;
}

LogWrites log_writes() {
  return {g_asked.load(std::memory_order_relaxed), g_made.load(std::memory_order_relaxed)};
}

}  // namespace rmaflow::store
