// The one name a database file is opened by. SQLite keeps a database's write-ahead log beside
// the name it was opened with ("<name>-wal"), so two names for one file mean two logs: a
// reader through the other name misses committed transactions, and a writer through it
// checkpoints its own log over the other's (a corrupt database). Every open goes through the
// canonical path (symbolic links and relative parts resolved), and a file with more than one
// hard link, which no path can name uniquely, is refused.
#pragma once

#include <string>

namespace rmaflow {

// The absolute path of `path` with symbolic links resolved (for a file that does not exist
// yet, as far as its directories exist). Throws Error(storage) naming the file when it has
// more than one hard link.
std::string canonical_db_path(const std::string& path);

}  // namespace rmaflow
