// The business SLA report (`rmaflow report sla`): for the instances started in a period, the
// time from start to each milestone their workflow declares, as percentiles by workflow,
// milestone and a search attribute of the start input (such as channel), with the instances
// breaching a milestone's SLA: reached it later than the SLA after their start, or have not
// reached it, are unfinished and are past it.
//
// Read from the histories in the database (what happened, in engine time), so it is the same
// for a server's database and for one `run --clock virtual` filled in a month of virtual time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rmaflow/store.hpp"

namespace rmaflow::observe {

struct SlaQuery {
  std::optional<TimePoint> from;    // started at or after
  std::optional<TimePoint> before;  // started strictly before
  std::string workflow;             // empty: all
  std::string by;                   // a key of the start input to group by ("channel"); empty: none
  TimePoint now;                    // when unfinished instances are judged
};

struct SlaRow {
  std::string workflow;
  std::string milestone;
  std::string group;                 // the `by` value ("web"); "-" when absent or not grouped
  std::int64_t started = 0;          // instances of the group in the period
  std::int64_t reached = 0;
  Duration p50{}, p90{}, p95{}, p99{}, max{};  // of the reached ones
  std::optional<Duration> sla;
  std::int64_t breaching = 0;
};

struct SlaBreach {
  std::string instance_id;
  std::string business_key;
  std::string workflow;
  std::string milestone;
  std::string group;
  std::string status;             // the instance's status now
  std::optional<Duration> took;   // reached late after this long; none: not reached yet
  Duration sla{};
};

struct SlaReport {
  std::vector<SlaRow> rows;        // by workflow, milestone (declaration order), group
  std::vector<SlaBreach> breaches; // by workflow, milestone, then longest first
  std::int64_t instances = 0;      // read in the period
};

// Throws Error(storage) when the database cannot be read.
SlaReport sla_report(Store& store, const SlaQuery& query);

nlohmann::json to_json(const SlaReport& report);

}  // namespace rmaflow::observe
