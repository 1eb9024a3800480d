// Turning SQLite's exceptions into rmaflow::Error at the store boundary.
//
// Every message is one sentence that names the database file, so that a user who sees it
// knows which file is at fault; SQLite's own wording follows in parentheses.
#pragma once

#include <SQLiteCpp/Exception.h>

#include <string>
#include <string_view>

#include "rmaflow/errors.hpp"

namespace rmaflow::store {

// The Error for a SQLite failure while doing `action` ("commit to", "read instances from")
// on `path`. A file that is not a SQLite database at all gets its own wording.
Error storage_error(const std::string& path, std::string_view action, const SQLite::Exception& e);

// Runs `fn`, rethrowing any SQLite::Exception as the Error above. rmaflow::Error passes through.
template <class Fn>
decltype(auto) guard(const std::string& path, std::string_view action, Fn&& fn) {
  try {
    return fn();
  } catch (const SQLite::Exception& e) {
    throw storage_error(path, action, e);
  }
}

}  // namespace rmaflow::store
