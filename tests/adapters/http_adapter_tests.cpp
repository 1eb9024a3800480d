// The HTTP adapter against the mock ERP/carrier/WMS service over loopback: success, business
// errors, server errors retried to success, timeouts, refused connections, and a replayed
// idempotency key that creates nothing twice; and the shipped HTTP configuration running a
// workflow end to end.
#include <doctest/doctest.h>

#include <atomic>
#include <fstream>
#include <future>
#include <mutex>
#include <regex>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include "examples/mock_service/mock_host.hpp"
#include "examples/mock_service/mock_service.hpp"
#include "adapters/sim/sim_adapter.hpp"
#include "rmaflow/engine.hpp"
#include "tests/support/instance_rows.hpp"
#include "tests/adapters/fake_host.hpp"
#include "tests/support/process.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

TimePoint wall_now() { return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()); }

// The simulated systems served by the mock service on a loopback port, recording every
// request that reaches it.
struct MockOverHttp {
  explicit MockOverHttp(const std::string& carrier_operations = "{}") {
    dir.write("erp-data.yaml", fmt::format(R"(
customers: {{ C-1: {{ name: Harbor Tools }} }}
invoices:
  INV-1: {{ customer_id: C-1, date: {}, currency: USD, lines: [ {{ sku: CBL-2, qty: 4, unit_price: 12.5 }} ] }}
)",
                                           format_time(wall_now()).substr(0, 10)));
    auto yaml = fmt::format(R"(
adapters:
  erp: {{ type: sim, system: erp, state: erp.db, data: erp-data.yaml }}
  carrier: {{ type: sim, system: carrier, state: carrier.db, parcels: {{ default: never }},
             operations: {} }}
  wms: {{ type: sim, system: wms, state: wms.db }}
)",
                            carrier_operations);
    sims = std::make_unique<AdapterRegistry>(
        AdapterRegistry::from_yaml(yaml, dir.file("sims.yaml"), dir.path()));
    std::vector<std::shared_ptr<sim::SimSystem>> systems;
    for (const auto* name : {"erp", "carrier", "wms"}) {
      systems.push_back(dynamic_cast<sim::SimAdapter*>(sims->find(name))->system());
    }
    host = std::make_unique<mock::MockHost>(std::nullopt);
    service = std::make_unique<mock::MockService>(systems, *host, Duration(5000));
    server = std::make_unique<net::HttpServer>(
        net::HttpServerOptions{}, [this](net::HttpRequest request, net::Responder respond) {
          {
            std::lock_guard lock(mu);
            requests.push_back(request);
          }
          service->handle(std::move(request), std::move(respond));
        });
    server->start();
  }

  std::string url() const { return fmt::format("http://127.0.0.1:{}", server->port()); }

  // An HTTP adapter named `name` for the mock's `system`, with `extra` YAML keys.
  std::unique_ptr<AdapterRegistry> adapters(const std::string& operations,
                                            const std::string& extra = "") const {
    auto yaml = fmt::format("adapters:\n  carrier:\n    type: http\n    base_url: {}/carrier\n{}"
                            "    operations: {}\n",
                            url(), extra, operations);
    return std::make_unique<AdapterRegistry>(
        AdapterRegistry::from_yaml(yaml, dir.file("http.yaml"), dir.path()));
  }

  std::vector<net::HttpRequest> received() {
    std::lock_guard lock(mu);
    return requests;
  }
  int count(const std::string& db, const std::string& sql) {
    SQLite::Database file(dir.file(db), SQLite::OPEN_READONLY);
    return file.execAndGet(sql).getInt();
  }

  TempDir dir;
  std::unique_ptr<AdapterRegistry> sims;
  std::unique_ptr<mock::MockHost> host;
  std::unique_ptr<mock::MockService> service;
  std::mutex mu;
  std::vector<net::HttpRequest> requests;
  std::unique_ptr<net::HttpServer> server;  // last: stops first
};

const char* kCarrierOps = R"({ create_label: { method: POST, path: /labels },
                 void_label: { method: DELETE, path: "/labels/{label_id}" },
                 track: { method: GET, path: "/tracking/{tracking_number}" } })";

