// Read-only connections to the database for the API's queries, so that queries never wait for
// the engine's thread nor hold its store lock: SQLite in WAL mode lets them read every committed
// batch while the engine writes. Connections are opened on demand and reused.
//
// Thread-safety: get() may be called from any thread; a Lease is used by one thread.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rmaflow/store.hpp"

namespace rmaflow::api {

class ReadStores {
 public:
  explicit ReadStores(std::string db_path) : db_path_(std::move(db_path)) {}

  // A connection until the lease goes; it then returns to the pool.
  class Lease {
   public:
    Lease(ReadStores& owner, std::unique_ptr<Store> store)
        : owner_(owner), store_(std::move(store)) {}
    ~Lease() { owner_.give_back(std::move(store_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Store& operator*() const { return *store_; }
    Store* operator->() const { return store_.get(); }

   private:
    ReadStores& owner_;
    std::unique_ptr<Store> store_;
  };

  // Throws Error(storage) when the database cannot be opened.
  Lease get();

 private:
  void give_back(std::unique_ptr<Store> store);

  std::string db_path_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Store>> idle_;
};

}  // namespace rmaflow::api
