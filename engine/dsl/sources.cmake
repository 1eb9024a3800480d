set(RMAFLOW_DSL_SOURCES
  engine/dsl/definition.cpp
)
