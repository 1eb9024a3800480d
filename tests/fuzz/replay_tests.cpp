// Every input of the fuzzing corpus (tests/fuzz/corpus/<harness>/), fed to its harness: the
// inputs that once crashed rmaflow stay fixed, and the harnesses stay runnable without clang.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "tests/fuzz/harnesses.hpp"
#include "tests/support/process.hpp"

namespace fs = std::filesystem;

TEST_CASE("Fuzz.Issue12.CorpusReplays") {
  std::size_t total = 0;
  for (const auto& harness : rmaflow::fuzz::harnesses()) {
    fs::path dir = fs::path(rmaflow::testing::source_dir()) / "tests/fuzz/corpus" / harness.name;
    REQUIRE_MESSAGE(fs::is_directory(dir), dir.string());
    std::size_t inputs = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      INFO(harness.name << ": " << entry.path().filename().string());
      CHECK_NOTHROW(harness.run(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
      ++inputs;
    }
    CHECK_MESSAGE(inputs > 0, harness.name << " has no corpus");
    total += inputs;
  }
  MESSAGE(total << " corpus inputs replayed");
}
