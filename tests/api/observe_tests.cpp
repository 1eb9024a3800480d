// Issue 17: what `rmaflow serve` tells the people who run it. Its log lines (JSON or text) carry
// an instance's ids, the API's access log names the token but never shows it, and instance
// transitions are logged for the workflows and instances an operator picks while it serves.
#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "engine/net/http_server.hpp"
#include "engine/observe/log.hpp"
#include "engine/support/sha256.hpp"
#include "tests/api/api_fixture.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(read_text(path));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// Every line of the server's log, each of which must be one JSON object with time, level, msg.
std::vector<nlohmann::json> json_log(const ApiFixture& api) {
  std::vector<nlohmann::json> records;
  for (const auto& line : lines_of(api.log)) {
    auto record = nlohmann::json::parse(line, nullptr, false);
    INFO("log line: ", line);
    REQUIRE(record.is_object());
    CHECK(record.value("time", "").size() == 24);  // 2026-11-30T14:40:00.000Z
    CHECK_FALSE(record.value("level", "").empty());
    CHECK_FALSE(record.value("msg", "").empty());
    records.push_back(std::move(record));
  }
  return records;
}

std::vector<nlohmann::json> transitions_of(const std::vector<nlohmann::json>& records,
                                           const std::string& instance) {
  std::vector<nlohmann::json> out;
  for (const auto& r : records) {
    if (r.value("msg", "") == "transition" && r.value("instance", "") == instance) out.push_back(r);
  }
  return out;
}

// Waits until `ready()` holds; false after 20 s. The server logs and counts a commit's
// transitions on the engine's thread just after the commit, which readers (the API's GET) may
// see first: what a test reads of the log or the metrics after seeing a status waits for it.
template <class Ready>
bool eventually(Ready ready) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!ready()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// Whether the log has a transition `event` of `instance`.
bool has_transition(const ApiFixture& api, const std::string& instance, const std::string& event) {
  for (const auto& t : transitions_of(json_log(api), instance)) {
    if (t.value("event", "") == event) return true;
  }
  return false;
}

std::string start(ApiFixture& api, const std::string& rma, const std::string& correlation_id) {
  nlohmann::json body = {{"workflow", "returns"}, {"input", {{"rma_id", rma}, {"amount", 10}}}};
  if (!correlation_id.empty()) body["correlation_id"] = correlation_id;
  auto reply = api.post("/v1/instances", body, "submitter");
  REQUIRE_MESSAGE(reply.status == 201, reply.text);
  auto id = reply.body.value("id", "");
  api.await_status(id, "waiting");
  return id;
}

// Once the instance waits, the warehouse's receipt arrives and it runs to its end.
void receive_and_complete(ApiFixture& api, const std::string& id) {
  api.await_status(id, "waiting");
  auto sent =
      api.post("/v1/instances/" + id + "/signals/warehouse.received", {{"payload", 1}}, "operator");
  REQUIRE_MESSAGE(sent.status < 300, sent.text);
  api.await_status(id, "completed");
}

}  // namespace

