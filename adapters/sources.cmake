set(RMAFLOW_ADAPTER_SOURCES
  adapters/registry.cpp
  adapters/builtin/builtin_adapter.cpp
  adapters/builtin/effect_ledger.cpp
)
