// Fuzz harnesses: each takes arbitrary bytes to one edge where outside input enters rmaflow and
// checks what must hold for any input: no crash, no exception other than the edge's own
// refusal, and every refusal or result still serializable as JSON (an answer or a history
// event that cannot be written is how one bad input used to stop the engine).
//
// The same functions run under libFuzzer (fuzz_main.cpp, `-DRMAFLOW_FUZZ=ON`, in CI) and over
// the corpus in tests/fuzz/corpus/<name>/ in `make test` (replay_tests.cpp). A harness throws
// or aborts on a violated invariant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace rmaflow::fuzz {

using Harness = int (*)(const std::uint8_t* data, std::size_t size);

int yaml_loader(const std::uint8_t* data, std::size_t size);
int jq_template(const std::uint8_t* data, std::size_t size);
int http_request(const std::uint8_t* data, std::size_t size);
int json_body(const std::uint8_t* data, std::size_t size);
int response_mapping(const std::uint8_t* data, std::size_t size);
// A workflow's input schema and a start input, split at the first "\n---\n". No pattern is
// matched with backtracking any more, patternProperties' included (engine/dsl/key_patterns.hpp),
// so it runs in CI's timed run as the others do.
int input_schema(const std::uint8_t* data, std::size_t size);

struct NamedHarness {
  const char* name;  // its corpus directory
  Harness run;
};
const std::vector<NamedHarness>& harnesses();

}  // namespace rmaflow::fuzz