TEST_CASE("Observe.Issue17.JsonLogLinesCarryTheInstanceIds") {
  ApiFixture api({{"returns.yaml", kReturnsWorkflow}}, {"--log-format", "json"});
  auto chosen = api.call("PUT", "/v1/logging", R"({"transitions": {"workflows": ["returns"]}})",
                         "admin");
  REQUIRE_MESSAGE(chosen.status == 200, chosen.text);
  CHECK(chosen.body["transitions"]["workflows"] == nlohmann::json::array({"returns"}));
  CHECK(chosen.body.value("level", "") == "info");

  auto id = start(api, "RMA-17-1", "order-4711");
  CHECK(eventually([&] { return transitions_of(json_log(api), id).size() >= 6; }));
  auto records = json_log(api);
  auto transitions = transitions_of(records, id);
  // started, authorize entered/attempted/completed, route, await_receipt entered...
  REQUIRE(transitions.size() >= 6);
  std::set<std::string> events;
  for (const auto& t : transitions) {
    INFO("transition: ", t.dump());
    CHECK(t.value("level", "") == "debug");
    CHECK(t.value("workflow", "") == "returns");
    CHECK(t.value("version", 0) == 1);
    CHECK(t.value("correlation_id", "") == "order-4711");
    CHECK(t.value("trace_id", "") == sha256_hex("order-4711").substr(0, 32));
    if (t.value("event", "") != "instance_started") CHECK_FALSE(t.value("step", "").empty());
    CHECK(t.value("seq", 0) > 0);
    events.insert(t.value("event", ""));
  }
  CHECK(events.count("instance_started") == 1);
  CHECK(events.count("attempt_started") == 1);
  CHECK(events.count("step_completed") == 1);

  // The access log: who called what, how it went and how long it took; the token's name only.
  bool found = false;
  for (const auto& r : records) {
    if (r.value("msg", "") != "request" || r.value("route", "") != "/v1/instances") continue;
    if (r.value("method", "") != "POST") continue;
    found = true;
    CHECK(r.value("status", 0) == 201);
    CHECK(r.value("token", "") == "submitter");
    CHECK(r["duration_ms"].is_number());
  }
  CHECK(found);
  auto text = read_text(api.log);
  for (const char* role : {"submitter", "viewer", "operator", "admin"}) {
    CHECK(text.find(api.token(role)) == std::string::npos);
  }
}

TEST_CASE("Observe.Issue17.TransitionsAreLoggedForTheChosenInstanceOnly") {
  ApiFixture api({{"returns.yaml", kReturnsWorkflow}}, {"--log-format", "json"});
  auto followed = start(api, "RMA-17-2", "");
  auto other = start(api, "RMA-17-3", "");
  // Off at the default level: nothing about either instance yet.
  CHECK(transitions_of(json_log(api), followed).empty());
  CHECK(transitions_of(json_log(api), other).empty());

  auto chosen = api.call("PUT", "/v1/logging",
                         nlohmann::json({{"transitions", {{"instances", {followed}}}}}).dump(), "admin");
  REQUIRE_MESSAGE(chosen.status == 200, chosen.text);
  for (const auto& id : {followed, other}) {
    auto sent = api.post("/v1/instances/" + id + "/signals/warehouse.received",
                         {{"payload", {{"dock", 3}}}}, "operator");
    REQUIRE_MESSAGE(sent.status < 300, sent.text);
  }
  api.await_status(followed, "completed");
  api.await_status(other, "completed");
  CHECK(eventually([&] { return has_transition(api, followed, "instance_ended"); }));
  auto records = json_log(api);
  auto logged = transitions_of(records, followed);
  CHECK_FALSE(logged.empty());
  CHECK(transitions_of(records, other).empty());
  std::set<std::string> events;
  for (const auto& t : logged) {
    CHECK(t.value("correlation_id", "") == followed);  // the instance id when none was given
    events.insert(t.value("event", ""));
  }
  CHECK(events.count("signal_received") == 1);
  CHECK(events.count("instance_ended") == 1);
  CHECK(events.count("instance_started") == 0);  // before it was chosen

  // A failed attempt says why, by its error code.
  api.call("PUT", "/v1/logging", R"({"transitions": {"workflows": ["returns"]}})", "admin");
  auto failing = api.submit({{"rma_id", "RMA-17-5"}, {"amount", 5}, {"fail", true}});
  REQUIRE_MESSAGE(failing.status == 201, failing.text);
  auto failing_id = failing.body.value("id", "");
  api.await_status(failing_id, "suspended");
  CHECK(eventually([&] { return has_transition(api, failing_id, "attempt_failed"); }));
  bool failure_logged = false;
  for (const auto& t : transitions_of(json_log(api), failing_id)) {
    if (t.value("event", "") != "attempt_failed") continue;
    failure_logged = true;
    CHECK(t.value("error_code", "") == "ErpDown");
    CHECK(t.value("step", "") == "refund");
  }
  CHECK(failure_logged);

  // The level changes while serving: debug logs every transition.
  auto level = api.call("PUT", "/v1/logging", R"({"level": "debug"})", "admin");
  REQUIRE_MESSAGE(level.status == 200, level.text);
  CHECK(api.get("/v1/logging").body.value("level", "") == "debug");
  auto third = start(api, "RMA-17-4", "");
  CHECK_FALSE(transitions_of(json_log(api), third).empty());
}