// Calls `operation` through `adapter` and waits for its outcome.
Outcome call(Adapter& adapter, const std::string& operation, const std::string& key,
             const json& input, Duration deadline = Duration(30'000)) {
  FakeHost host(wall_now());
  Invocation invocation;
  invocation.operation = operation;
  invocation.idempotency_key = key;
  invocation.correlation_id = "01JWQTF400P7F2CAB1H013HT68";
  invocation.attempt = 1;
  invocation.input = input;
  invocation.deadline = host.clock().now() + deadline;
  auto promise = std::make_shared<std::promise<Outcome>>();
  auto answer = promise->get_future();
  adapter.invoke(invocation, host, [promise](Outcome o) { promise->set_value(std::move(o)); });
  REQUIRE(answer.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  return answer.get();
}

json label(const std::string& rma_id) {
  return {{"rma_id", rma_id}, {"ship_from", {{"postal_code", "97201"}, {"country", "US"}}}};
}

}  // namespace

TEST_CASE("Http.Adapter.SuccessCarriesTheKeyAndTraceparentAndMapsTheJson") {
  MockOverHttp mock;
  auto adapters = mock.adapters(kCarrierOps, "    headers: { X-Client: rmaflow-tests }\n");
  auto outcome = call(*adapters->find("carrier"), "create_label", "I1:issue_label:1", label("RMA-1"));
  REQUIRE(outcome.ok());
  CHECK((*outcome.result)["label_id"].get<std::string>().rfind("LBL-", 0) == 0);
  auto requests = mock.received();
  REQUIRE(requests.size() == 1);
  const auto& r = requests[0];
  CHECK(r.method == "POST");
  CHECK(r.target == "/carrier/labels");
  CHECK(r.headers.get("Idempotency-Key") == "I1:issue_label:1");
  CHECK(r.headers.get("X-Client") == "rmaflow-tests");
  CHECK(r.headers.get("Content-Type") == "application/json");
  CHECK(json::parse(r.body) == label("RMA-1"));
  std::string trace(r.headers.get("traceparent"));
  CHECK(std::regex_match(trace, std::regex("00-[0-9a-f]{32}-[0-9a-f]{16}-01")));
  // The same correlation id gives the same trace; another attempt another parent.
  auto again = call(*adapters->find("carrier"), "track", "",
                    {{"tracking_number", (*outcome.result)["tracking_number"]}});
  REQUIRE(again.ok());
  CHECK((*again.result)["status"] == "label_created");
  std::string second(mock.received()[1].headers.get("traceparent"));
  CHECK(second.substr(0, 36) == trace.substr(0, 36));
  CHECK(second != trace);
  CHECK(mock.received()[1].target == "/carrier/tracking/" + (*outcome.result)["tracking_number"].get<std::string>());
}

TEST_CASE("Http.Adapter.ClientErrorsAreNamedAndNotRetryable") {
  MockOverHttp mock;
  auto adapters = mock.adapters(kCarrierOps);
  auto refused = call(*adapters->find("carrier"), "create_label", "K1",
                      {{"rma_id", "RMA-1"}, {"ship_from", {{"postal_code", "00000"}, {"country", "US"}}}});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error.code == "AddressInvalid");  // the problem+json code
  CHECK_FALSE(refused.error.retryable);
  CHECK(refused.error.message.find("carrier POST /labels answered 422: the carrier cannot collect") == 0);
  auto missing = call(*adapters->find("carrier"), "void_label", "K2", {{"label_id", "LBL-404"}});
  CHECK(missing.error.code == "NotFound");
  CHECK_FALSE(missing.error.retryable);

  // A 4xx that is not a problem document: Http<status>, with the start of its body.
  net::HttpServer plain({}, [](net::HttpRequest, net::Responder respond) {
    respond(net::HttpResponse::with_body(403, "forbidden by policy", "text/plain"));
  });
  plain.start();
  auto yaml = fmt::format("adapters:\n  gate: {{ type: http, base_url: http://127.0.0.1:{}, "
                          "operations: {{ open: {{ path: /open }} }} }}\n",
                          plain.port());
  auto gate = AdapterRegistry::from_yaml(yaml, "gate.yaml", mock.dir.path());
  auto forbidden = call(*gate.find("gate"), "open", "K3", json::object());
  CHECK(forbidden.error.code == "Http403");
  CHECK_FALSE(forbidden.error.retryable);
  CHECK(forbidden.error.message.find("forbidden by policy") != std::string::npos);
}

