set(RMAFLOW_RUNTIME_SOURCES
  engine/runtime/batch.cpp
  engine/runtime/engine_impl.cpp
  engine/runtime/fault_points.cpp
  engine/runtime/instance.cpp
  engine/runtime/step_machine.cpp
  engine/runtime/timer_queue.cpp
)