TEST_CASE("Observe.Issue17.OnlyAnAdminSteersTheLogAndOnlyWithKnownValues") {
  ApiFixture api;
  check_problem(api.call("PUT", "/v1/logging", R"({"level": "debug"})", "operator"), 403, "forbidden");
  check_problem(api.call("PUT", "/v1/logging", R"({"level": "loud"})", "admin"), 422,
                "invalid-field", "/level");
  check_problem(api.call("PUT", "/v1/logging", R"({"transitions": {"workflows": "returns"}})", "admin"),
                422, "invalid-field", "/transitions/workflows");
  check_problem(api.call("PUT", "/v1/logging", R"({"transitions": {"steps": []}})", "admin"), 422,
                "unknown-field");
  CHECK(api.get("/v1/logging").body.value("level", "") == "info");

  // The text form (the default): one line per record, time first, then the level.
  api.get("/v1/instances?limit=1");
  bool access = false;
  for (const auto& line : lines_of(api.log)) {
    INFO("log line: ", line);
    CHECK(line.size() > 30);
    CHECK(line[4] == '-');
    CHECK(line[23] == 'Z');
    access = access || (line.find(" request ") != std::string::npos &&
                        line.find("route=/v1/instances ") != std::string::npos &&
                        line.find("token=viewer") != std::string::npos);
  }
  CHECK(access);
}

