#include "engine/support/ids.hpp"

namespace rmaflow {

namespace {
constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
}

IdGenerator::IdGenerator(std::uint64_t seed) : rng_(seed) {}

std::string IdGenerator::next(TimePoint now, int shard) {
  std::int64_t ms = to_millis(now);
  if (ms <= last_ms_) {
    // Same (or an earlier) millisecond: keep the time part and count the random part up (by
    // 32 when the last digit is chosen).
    ms = last_ms_;
    std::uint64_t up = shard < 0 ? lo_ + 1 : (lo_ | 31) + 1;
    if (up == 0) hi_ = (hi_ + 1) & 0xffff;
    lo_ = up;
  } else {
    last_ms_ = ms;
    lo_ = rng_();
    hi_ = rng_() & 0xffff;
  }
  if (shard >= 0) lo_ = (lo_ & ~std::uint64_t{31}) | static_cast<std::uint64_t>(shard & 31);
  // ULID layout: 10 digits of time (48 bits), then 16 digits of randomness (80 bits).
  std::string out(26, '0');
  auto t = static_cast<std::uint64_t>(ms);
  for (int i = 9; i >= 0; --i, t >>= 5) out[i] = kAlphabet[t & 31];
  // The 80 random bits as hi (16) : lo (64), five bits at a time from the right.
  std::uint64_t lo = lo_, hi = hi_;
  for (int i = 25; i >= 10; --i) {
    out[i] = kAlphabet[lo & 31];
    lo = (lo >> 5) | ((hi & 31) << 59);
    hi >>= 5;
  }
  return out;
}

}  // namespace rmaflow
