set(RMAFLOW_ADAPTER_SOURCES
  adapters/registry.cpp
)