TEST_CASE("Observe.Issue17.LogLinesStayOneLineWhateverTheyCarry") {
  nlohmann::json fields = {{"correlation_id", "a\nb\"c"},
                           {"bad", std::string("\xff\xfe")},
                           {"forged", "x\rlevel=error"}};
  auto json = observe::format_log_line(observe::LogFormat::json, "2026-11-30T14:40:00.000Z",
                                       observe::LogLevel::info, "line\nbreak", fields);
  CHECK(json.find('\n') == std::string::npos);
  auto parsed = nlohmann::json::parse(json, nullptr, false);
  REQUIRE(parsed.is_object());
  CHECK(parsed["correlation_id"] == "a\nb\"c");
  CHECK(parsed["msg"] == "line\nbreak");
  CHECK(json.rfind(R"({"time":"2026-11-30T14:40:00.000Z","level":"info","msg":)", 0) == 0);

  auto text = observe::format_log_line(observe::LogFormat::text, "2026-11-30T14:40:00.000Z",
                                       observe::LogLevel::warn, "hello", fields);
  CHECK(text.find('\n') == std::string::npos);
  CHECK(text.rfind("2026-11-30T14:40:00.000Z warn  hello", 0) == 0);
  CHECK(text.find(R"(correlation_id="a\nb\"c")") != std::string::npos);
  CHECK(text.find(R"(forged="x\rlevel=error")") != std::string::npos);
  CHECK(text.find('\r') == std::string::npos);
}

namespace {

// kReturnsWorkflow with its business milestones declared.
std::string returns_with_milestones() {
  // An ERP outage is finance's, with no time to lose: past its team's SLA as it opens.
  return std::string(kReturnsWorkflow) +
         "milestones:\n  authorized: authorize\n  refunded: { step: refund, sla: 1d }\n"
         "incidents:\n  - { errors: [ErpDown], team: finance, sla: 0s }\n";
}

using Sample = std::pair<nlohmann::json, double>;  // labels, value

// A metrics file read through python3-prometheus-client's parser and
// tests/api/metrics_check.py's stricter checks; every sample by name.
std::multimap<std::string, Sample> parse_metrics_file(const std::string& file) {
  auto parsed = run_process({RMAFLOW_PYTHON3, source_dir() + "/tests/api/metrics_check.py", file});
  INFO("metrics:\n", read_text(file));
  REQUIRE_MESSAGE(parsed.exit_code == 0, parsed.err);
  std::multimap<std::string, Sample> samples;
  std::istringstream in(parsed.out);
  for (std::string line; std::getline(in, line);) {
    auto sample = nlohmann::json::parse(line);
    samples.emplace(sample[0].get<std::string>(), Sample{sample[1], sample[2].get<double>()});
  }
  return samples;
}

// The server's /metrics, as parse_metrics_file() reads it.
std::multimap<std::string, Sample> parse_metrics(ApiFixture& api) {
  auto reply = api.get("/metrics");
  REQUIRE(reply.status == 200);
  CHECK(reply.headers.get("content-type") == "text/plain; version=0.0.4");
  return parse_metrics_file(api.dir.write("metrics.txt", reply.text));
}

// The value of the sample `name` whose labels include `labels`; -1 when there is none.
double value_of(const std::multimap<std::string, Sample>& samples, const std::string& name,
                const nlohmann::json& labels) {
  auto [from, to] = samples.equal_range(name);
  for (auto it = from; it != to; ++it) {
    bool match = true;
    for (const auto& [key, value] : labels.items()) {
      match = match && it->second.first.value(key, "") == value.get<std::string>();
    }
    if (match) return it->second.second;
  }
  return -1;
}

}  // namespace

TEST_CASE("Observe.Issue17.MetricsParseStrictlyAndMeasureStepsCallsAndMilestones") {
  ApiFixture api({{"returns.yaml", returns_with_milestones()}});
  std::vector<std::string> credited;
  for (const char* rma : {"RMA-17-10", "RMA-17-11"}) {
    auto reply = api.submit({{"rma_id", rma}, {"amount", 10}, {"channel", "web"}});
    REQUIRE_MESSAGE(reply.status == 201, reply.text);
    receive_and_complete(api, reply.body.value("id", ""));
  }
  auto failing = api.submit({{"rma_id", "RMA-17-12"}, {"amount", 10}, {"fail", true}});
  REQUIRE_MESSAGE(failing.status == 201, failing.text);
  api.await_status(failing.body.value("id", ""), "suspended");

  auto m = parse_metrics(api);
  CHECK(eventually([&] {
    m = parse_metrics(api);
    return value_of(m, "rmaflow_step_duration_seconds_count",
                    {{"workflow", "returns"}, {"step", "refund"}, {"outcome", "incident"}}) > 0;
  }));
  // Business milestones, by workflow and channel: two web RMAs refunded, three authorized.
  CHECK(value_of(m, "rmaflow_milestone_seconds_count",
                 {{"workflow", "returns"}, {"milestone", "authorized"}, {"channel", "web"}}) == 2);
  CHECK(value_of(m, "rmaflow_milestone_seconds_count",
                 {{"workflow", "returns"}, {"milestone", "authorized"}, {"channel", "none"}}) == 1);
  CHECK(value_of(m, "rmaflow_milestone_seconds_count",
                 {{"workflow", "returns"}, {"milestone", "refunded"}, {"channel", "web"}}) == 2);
  CHECK(value_of(m, "rmaflow_milestone_seconds_count",
                 {{"workflow", "returns"}, {"milestone", "refunded"}, {"channel", "none"}}) == -1);
  CHECK(value_of(m, "rmaflow_milestone_seconds_bucket",
                 {{"workflow", "returns"}, {"milestone", "refunded"}, {"le", "3600"}}) == 2);
  // Steps and adapter calls by workflow, step and outcome.
  CHECK(value_of(m, "rmaflow_step_duration_seconds_count",
                 {{"workflow", "returns"}, {"step", "authorize"}, {"outcome", "completed"}}) == 3);
  CHECK(value_of(m, "rmaflow_step_duration_seconds_count",
                 {{"workflow", "returns"}, {"step", "refund"}, {"outcome", "incident"}}) == 1);
  CHECK(value_of(m, "rmaflow_adapter_call_duration_seconds_count",
                 {{"workflow", "returns"}, {"step", "refund"}, {"outcome", "ok"}}) == 2);
  CHECK(value_of(m, "rmaflow_adapter_call_duration_seconds_count",
                 {{"workflow", "returns"}, {"step", "refund"}, {"outcome", "error"}}) == 1);
  CHECK(value_of(m, "rmaflow_adapter_errors_total",
                 {{"workflow", "returns"}, {"step", "refund"}, {"code", "ErpDown"}}) == 1);
  // What needs a person.
  CHECK(value_of(m, "rmaflow_incidents_open",
                 {{"workflow", "returns"}, {"step", "refund"}, {"code", "ErpDown"}, {"team", "finance"}}) == 1);
  CHECK(value_of(m, "rmaflow_incidents_past_team_sla", {{"team", "finance"}}) == 1);
  // The console's overview counts the same by team.
  auto overview = api.get("/v1/overview");
  REQUIRE_MESSAGE(overview.status == 200, overview.text);
  CHECK(overview.body["stuck"]["by_team"] ==
        nlohmann::json::array({{{"team", "finance"}, {"count", 1}, {"past_sla", 1}}}));
  CHECK(value_of(m, "rmaflow_instances_stuck", {{"reason", "incident"}}) == 1);
  CHECK(value_of(m, "rmaflow_timers_due", nlohmann::json::object()) >= 0);
  // The engine's commits: how many transitions each carried and how long it took.
  CHECK(value_of(m, "rmaflow_commit_events_count", nlohmann::json::object()) > 0);
  CHECK(value_of(m, "rmaflow_commit_duration_seconds_count", nlohmann::json::object()) > 0);
  CHECK(value_of(m, "rmaflow_http_request_duration_seconds_count",
                 {{"method", "POST"}, {"route", "/v1/instances"}}) == 3);
}

TEST_CASE("Observe.Issue17.HostileChannelsDoNotGrowTheMetrics") {
  ApiFixture api({{"returns.yaml", returns_with_milestones()}});
  for (int i = 0; i < 20; ++i) {
    auto reply = api.submit({{"rma_id", "RMA-17-C" + std::to_string(i)},
                             {"amount", 1},
                             {"channel", i == 0 ? std::string("a\"b\nc") : "ch" + std::to_string(i)}});
    REQUIRE_MESSAGE(reply.status == 201, reply.text);
    api.await_status(reply.body.value("id", ""), "waiting");
  }
  auto m = parse_metrics(api);
  std::set<std::string> channels;
  auto [from, to] = m.equal_range("rmaflow_milestone_seconds_count");
  for (auto it = from; it != to; ++it) channels.insert(it->second.first.value("channel", ""));
  CHECK(channels.size() <= 17);  // 16 channels and "other"
  CHECK(channels.count("other") == 1);
  CHECK(channels.count("a\"b\nc") == 0);
}

namespace {

// One loopback server standing for both the tracing collector (POST /v1/traces, OTLP/HTTP
// JSON) and an ERP the http adapter calls (POST /erp/authorizations); it keeps what it got.
class Collector {
 public:
  Collector()
      : server_(net::HttpServerOptions{}, [this](net::HttpRequest request, net::Responder respond) {
          std::lock_guard lock(mu_);
          if (request.target == "/v1/traces") {
            auto body = nlohmann::json::parse(request.body, nullptr, false);
            if (body.is_object()) {
              for (const auto& resource : body["resourceSpans"]) {
                for (const auto& scope : resource["scopeSpans"]) {
                  for (const auto& span : scope["spans"]) spans_.push_back(span);
                }
              }
            }
            respond(net::HttpResponse::with_body(200, "{}", "application/json"));
            return;
          }
          calls_.push_back(request);
          respond(net::HttpResponse::with_body(200, R"({"authorization_id": "A-1"})",
                                               "application/json"));
        }) {
    server_.start();
  }
  std::uint16_t port() const { return server_.port(); }
  std::vector<nlohmann::json> spans() {
    std::lock_guard lock(mu_);
    return spans_;
  }
  std::vector<net::HttpRequest> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  // The spans, once one named `name` has arrived (up to 20 s: the exporter sends every 0.5 s).
  std::vector<nlohmann::json> spans_once(const std::string& name) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      auto got = spans();
      for (const auto& s : got) {
        if (s.value("name", "") == name) return got;
      }
      std::this_thread::yield();
    }
    FAIL("no span named ", name, " arrived");
    return {};
  }

 private:
  std::mutex mu_;
  std::vector<nlohmann::json> spans_;
  std::vector<net::HttpRequest> calls_;
  net::HttpServer server_;
};

