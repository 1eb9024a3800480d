set(RMAFLOW_RUNTIME_SOURCES
  engine/runtime/engine_impl.cpp
)
