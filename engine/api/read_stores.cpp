#include "engine/api/read_stores.hpp"

namespace rmaflow::api {

namespace {

// More idle connections than I/O threads and bulk jobs are never needed at once.
constexpr std::size_t kMaxIdle = 8;

}  // namespace

ReadStores::Lease ReadStores::get() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto store = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(store));
    }
  }
  return Lease(*this, open_store(db_path_, StoreOptions{SyncMode::normal, true}));
}

void ReadStores::give_back(std::unique_ptr<Store> store) {
  std::lock_guard lock(mu_);
  if (idle_.size() < kMaxIdle) idle_.push_back(std::move(store));
}

}  // namespace rmaflow::api
