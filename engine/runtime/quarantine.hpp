// The quarantine record: which instance the engine's thread is working on, kept where it
// outlives the process, so that an instance the engine dies on (a crash inside jq, a stuck
// evaluation killed by a supervisor) cannot take the engine down again at every restart.
//
// The record is a small file beside the database ("<db>.processing"; for a PostgreSQL
// database, one per database and node in a directory of the user's: quarantine_record_path()),
// written through a shared memory map: a store to it is one memcpy, and the kernel keeps it when
// the process dies, however it dies (not across a power cut, which is not what it is for). When an
// engine opens, the record says which instance the last process was processing when it died, if
// any; when that is the same instance two deaths in a row, the engine quarantines it: suspends it
// with an incident before recovery resumes anything, so recovery completes.
//
// Used by the engine's thread only.
#pragma once

#include <optional>
#include <string>

namespace rmaflow {

class QuarantineRecord {
 public:
  // Opens (creating) the record at `path` (quarantine_record_path()) and reads what the last
  // process left. Throws Error(io) when the file cannot be created or mapped.
  explicit QuarantineRecord(const std::string& path);
  ~QuarantineRecord();
  QuarantineRecord(const QuarantineRecord&) = delete;
  QuarantineRecord& operator=(const QuarantineRecord&) = delete;

  // The instance to quarantine: the engine died while processing it the last two times.
  std::optional<std::string> suspect() const;
  // The suspect was quarantined (or is gone): the count starts again.
  void cleared();

  // Marks `instance_id` as being processed until the scope ends (then the one marked before,
  // if scopes nest). A null record marks nothing.
  class Scope {
   public:
    Scope(QuarantineRecord* record, const std::string& instance_id);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    QuarantineRecord* record_;
    std::string previous_;
  };

 private:
  struct Layout;
  void set_current(const std::string& id);
  Layout* layout_ = nullptr;
  int fd_ = -1;
};

// Where the record of the engine on `db_location` (a file, or a PostgreSQL URI) as `node` (empty
// for a lone engine) is kept: beside a SQLite file; for PostgreSQL, in $XDG_RUNTIME_DIR/rmaflow
// or /tmp/rmaflow-<uid> (made 0700, refused unless it is this user's directory), named by a
// digest of the URI and the node. Throws Error(io) when that directory cannot be used.
std::string quarantine_record_path(const std::string& db_location, const std::string& node);

}  // namespace rmaflow
