// The libFuzzer entry point of one harness, chosen at build time (RMAFLOW_FUZZ_HARNESS).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/harnesses.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return rmaflow::fuzz::RMAFLOW_FUZZ_HARNESS(data, size);
}
