#include "adapters/sim/seeded_draw.hpp"

namespace rmaflow::sim {

namespace {

// FNV-1a: stable across runs and builds.
std::uint64_t fnv1a(std::uint64_t h, std::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace

double seeded_draw(std::uint64_t seed, std::initializer_list<std::string_view> parts) {
  std::uint64_t h = 14695981039346656037ULL ^ seed;
  bool first = true;
  for (auto part : parts) {
    if (!first) h = fnv1a(h, "\n");
    first = false;
    h = fnv1a(h, part);
  }
  // A final mix so that nearby inputs spread over the whole range.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return static_cast<double>(h >> 11) / static_cast<double>(1ULL << 53);
}

}  // namespace rmaflow::sim
