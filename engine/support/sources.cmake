set(RMAFLOW_SUPPORT_SOURCES
  engine/support/errors.cpp
  engine/support/time.cpp
  engine/support/status.cpp
  engine/support/clock.cpp
  engine/support/sha256.cpp
  engine/support/ids.cpp
)
