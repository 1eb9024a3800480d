#include "engine/support/ids.hpp"

namespace rmaflow {

namespace {
constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
}

IdGenerator::IdGenerator(std::uint64_t seed) : rng_(seed) {}

std::string IdGenerator::next(TimePoint now) {
  std::int64_t ms = to_millis(now);
  if (ms <= last_ms_) {
    // Same (or an earlier) millisecond: keep the time part and count the random part up.
    ms = last_ms_;
    if (++lo_ == 0) hi_ = (hi_ + 1) & 0xffff;
  } else {
    last_ms_ = ms;
    lo_ = rng_();
    hi_ = rng_() & 0xffff;
  }
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
