set(RMAFLOW_STORE_SOURCES
  engine/store/sqlite_store.cpp
)
