// The prepared statements of one SQLite connection, kept by their SQL and used again.
//
// Preparing a statement parses and plans its SQL: for a read by key that costs more than the
// read (a profile of the instance views that answer awaited ends had more of their time in
// sqlite3_prepare than in reading).
// A store asks the cache for its SQL and gets the statement ready to bind, prepared once.
//
// A Use resets the statement when it goes, so that no read transaction stays open between
// two calls (in WAL mode an unreset statement keeps its snapshot, and the connection would
// read old rows). A statement already in use (a read inside a read) is prepared afresh for
// the inner one and not kept. The cache holds at most `capacity` statements; past it, the
// ones not in use are dropped.
//
// Thread-safety: as its connection, one thread at a time. It must go before the connection.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <memory>
#include <string>
#include <unordered_map>

namespace rmaflow::store {

class StatementCache {
  struct Entry {
    explicit Entry(SQLite::Statement s) : statement(std::move(s)) {}
    SQLite::Statement statement;
    bool in_use = false;
  };

 public:
  explicit StatementCache(SQLite::Database& db, std::size_t capacity = 64)
      : db_(db), capacity_(capacity) {}
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  // One use of a statement: bind its parameters, step it, and let it go.
  class Use {
   public:
    Use(Use&& other) noexcept;
    Use& operator=(Use&&) = delete;
    ~Use();
    SQLite::Statement& operator*() const { return entry_ ? entry_->statement : *own_; }
    SQLite::Statement* operator->() const { return &**this; }

   private:
    friend class StatementCache;
    explicit Use(Entry& entry) : entry_(&entry) {}
    explicit Use(std::unique_ptr<SQLite::Statement> own) : own_(std::move(own)) {}
    Entry* entry_ = nullptr;                  // a kept statement
    std::unique_ptr<SQLite::Statement> own_;  // or one of its own, when the kept one is in use
  };

  // The statement for `sql`, reset and without bindings. Throws SQLite::Exception when the
  // SQL does not prepare.
  Use get(const std::string& sql);

  std::size_t size() const { return entries_.size(); }

 private:
  SQLite::Database& db_;
  std::size_t capacity_;
  std::unordered_map<std::string, std::unique_ptr<Entry>> entries_;
};

}  // namespace rmaflow::store
