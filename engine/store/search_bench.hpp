// The data `rmaflow bench --mode search` measures list filters on: finished instances written
// straight into a new rmaflow database (not run: a million would take the engine minutes),
// each with four search attributes (docs/performance.md).
#pragma once

#include <cstdint>
#include <string>

namespace rmaflow {

// Fills the new database `path` with `instances` finished instances of workflow "bench", ids
// in creation order, and their attributes: customer_id "C-<n mod customers>" (so each customer
// has instances/customers of them), channel one of web, store, marketplace, phone, value a
// number in [0, 10000) spread evenly, and returned_at an RFC 3339 time, one minute apart.
// Throws Error(storage).
void fill_search_bench(const std::string& path, std::int64_t instances, std::int64_t customers);

}  // namespace rmaflow