const char* kTracedWorkflow = R"(workflow: traced
version: 1
start: authorize
steps:
  authorize:
    action: erp.authorize
    with: { rma: "${ .input.rma_id }" }
    result: authorization
    next: await_receipt
  await_receipt:
    wait: { signal: warehouse.received, timeout: 30d }
    next: done
  done: { end: completed }
)";

const nlohmann::json* span_named(const std::vector<nlohmann::json>& spans, const std::string& name) {
  for (const auto& s : spans) {
    if (s.value("name", "") == name) return &s;
  }
  return nullptr;
}

// An adapters file whose HTTP adapter `erp` calls the collector (which records each call).
std::string erp_calling(TempDir& dir, Collector& collector) {
  return dir.write("adapters.yaml",
                   fmt::format("adapters:\n  erp:\n    type: http\n    base_url: "
                               "http://127.0.0.1:{}/erp\n    timeout: 5s\n    operations:\n"
                               "      authorize: {{ method: POST, path: /authorizations }}\n",
                               collector.port()));
}

}  // namespace

TEST_CASE("Observe.Issue17.TraceparentContinuesIntoAdapterCallsAndExportedSpans") {
  Collector collector;
  TempDir adapters_dir;
  auto adapters = erp_calling(adapters_dir, collector);
  ApiFixture api({{"traced.yaml", kTracedWorkflow}},
                 {"--adapters", adapters, "--otlp-endpoint",
                  fmt::format("http://127.0.0.1:{}/v1/traces", collector.port())});

  const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  net::HttpRequest start;
  start.method = "POST";
  start.target = "/v1/instances";
  start.body = R"({"workflow": "traced", "input": {"rma_id": "RMA-17-T"}})";
  start.headers.set("Content-Type", "application/json");
  start.headers.set("Authorization", "Bearer " + api.token("submitter"));
  start.headers.set("traceparent", "00-" + trace + "-00f067aa0ba902b7-01");
  auto started = api.client.request(net::HttpEndpoint{"127.0.0.1", api.server->port()}, start,
                                    std::chrono::seconds(30));
  REQUIRE(started.ok());
  REQUIRE_MESSAGE(started.response.status == 201, started.response.body);
  auto id = nlohmann::json::parse(started.response.body).value("id", "");
  auto instance = api.await_status(id, "waiting");
  CHECK(instance.value("correlation_id", "") == trace);

  // The ERP was called within the caller's trace, as the child of the attempt's span.
  auto calls = collector.calls();
  REQUIRE(calls.size() == 1);
  auto sent = std::string(calls[0].headers.get("traceparent"));
  REQUIRE(sent.size() == 55);
  CHECK(sent.substr(0, 36) == "00-" + trace + "-");

  auto patched = api.post("/v1/instances/" + id + "/actions/patch",
                          {{"reason", "note the dock"}, {"patch", {{"dock", 4}}}}, "operator");
  REQUIRE_MESSAGE(patched.status == 200, patched.text);
  auto signal = api.post("/v1/instances/" + id + "/signals/warehouse.received", {{"payload", 1}},
                         "operator");
  REQUIRE_MESSAGE(signal.status < 300, signal.text);
  api.await_status(id, "completed");

  auto spans = collector.spans_once("instance traced");
  for (const auto& s : spans) CHECK(s.value("traceId", "") == trace);
  const auto* root = span_named(spans, "instance traced");
  const auto* attempt = span_named(spans, "attempt authorize");
  const auto* wait = span_named(spans, "wait await_receipt");
  const auto* action = span_named(spans, "operator patch");
  REQUIRE(root != nullptr);
  REQUIRE(attempt != nullptr);
  REQUIRE(wait != nullptr);
  REQUIRE(action != nullptr);
  auto root_id = root->value("spanId", "");
  CHECK(root_id.size() == 16);
  CHECK_FALSE(root->contains("parentSpanId"));
  for (const auto* child : {attempt, wait, action}) {
    CHECK(child->value("parentSpanId", "") == root_id);
    CHECK(std::stoull(child->value("startTimeUnixNano", "0")) >=
          std::stoull(root->value("startTimeUnixNano", "0")));
    CHECK(std::stoull(child->value("endTimeUnixNano", "0")) <=
          std::stoull(root->value("endTimeUnixNano", "0")));
  }
  CHECK(attempt->value("spanId", "") == sent.substr(36, 16));  // the ERP's parent
  CHECK(std::stoull(wait->value("endTimeUnixNano", "0")) >
        std::stoull(wait->value("startTimeUnixNano", "0")));
}

