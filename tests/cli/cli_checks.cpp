#include "tests/cli/cli_checks.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <sstream>

namespace rmaflow::testing {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

void check_failure(const ProcessResult& r, int exit_code,
                   std::initializer_list<std::string> culprits, std::size_t diagnostics) {
  INFO("stdout:\n", r.out, "\nstderr:\n", r.err);
  CHECK(r.signal == 0);
  CHECK(r.exit_code == exit_code);
  auto lines = lines_of(r.err);
  REQUIRE(lines.size() == diagnostics + 1);
  CHECK(r.err.back() == '\n');
  const auto& sentence = lines.back();
  CHECK(sentence.rfind("rmaflow", 0) == 0);
  for (const auto& culprit : culprits)
    CHECK_MESSAGE(contains(sentence, culprit), "names ", culprit);
  CHECK_FALSE(contains(r.err, "terminate"));
  CHECK_FALSE(contains(r.err, "what():"));
}

void kill_then_finish(const std::function<ProcessResult(const std::string& kill_at)>& run,
                      const std::vector<std::string>& kills) {
  for (const auto& kill : kills) {
    auto result = run(kill);
    INFO("kill at ", kill, "\nstdout:\n", result.out, "\nstderr:\n", result.err);
    REQUIRE(result.signal == SIGKILL);
  }
  auto last = run("");
  INFO("stdout:\n", last.out, "\nstderr:\n", last.err);
  REQUIRE(last.exit_code == 0);
}

}  // namespace rmaflow::testing
