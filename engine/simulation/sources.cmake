set(RMAFLOW_SIM_SOURCES
  engine/simulation/expectations.cpp
  engine/simulation/scenario_reader.cpp
  engine/simulation/scripted_world.cpp
  engine/simulation/simulator.cpp
)