TEST_CASE("Http.Adapter.ServerErrorsAreRetriedToSuccessByTheEngine") {
  MockOverHttp mock("{ create_label: { fail_first: 2 } }");
  auto workflow = load_definition(R"(
workflow: label-over-http
version: 1
defaults:
  retry: { max_attempts: 4, interval: 20ms, backoff: 1.0 }
start: label
steps:
  label:
    action: carrier.create_label
    with: { rma_id: RMA-1, ship_from: { postal_code: "97201", country: US } }
    result: label
    next: done
  done: { end: completed }
)",
                                  "label.yaml");
  REQUIRE(workflow.ok());
  EngineOptions options;
  options.db_path = mock.dir.file("engine.db");
  options.adapters = std::shared_ptr<AdapterRegistry>(mock.adapters(kCarrierOps));
  auto engine = Engine::open(std::move(options));
  engine->deploy(workflow.definition);
  StartRequest request;
  request.workflow = "label-over-http";
  auto started = engine->start(request);
  engine->run_until_idle();
  auto id = started.get().instance_id;
  auto row = engine->store().get_instance(id);
  REQUIRE(row.has_value());
  CHECK(row->status == InstanceStatus::completed);
  int failed = 0;
  for (const auto& e : engine->store().history(id)) {
    if (e.type != EventType::attempt_failed) continue;
    ++failed;
    auto error = json::parse(e.data)["error"];
    CHECK(error["code"] == "Transient");
    CHECK(error["message"].get<std::string>().find("answered 503") != std::string::npos);
  }
  CHECK(failed == 2);
  // Three requests, all with the one key of the step; one label.
  auto requests = mock.received();
  REQUIRE(requests.size() == 3);
  CHECK(requests[0].headers.get("Idempotency-Key") == requests[2].headers.get("Idempotency-Key"));
  CHECK(mock.count("carrier.db", "SELECT count(*) FROM documents WHERE type = 'label'") == 1);
}

TEST_CASE("Http.Adapter.ATimeoutIsRetryableAndTheRetryFindsTheEffect") {
  MockOverHttp mock("{ create_label: { timeout_first: 1 } }");
  auto adapters = mock.adapters(kCarrierOps, "    timeout: 300ms\n");
  auto timed_out = call(*adapters->find("carrier"), "create_label", "K1", label("RMA-1"));
  REQUIRE_FALSE(timed_out.ok());
  CHECK(timed_out.error.code == "Timeout");
  CHECK(timed_out.error.retryable);
  // The carrier did make the label; the retry with the same key is told about it.
  auto retried = call(*adapters->find("carrier"), "create_label", "K1", label("RMA-1"));
  REQUIRE(retried.ok());
  CHECK(mock.count("carrier.db", "SELECT count(*) FROM documents WHERE type = 'label'") == 1);
  CHECK(mock.count("carrier.db", "SELECT calls FROM effects WHERE key = 'K1'") == 2);
}

TEST_CASE("Http.Adapter.ARefusedConnectionIsTransient") {
  std::uint16_t port = 0;
  {
    net::HttpServer gone({}, [](net::HttpRequest, net::Responder) {});
    gone.start();
    port = gone.port();
  }  // nothing listens there now
  TempDir dir;
  auto yaml = fmt::format("adapters:\n  erp: {{ type: http, base_url: http://127.0.0.1:{}/erp, "
                          "operations: {{ close_rma: {{ path: \"/returns/{{rma_id}}/close\" }} }} }}\n",
                          port);
  auto registry = AdapterRegistry::from_yaml(yaml, "erp.yaml", dir.path());
  auto outcome = call(*registry.find("erp"), "close_rma", "K1", {{"rma_id", "RMA-1"}});
  REQUIRE_FALSE(outcome.ok());
  CHECK(outcome.error.code == "Transient");
  CHECK(outcome.error.retryable);
  CHECK(outcome.error.message.find("erp POST /returns/{rma_id}/close") == 0);
}