TEST_CASE("Observe.Issue17.ASampledTraceIsWholeAndCallsSayWhetherTheirsIsSampled") {
  Collector collector;
  TempDir adapters_dir;
  auto adapters = erp_calling(adapters_dir, collector);
  ApiFixture api(
      {{"traced.yaml", kTracedWorkflow}},
      {"--adapters", adapters, "--otlp-endpoint",
       fmt::format("http://127.0.0.1:{}/v1/traces", collector.port()), "--trace-sample", "0.5"});
  // At 0.5 a trace is sampled when its rightmost 56 bits are at least 2^55.
  const std::string sampled = "aaaaaaaaaaaaaaaaaaf0000000000001";
  const std::string unsampled = "aaaaaaaaaaaaaaaaaa00000000000001";
  auto run = [&](const std::string& trace, const std::string& rma) {
    auto reply =
        api.post("/v1/instances",
                 {{"workflow", "traced"}, {"input", {{"rma_id", rma}}}, {"correlation_id", trace}},
                 "submitter");
    REQUIRE_MESSAGE(reply.status == 201, reply.text);
    receive_and_complete(api, reply.body.value("id", ""));
  };
  run(unsampled, "RMA-17-U");  // first: its spans, if any were made, would be sent first
  run(sampled, "RMA-17-S");

  auto calls = collector.calls();
  REQUIRE(calls.size() == 2);
  CHECK(std::string(calls[0].headers.get("traceparent")) ==
        fmt::format("00-{}-{}-00", unsampled,
                    std::string(calls[0].headers.get("traceparent")).substr(36, 16)));
  CHECK(std::string(calls[1].headers.get("traceparent")).substr(0, 36) == "00-" + sampled + "-");
  CHECK(std::string(calls[1].headers.get("traceparent")).substr(52) == "-01");

  auto spans = collector.spans_once("instance traced");
  std::set<std::string> names;
  for (const auto& s : spans) {
    CHECK(s.value("traceId", "") == sampled);
    names.insert(s.value("name", ""));
  }
  CHECK(names ==
        std::set<std::string>{"instance traced", "attempt authorize", "wait await_receipt"});
}

