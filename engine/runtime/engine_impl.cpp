#include "rmaflow/engine.hpp"