TEST_CASE("Http.Adapter.AReplayedKeyCreatesNothingTwice") {
  MockOverHttp mock;
  auto adapters = mock.adapters(kCarrierOps);
  auto first = call(*adapters->find("carrier"), "create_label", "I7:issue_label:1", label("RMA-7"));
  auto replay = call(*adapters->find("carrier"), "create_label", "I7:issue_label:1", label("RMA-7"));
  REQUIRE(first.ok());
  REQUIRE(replay.ok());
  CHECK(*replay.result == *first.result);
  CHECK(mock.received().size() == 2);
  CHECK(mock.count("carrier.db", "SELECT count(*) FROM documents WHERE type = 'label'") == 1);
  CHECK(mock.count("carrier.db", "SELECT effects FROM effects WHERE key = 'I7:issue_label:1'") == 1);
  // Another key is another label.
  call(*adapters->find("carrier"), "create_label", "I8:issue_label:1", label("RMA-8"));
  CHECK(mock.count("carrier.db", "SELECT count(*) FROM documents WHERE type = 'label'") == 2);
}

TEST_CASE("Http.Adapter.AStepInputWithoutAPathFieldIsNotSent") {
  MockOverHttp mock;
  auto adapters = mock.adapters(kCarrierOps);
  auto outcome = call(*adapters->find("carrier"), "void_label", "K1", {{"label", "LBL-1"}});
  CHECK(outcome.error.code == "InvalidRequest");
  CHECK_FALSE(outcome.error.retryable);
  CHECK(outcome.error.message.find("\"label_id\"") != std::string::npos);
  CHECK(mock.received().empty());
}

TEST_CASE("Http.Adapter.TheShippedConfigurationRunsAReturnlessRefund") {
  MockOverHttp mock;
  std::ifstream in(source_dir() + "/examples/http/adapters.yaml");
  std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (auto at = yaml.find("http://127.0.0.1:8090"); at != std::string::npos;
       at = yaml.find("http://127.0.0.1:8090", at)) {
    yaml.replace(at, 21, mock.url());
  }
  EngineOptions options;
  options.db_path = mock.dir.file("engine.db");
  options.adapters = std::make_shared<AdapterRegistry>(
      AdapterRegistry::from_yaml(yaml, "examples/http/adapters.yaml", mock.dir.path()));
  auto engine = Engine::open(std::move(options));
  auto definition = load_definition_file(source_dir() + "/workflows/returnless-refund.yaml");
  REQUIRE(definition.ok());
  engine->deploy(definition.definition);
  StartRequest request;
  request.workflow = "returnless-refund";
  request.input = {{"rma_id", "RMA-H1"},
                   {"channel", "web"},
                   {"customer_id", "C-1"},
                   {"invoice_id", "INV-1"},
                   {"resolution", "refund"},
                   {"lines",
                    {{{"sku", "CBL-2"}, {"qty", 2}, {"unit_price", 12.5}, {"currency", "USD"},
                      {"reason_code", "defective"}}}}};
  auto started = engine->start(request);
  engine->run_until_idle();
  auto id = started.get().instance_id;
  CHECK(engine->store().get_instance(id)->status == InstanceStatus::completed);
  CHECK(mock.count("erp.db", "SELECT count(*) FROM documents WHERE type = 'credit_memo' AND "
                             "json_extract(body, '$.amount') = 25.0") == 1);
  CHECK(mock.count("erp.db", "SELECT count(*) FROM documents WHERE type = 'authorization' AND "
                             "status = 'closed'") == 1);
  std::vector<std::string> targets;
  for (const auto& r : mock.received()) targets.push_back(r.method + " " + r.target);
  CHECK(targets == std::vector<std::string>{"POST /erp/returns/authorizations", "POST /erp/credit-memos",
                                            "POST /erp/returns/RMA-H1/close"});
}

