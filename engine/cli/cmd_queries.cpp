#include "engine/cli/commands.hpp"

namespace rmaflow::cli {

void register_queries(CLI::App& app, int& exit_code) {
  (void)app;
  (void)exit_code;
}

}  // namespace rmaflow::cli
