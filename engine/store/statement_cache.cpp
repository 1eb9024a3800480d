#include "engine/store/statement_cache.hpp"

#include <utility>

namespace rmaflow::store {

StatementCache::Use::Use(Use&& other) noexcept
    : entry_(std::exchange(other.entry_, nullptr)), own_(std::move(other.own_)) {}

StatementCache::Use::~Use() {
  if (entry_ == nullptr) return;  // its own statement, finalised with it; or moved from
  entry_->statement.tryReset();   // never throws; the bindings are cleared when it is next used
  entry_->in_use = false;
}

StatementCache::Use StatementCache::get(const std::string& sql) {
  auto found = entries_.find(sql);
  if (found != entries_.end()) {
    if (found->second->in_use) return Use(std::make_unique<SQLite::Statement>(db_, sql));
    found->second->statement.clearBindings();
    found->second->in_use = true;
    return Use(*found->second);
  }
  if (entries_.size() >= capacity_) {
    std::erase_if(entries_, [](const auto& kept) { return !kept.second->in_use; });
  }
  auto entry = std::make_unique<Entry>(SQLite::Statement(db_, sql));
  auto& kept = *entry;
  entries_.emplace(sql, std::move(entry));
  kept.in_use = true;
  return Use(kept);
}

}  // namespace rmaflow::store
