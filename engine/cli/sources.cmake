set(RMAFLOW_CLI_SOURCES
  engine/cli/main.cpp
  engine/cli/cmd_validate.cpp
  engine/cli/cmd_run.cpp
  engine/cli/cmd_queries.cpp
  engine/cli/cmd_bench.cpp
)