TEST_CASE("Http.Config.MistakesAreNamedWithTheirPlace") {
  TempDir dir;
  struct Case {
    const char* yaml;
    const char* expected;
  };
  const Case cases[] = {
      {"adapters:\n  erp: { type: http, operations: {} }\n",
       "a.yaml:2:8: adapter \"erp\" of type http needs a \"base_url\""},
      {"adapters:\n  erp: { type: http, base_url: ftp://x, operations: {} }\n",
       "a.yaml:2:32: ftp://x is not an http:// URL"},
      {"adapters:\n  erp: { type: http, base_url: http://h/erp, operations: { x: { path: y } } }\n",
       "a.yaml:2:71: path \"y\" must start with /"},
      {"adapters:\n  erp: { type: http, base_url: http://h/erp, operations: { x: { path: /a, method: FETCH } } }\n",
       "a.yaml:2:83: method \"FETCH\" is not one of"},
      {"adapters:\n  erp: { type: http, base_url: http://h/erp, operations: { x: { path: \"/a/{id\" } } }\n",
       "a.yaml:2:71: path \"/a/{id\" must start with /"},
      {"adapters:\n  erp: { type: http, base_url: http://h/erp, operations: { x: { path: /a, body: \"${ .a | }\" } } }\n",
       "a.yaml:2:81: the body of operation \"x\" of adapter \"erp\" does not compile"},
      {"adapters:\n  erp: { type: http, base_url: http://h/erp, retries: 3, operations: {} }\n",
       "a.yaml:2:46: unknown key \"retries\" in adapter \"erp\""},
  };
  for (const auto& c : cases) {
    std::string yaml = c.yaml;
    CAPTURE(yaml);
    try {
      AdapterRegistry::from_yaml(c.yaml, "a.yaml", dir.path());
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.code() == Errc::adapter_config);
      std::string message = e.what();
      CHECK_MESSAGE(message.rfind(c.expected, 0) == 0, message);
    }
  }
}

TEST_CASE("Http.Adapter.Issue12.ANonUtf8ErrorPageSuspendsTheInstanceAndTheEngineGoesOn") {
  // A partner's error pages: Latin-1, and UTF-8 cut inside a character (a 3-byte "€" whose
  // last byte falls past the 200 bytes quoted).
  std::string latin1 = "Erreur: d\xE9j\xE0 trait\xE9";
  std::string cut = std::string(199, 'x') + "\xE2\x82\xAC and more";
  std::atomic<int> calls{0};
  net::HttpServer partner({}, [&](net::HttpRequest request, net::Responder respond) {
    ++calls;
    bool first = request.target.find("RMA-1") != std::string::npos;
    respond(net::HttpResponse::with_body(400, first ? latin1 : cut, "text/html; charset=latin1"));
  });
  partner.start();
  TempDir dir;
  auto yaml = fmt::format("adapters:\n  erp: {{ type: http, base_url: http://127.0.0.1:{}, "
                          "operations: {{ authorize: {{ path: \"/authorize/{{rma_id}}\" }} }} }}\n",
                          partner.port());
  auto workflow = load_definition(R"(
workflow: partner
version: 1
start: authorize
steps:
  authorize:
    action: erp.authorize
    with: { rma_id: "${ .input.rma_id }" }
    next: done
  done: { end: completed }
)",
                                  "partner.yaml");
  REQUIRE(workflow.ok());
  std::vector<std::string> ids;
  {
    EngineOptions options;
    options.db_path = dir.file("engine.db");
    options.adapters = std::make_shared<AdapterRegistry>(
        AdapterRegistry::from_yaml(yaml, dir.file("adapters.yaml"), dir.path()));
    auto engine = Engine::open(std::move(options));
    engine->deploy(workflow.definition);
    for (const char* rma : {"RMA-1", "RMA-2"}) {
      StartRequest request;
      request.workflow = "partner";
      request.input = {{"rma_id", rma}};
      auto started = engine->start(request);
      engine->run_until_idle();
      ids.push_back(started.get().instance_id);
    }
    std::vector<std::string> messages;
    for (const auto& id : ids) {
      auto row = engine->store().get_instance(id);
      REQUIRE(row.has_value());
      CHECK(row->status == InstanceStatus::suspended);
      auto incident = testing::incident_of(*row);
      CHECK(incident["error"]["code"] == "Http400");
      messages.push_back(incident["error"]["message"].get<std::string>());
    }
    // Latin-1 bytes become replacement characters; a cut character is left out whole.
    CHECK(messages[0].find("d\xEF\xBF\xBDj\xEF\xBF\xBD trait\xEF\xBF\xBD") != std::string::npos);
    CHECK(messages[1].find(std::string(199, 'x') + "...") != std::string::npos);
  }
  // Nothing is left running, so a restart calls the partner no more.
  int before = calls;
  EngineOptions options;
  options.db_path = dir.file("engine.db");
  auto engine = Engine::open(std::move(options));
  engine->run_until_idle();
  CHECK(calls == before);
}
