// Issue 16, exception routing: a workflow's `incidents:` routes send each incident to a team by
// its error code and the context, with the team's own SLA; refused where they are written when
// malformed.
#include <doctest/doctest.h>

#include "tests/dsl/dsl_test_support.hpp"

using namespace rmaflow;
using namespace rmaflow::dsl_testing;

namespace {

// The routes start on line 4, the first route on line 5.
std::string with_routes(const std::string& routes) {
  return "workflow: t\nversion: 1\nstart: a\nincidents:\n" + routes +
         "steps:\n"
         "  a: { end: completed }\n";
}

}  // namespace

TEST_CASE("Dsl.Issue16.IncidentRoutesAreReadInOrder") {
  auto r =
      load(with_routes("  - { errors: [CreditHold, CustomerOnHold], team: finance, sla: 4h }\n"
                       "  - { if: '${ .input.value > 1000 }', team: returns-leads }\n"
                       "  - { team: returns-ops, sla: 1d }\n"));
  REQUIRE_LOADED(r);
  const auto& routes = r.definition->incident_routes;
  REQUIRE(routes.size() == 3);
  CHECK(routes[0].errors == std::vector<std::string>{"CreditHold", "CustomerOnHold"});
  CHECK(routes[0].team == "finance");
  CHECK(routes[0].sla == Duration(4 * 3'600'000));
  CHECK(routes[1].errors.empty());
  CHECK(routes[1].condition.has_value());
  CHECK_FALSE(routes[1].sla.has_value());
  CHECK(routes[2].where.line == 7);

  const nlohmann::json small = {{"input", {{"value", 10}}}};
  const nlohmann::json large = {{"input", {{"value", 5000}}}};
  CHECK(r.definition->route_incident("CreditHold", large)->team == "finance");
  CHECK(r.definition->route_incident("AddressInvalid", large)->team == "returns-leads");
  CHECK(r.definition->route_incident("AddressInvalid", small)->team == "returns-ops");
  // A condition that raises (a string compared as a number is fine in jq; adding one is not)
  // is passed over, not an error.
  auto raising = load(with_routes("  - { if: '${ .input.value + 1 > 0 }', team: a }\n"));
  REQUIRE_LOADED(raising);
  CHECK(raising.definition->route_incident("X", {{"input", {{"value", "text"}}}}) == nullptr);
  CHECK(raising.definition->route_incident("X", large)->team == "a");
}

TEST_CASE("Dsl.Issue16.BadIncidentRoutesAreRefusedWhereTheyAreWritten") {
  CHECK_DIAG(load(with_routes("  - { errors: [X] }\n")), "missing-key", 5, 5);
  CHECK_DIAG(load(with_routes("  - { team: Finance }\n")), "bad-value", 5, 13);
  CHECK_DIAG(load(with_routes("  - { team: a, owner: b }\n")), "unknown-key", 5, 16);
  CHECK_DIAG(load(with_routes("  - { team: a, errors: [] }\n")), "bad-value", 5, 24);
  CHECK_DIAG(load(with_routes("  - { team: a, sla: soon }\n")), "bad-duration", 5, 21);
  CHECK_DIAG(load(with_routes("  - finance\n")), "wrong-type", 5, 5);
  CHECK_DIAG(load("workflow: t\nversion: 1\nstart: a\nincidents: { team: a }\nsteps:\n  a: { end: "
                  "completed }\n"),
             "wrong-type", 4, 12);
  CHECK_DIAG(load(with_routes("  - { team: a, if: '${ .x | }' }\n")), "jq-compile", 5, 20);
  // The same rules as every expression: no unbounded construct, no environment.
  CHECK_DIAG(load(with_routes("  - { team: a, if: '${ [range(.n)] | length > 0 }' }\n")),
             "jq-unbounded", 5, 20);
  CHECK_DIAG(load(with_routes("  - { team: a, if: '${ env.HOME != null }' }\n")), "jq-env", 5, 20);
}