TEST_CASE("Observe.Issue17.ACollectorThatIsDownLosesSpansButNoTransition") {
  // Nothing listens on port 1: every export is refused.
  ApiFixture api({{"returns.yaml", kReturnsWorkflow}},
                 {"--otlp-endpoint", "http://127.0.0.1:1/v1/traces"});
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    auto reply = api.submit({{"rma_id", "RMA-17-D" + std::to_string(i)}, {"amount", 1}});
    REQUIRE_MESSAGE(reply.status == 201, reply.text);
    ids.push_back(reply.body.value("id", ""));
  }
  for (const auto& id : ids) {
    api.await_status(id, "waiting");
    auto sent = api.post("/v1/instances/" + id + "/signals/warehouse.received", {{"payload", 1}},
                         "operator");
    REQUIRE_MESSAGE(sent.status < 300, sent.text);
  }
  for (const auto& id : ids) {
    api.await_status(id, "completed");
    auto history = api.get("/v1/instances/" + id + "/history").body["events"];
    REQUIRE(history.is_array());
    // started, then every step to the end: nothing is missing for the lost spans.
    CHECK(history.front().value("type", "") == "instance_started");
    CHECK(history.back().value("type", "") == "instance_ended");
    for (std::size_t i = 0; i < history.size(); ++i) CHECK(history[i].value("seq", 0) == int(i) + 1);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  double dropped = 0;
  while (dropped <= 0 && std::chrono::steady_clock::now() < deadline) {
    dropped = value_of(parse_metrics(api), "rmaflow_trace_spans_dropped_total", nlohmann::json::object());
  }
  CHECK(dropped > 0);
  CHECK(value_of(parse_metrics(api), "rmaflow_trace_spans_exported_total", nlohmann::json::object()) == 0);
  CHECK(api.get("/healthz").status == 200);
}

