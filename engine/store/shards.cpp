// Shards: how nodes sharing one database divide its instances (rmaflow/store.hpp).
#include <cstdint>
#include <string_view>

#include "rmaflow/store.hpp"

namespace rmaflow {

namespace {
constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
}

int shard_of(std::string_view instance_id) {
  if (instance_id.empty()) return 0;
  auto at = kCrockford.find(instance_id.back());
  return at == std::string_view::npos ? 0 : static_cast<int>(at);
}

int shard_of_key(std::string_view workflow, std::string_view business_key) {
  // FNV-1a over "workflow\0key": stable across builds and machines, as it must be for nodes
  // of different versions to agree.
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  auto mix = [&hash](unsigned char byte) {
    hash ^= byte;
    hash *= 0x100000001b3ULL;
  };
  for (char c : workflow) mix(static_cast<unsigned char>(c));
  mix(0);
  for (char c : business_key) mix(static_cast<unsigned char>(c));
  return static_cast<int>(hash % kShards);
}

}  // namespace rmaflow
