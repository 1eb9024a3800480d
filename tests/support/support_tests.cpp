#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <set>

#include "engine/support/ids.hpp"
#include "engine/support/sha256.hpp"
#include "engine/support/trace_id.hpp"
#include "engine/support/yaml_json.hpp"
#include "rmaflow/status.hpp"
#include "rmaflow/time.hpp"

using namespace rmaflow;

TEST_CASE("Support.Sha256.KnownVectors") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  std::string million(1'000'000, 'a');
  CHECK(sha256_hex(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("Support.Duration.Parse") {
  CHECK(parse_duration("250ms") == Duration(250));
  CHECK(parse_duration("30s") == Duration(30'000));
  CHECK(parse_duration("5m") == Duration(300'000));
  CHECK(parse_duration("2h") == Duration(7'200'000));
  CHECK(parse_duration("14d") == Duration(14LL * 86'400'000));
  CHECK_FALSE(parse_duration("").has_value());
  CHECK_FALSE(parse_duration("10").has_value());
  CHECK_FALSE(parse_duration("-5s").has_value());
  CHECK_FALSE(parse_duration("5 s").has_value());
  CHECK_FALSE(parse_duration("1.5h").has_value());
  CHECK_FALSE(parse_duration("5w").has_value());
  CHECK_FALSE(parse_duration("99999999999999999999d").has_value());
}

TEST_CASE("Support.Duration.FormatRoundTrips") {
  for (auto text : {"250ms", "30s", "90s", "5m", "2h", "14d", "1500ms"}) {
    auto d = parse_duration(text);
    REQUIRE(d);
    CHECK(format_duration(*d) == text);
  }
  CHECK(format_duration(Duration(120'000)) == "2m");
}

TEST_CASE("Support.Time.Rfc3339") {
  CHECK(format_time(from_millis(0)) == "1970-01-01T00:00:00.000Z");
  CHECK(format_time(from_millis(1'795'734'000'123)) == "2026-11-26T23:00:00.123Z");
}

TEST_CASE("Support.Time.ParsesDatesAndRfc3339Utc") {
  auto day = parse_time("2025-05-20");
  REQUIRE(day.has_value());
  CHECK(format_time(*day) == "2025-05-20T00:00:00.000Z");
  CHECK(format_time(*parse_time("2025-06-02T08:00:00Z")) == "2025-06-02T08:00:00.000Z");
  CHECK(format_time(*parse_time("2024-02-29T23:59:59.5Z")) == "2024-02-29T23:59:59.500Z");
  CHECK(format_time(*parse_time("2026-11-26T23:10:00.123456Z")) == "2026-11-26T23:10:00.123Z");
  for (const char* bad : {"", "2025-5-20", "2025-02-30", "2025-06-02T08:00:00", "2025-06-02T24:00:00Z",
                          "2025-06-02T08:00:00+02:00", "2025-06-02T08:00:00.Z", "June 2nd", "2025-06-02x"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_time(bad).has_value());
  }
}

TEST_CASE("Support.Ids.SortableAndUnique") {
  IdGenerator gen(42);
  std::set<std::string> seen;
  std::string prev;
  for (int i = 0; i < 10'000; ++i) {
    auto id = gen.next(from_millis(1'700'000'000'000 + i / 100));
    CHECK(id.size() == 26);
    CHECK(id > prev);
    prev = id;
    seen.insert(id);
  }
  CHECK(seen.size() == 10'000);
}

TEST_CASE("Support.Status.NamesRoundTrip") {
  for (auto s : {InstanceStatus::running, InstanceStatus::suspended, InstanceStatus::completed,
                 InstanceStatus::compensated}) {
    CHECK(parse_instance_status(to_string(s)) == s);
  }
  CHECK_FALSE(parse_instance_status("bogus").has_value());
  CHECK(is_final(InstanceStatus::expired));
  CHECK_FALSE(is_final(InstanceStatus::suspended));
}

TEST_CASE("Support.TraceId.SamplingIsDecidedByTheTraceIdAlone") {
  // The rightmost 56 bits against (1 - ratio) * 2^56, as OpenTelemetry's consistent sampling.
  // Eighteen hex digits, then the fourteen that decide.
  const std::string high = "aaaaaaaaaaaaaaaaaaf0000000000001";
  const std::string low = "aaaaaaaaaaaaaaaaaa00000000000001";
  const std::string middle = "aaaaaaaaaaaaaaaaaa80000000000000";  // exactly 2^55
  CHECK(trace_sampled(high, 0.5));
  CHECK_FALSE(trace_sampled(low, 0.5));
  CHECK(trace_sampled(middle, 0.5));
  CHECK_FALSE(trace_sampled(middle, 0.49));
  CHECK(trace_sampled(low, 1.0));
  CHECK_FALSE(trace_sampled(high, 0.0));
  CHECK_FALSE(trace_sampled("not hex at all, not hex at all!!", 0.5));

  // Over hashed correlation ids the sampled share is the ratio, and a trace sampled at a lower
  // ratio is sampled at every higher one (nested, so no node's trace is cut in two).
  int at_10 = 0, at_50 = 0;
  for (int i = 0; i < 20000; ++i) {
    auto trace = trace_id_of("RMA-" + std::to_string(i));
    bool ten = trace_sampled(trace, 0.1), fifty = trace_sampled(trace, 0.5);
    at_10 += ten;
    at_50 += fifty;
    if (ten) CHECK(fifty);
    CHECK(trace_sampled(trace, 0.1) == ten);
  }
  CHECK(at_10 > 1800);
  CHECK(at_10 < 2200);
  CHECK(at_50 > 9600);
  CHECK(at_50 < 10400);
}

// Plain YAML scalars as JSON: YAML 1.2's core numbers, read by a loop (std::regex recursed per
// character, and 300,000 digits overflowed the stack), and text for anything else.
TEST_CASE("Support.YamlJson.PlainScalarsAsNumbersOrText") {
  auto value = [](const std::string& scalar) {
    return yaml_scalar_value(YAML::Load("x: " + scalar)["x"]);
  };
  for (const char* number : {"1.5", ".5", "-.5", "+1.", "1e3", "1.5E-3", "-2.0e+10", "0.0"}) {
    CAPTURE(number);
    auto v = value(number);
    CHECK(v.is_number_float());
    CHECK(v.get<double>() == std::strtod(number, nullptr));
  }
  CHECK(value("42") == 42);
  for (const char* text : {"1e", "e3", ".", "1.2.3", "1_000", "1e3x", "+", "1.5e+", "-e"}) {
    CAPTURE(text);
    CHECK(value(text) == text);
  }
  const std::string digits(300'000, '1');
  CHECK(value(digits) == digits);  // no double holds it: the text it is
  CHECK(value("1e400") == "1e400");
  CHECK(value(digits + ".5e-300000").is_number_float());
}
