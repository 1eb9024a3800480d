// Instance ids: 26-character, time-ordered (ULID layout, Crockford base32), unique across
// databases, so that idempotency keys built from them never collide between two deployments
// that share an external system.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "rmaflow/time.hpp"

namespace rmaflow {

class IdGenerator {
 public:
  explicit IdGenerator(std::uint64_t seed);
  // Strictly increasing for ids made by this generator, even within one millisecond. With a
  // `shard` (0..31), the id's last digit is that shard's (shard_of() in rmaflow/store.hpp).
  std::string next(TimePoint now, int shard = -1);

 private:
  std::mt19937_64 rng_;
  std::int64_t last_ms_ = -1;
  std::uint64_t hi_ = 0;  // 16 random bits
  std::uint64_t lo_ = 0;  // 64 random bits
};

}  // namespace rmaflow