TEST_CASE("Observe.Issue17.TheDemoDaysMetricsAndItsReturnToCreditReport") {
  // The demo's day of returns (examples/demo.sh): the shipped workflows, the simulated ERP,
  // carrier and warehouse, a month of virtual time.
  TempDir dir;
  for (const char* file : {"adapters.yaml", "erp-data.yaml"}) {
    dir.write(file, read_text(source_dir() + "/examples/sim/" + file));
  }
  auto db = dir.file("returns.db");
  auto metrics = dir.file("metrics.txt");
  auto day = run_process({rmaflow_binary(), "run", "--db", db, "--workflows", source_dir() + "/workflows",
                          "--adapters", dir.file("adapters.yaml"), "--clock", "virtual", "--start",
                          "2025-06-02T08:00:00Z", "--metrics", metrics,
                          source_dir() + "/examples/returns-day.json"});
  INFO("stdout:\n", day.out, "\nstderr:\n", day.err);
  REQUIRE(day.exit_code == 0);

  auto m = parse_metrics_file(metrics);
  auto credited_web = value_of(m, "rmaflow_milestone_seconds_count",
                               {{"workflow", "standard-return"}, {"milestone", "credited"}, {"channel", "web"}});
  CHECK(credited_web > 0);
  CHECK(value_of(m, "rmaflow_milestone_seconds_count",
                 {{"workflow", "returnless-refund"}, {"milestone", "credited"}}) > 0);
  CHECK(value_of(m, "rmaflow_step_duration_seconds_count",
                 {{"workflow", "standard-return"}, {"step", "authorize"}, {"outcome", "completed"}}) > 0);
  CHECK(value_of(m, "rmaflow_adapter_call_duration_seconds_count",
                 {{"workflow", "standard-return"}, {"step", "issue_label"}, {"outcome", "error"}}) > 0);
  CHECK(value_of(m, "rmaflow_adapter_errors_total", {{"step", "issue_label"}}) > 0);

  // The same day from its histories: return-to-credit time by channel, and who breached.
  auto report = run_process({rmaflow_binary(), "report", "sla", "--db", db, "--by", "channel",
                             "--from", "2025-06-02T00:00:00Z", "--to", "2025-06-03T00:00:00Z",
                             "--now", "2025-07-02T08:00:00Z", "--format", "json"});
  INFO("report:\n", report.out, report.err);
  REQUIRE(report.exit_code == 0);
  auto json = nlohmann::json::parse(report.out);
  auto day_rmas = nlohmann::json::parse(read_text(source_dir() + "/examples/returns-day.json")).size();
  // The day's RMAs, and the two reviews the risk desk opened that day (return-review children
  // declare milestones of their own: decided, escalated).
  CHECK(json.value("instances", std::size_t{0}) == day_rmas + 2);
  bool found = false;
  for (const auto& row : json["milestones"]) {
    CHECK(row.value("p50_ms", std::int64_t{0}) <= row.value("p90_ms", std::int64_t{0}));
    CHECK(row.value("p90_ms", std::int64_t{0}) <= row.value("max_ms", std::int64_t{0}));
    CHECK(row.value("reached", 0) <= row.value("started", 0));
    if (row.value("workflow", "") == "standard-return" && row.value("milestone", "") == "credited" &&
        row.value("group", "") == "web") {
      found = true;
      CHECK(row.value("reached", 0) == static_cast<int>(credited_web));  // the histories agree
      CHECK(row.value("p50_ms", std::int64_t{0}) > 24LL * 3600 * 1000);  // the parcel takes days
    }
  }
  CHECK(found);
  // RMA-1023 stopped for an operator before its credit memo: it breaches as the month ends.
  bool stuck_breach = false;
  for (const auto& b : json["breaching"]) {
    stuck_breach = stuck_breach || (b.value("business_key", "") == "RMA-1023" && b["took_ms"].is_null());
  }
  CHECK(stuck_breach);

  auto text = run_process({rmaflow_binary(), "report", "sla", "--db", db, "--by", "channel",
                           "--now", "2025-07-02T08:00:00Z"});
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("WORKFLOW") == 0);
  CHECK(text.out.find("Breaching the SLA") != std::string::npos);

  auto bad = run_process({rmaflow_binary(), "report", "sla", "--db", db, "--from", "yesterday"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("--from") != std::string::npos);
}
