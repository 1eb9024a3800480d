// A queued command's outcome records the kind of a refusal, so that a node that passed the
// request on answers as the owner did (engine/runtime/command_outcome.hpp).
#include <doctest/doctest.h>

#include "engine/runtime/command_outcome.hpp"

using namespace rmaflow;

TEST_CASE("CommandOutcome.Issue18.ARefusalKeepsItsKindAndField") {
  SUBCASE("the instance's state refused it: the sentence operators read, as before") {
    auto outcome = refused_outcome(Error(Errc::refused, "instance I-1 is not suspended"));
    CHECK(outcome == "refused: instance I-1 is not suspended");
    try {
      throw_refusal(outcome, Errc::conflict);
      FAIL("not thrown");
    } catch (const ArgumentError&) {
      FAIL("no field was named");
    } catch (const Error& e) {
      CHECK(e.code() == Errc::conflict);  // no code recorded: the caller's
      CHECK(std::string(e.what()) == "instance I-1 is not suspended");
    }
  }
  SUBCASE("a field of the request at fault: its code and field come back") {
    auto outcome = refused_outcome(
        ArgumentError(Errc::not_found, "workflow w version 1 has no step nowhere", "step"));
    CHECK(outcome == "refused [not-found step]: workflow w version 1 has no step nowhere");
    try {
      throw_refusal(outcome, Errc::refused);
      FAIL("not thrown");
    } catch (const ArgumentError& e) {
      CHECK(e.code() == Errc::not_found);
      CHECK(e.field() == "step");
      CHECK(std::string(e.what()) == "workflow w version 1 has no step nowhere");
    }
  }
  SUBCASE("another kind of error") {
    auto outcome = refused_outcome(Error(Errc::invalid_argument, "a signal needs a name"));
    CHECK(outcome == "refused [invalid-argument]: a signal needs a name");
    try {
      throw_refusal(outcome, Errc::refused);
      FAIL("not thrown");
    } catch (const ArgumentError&) {
      FAIL("no field was named");
    } catch (const Error& e) {
      CHECK(e.code() == Errc::invalid_argument);
      CHECK(std::string(e.what()) == "a signal needs a name");
    }
  }
  SUBCASE("an outcome that is no refusal, or names an unknown code") {
    CHECK_NOTHROW(throw_refusal("applied", Errc::refused));
    CHECK_NOTHROW(throw_refusal("applied: duplicate signal, ignored", Errc::refused));
    CHECK_NOTHROW(throw_refusal("withdrawn by ops: wrong instance", Errc::refused));
    try {
      throw_refusal("refused [no-such-code]: odd", Errc::refused);
      FAIL("not thrown");
    } catch (const Error& e) {
      CHECK(e.code() == Errc::refused);
      CHECK(std::string(e.what()) == "odd");
    }
    CHECK_THROWS_AS(throw_refusal("refused [unclosed: odd", Errc::refused), Error);
  }
}
