#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>

#include "tests/support/process.hpp"

// Every suite's main. Engines on PostgreSQL keep their quarantine records in the user's runtime
// directory (engine/runtime/quarantine.hpp): a suite points it, for itself and the processes it
// starts, at a directory of its own that goes when it ends, so that tests leave nothing behind.
int main(int argc, char** argv) {
  rmaflow::testing::TempDir runtime;
  ::setenv("XDG_RUNTIME_DIR", runtime.path().c_str(), 1);
  doctest::Context context(argc, argv);
  return context.run();
}
