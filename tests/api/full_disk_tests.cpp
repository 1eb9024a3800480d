// A full disk under the real server: the database on a small tmpfs that fills up while clients
// submit RMAs. The server stays up, refuses changes with 503 and Retry-After, answers queries,
// retries the commit it holds, and resumes by itself once space is freed; every RMA answered
// 2xx is there exactly once.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <mutex>
#include <thread>

#include "tests/api/api_fixture.hpp"
#include "tests/support/process.hpp"

using namespace rmaflow;
using namespace rmaflow::testing;
using json = nlohmann::json;

namespace {

// A tmpfs of `size` at `path`, unmounted when it goes.
struct Tmpfs {
  Tmpfs(std::string path, const char* size) : path(std::move(path)) {
    std::filesystem::create_directories(this->path);
    mounted = ::mount("tmpfs", this->path.c_str(), "tmpfs", 0, size) == 0;
  }
  ~Tmpfs() {
    if (mounted) ::umount2(path.c_str(), MNT_DETACH);
  }
  std::string path;
  bool mounted = false;
};

// Mounting a tmpfs needs root; says why a test is not run otherwise.
bool may_mount() {
  if (::geteuid() == 0) return true;
  MESSAGE("not run: mounting a tmpfs needs root");
  return false;
}

// The real server with its database on a tmpfs of 4 MB.
struct ServerOnSmallDisk {
  ServerOnSmallDisk() {
    REQUIRE(disk.mounted);
    api.server.reset();
    api.db = disk.path + "/returns.db";
    api.start();
  }
  ApiFixture api{WorkflowFiles{{"intake.yaml", kIntakeWorkflow}}};
  Tmpfs disk{api.dir.path() + "/disk", "size=4m"};
};

// Writes `file` until the file system has no space left.
void fill(const std::string& file) {
  std::FILE* out = std::fopen(file.c_str(), "wb");
  REQUIRE(out != nullptr);
  std::string chunk(4096, 'f');
  while (std::fwrite(chunk.data(), 1, chunk.size(), out) == chunk.size() && std::fflush(out) == 0) {
  }
  std::fclose(out);
}

struct Answer {
  std::string rma;
  int status = 0;
  std::string retry_after;
  std::string type;  // a refusal's problem type
};

Answer submit(ApiFixture& api, net::HttpClient& client, const std::string& rma,
              std::chrono::seconds timeout = std::chrono::seconds(120)) {
  net::HttpRequest request;
  request.method = "POST";
  request.target = "/v1/instances";
  request.headers.set("Content-Type", "application/json");
  request.headers.set("Authorization", "Bearer " + api.token("submitter"));
  request.body = json{{"workflow", "intake"}, {"input", {{"rma_id", rma}}}}.dump();
  auto result =
      client.request(net::HttpEndpoint{"127.0.0.1", api.server->port()}, request, timeout);
  Answer answer;
  answer.rma = rma;
  if (result.ok()) {
    answer.status = result.response.status;
    answer.retry_after = std::string(result.response.headers.get("retry-after"));
    auto body = json::parse(result.response.body, nullptr, false);
    if (body.is_object()) answer.type = body.value("type", "");
  }
  return answer;
}

// Submits until the server refuses three starts in a row (a full disk's commits being
// retried); false when it never did within a minute.
bool refused_in_a_row(ApiFixture& api, std::vector<Answer>& answers, std::mutex& mu) {
  net::HttpClient client;
  int refused = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (int i = 0; refused < 3 && std::chrono::steady_clock::now() < deadline; ++i) {
    auto answer = submit(api, client, fmt::format("P-{:04}", i), std::chrono::seconds(2));
    refused = answer.status == 503 ? refused + 1 : 0;
    std::lock_guard lock(mu);
    answers.push_back(std::move(answer));
  }
  return refused == 3;
}

// Waits up to a minute for the server to report itself healthy again.
bool healthy_again(ApiFixture& api) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (api.get("/healthz", "").status != 200 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return api.get("/healthz", "").status == 200;
}

}  // namespace

TEST_CASE("Api.Issue12.FullDiskDuringSubmissions") {
  if (!may_mount()) return;
  ServerOnSmallDisk server;
  auto& api = server.api;
  auto& disk = server.disk;

  // Clients submit one after another; the disk fills under them.
  std::mutex mu;
  std::vector<Answer> answers;
  std::atomic<int> accepted{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      net::HttpClient client;
      for (int i = 0; !stop; ++i) {
        auto answer = submit(api, client, fmt::format("D{}-{:05}", c, i));
        if (answer.status == 201) ++accepted;
        std::lock_guard lock(mu);
        answers.push_back(std::move(answer));
      }
    });
  }
  auto started = std::chrono::steady_clock::now();
  while (accepted < 40 && std::chrono::steady_clock::now() < started + std::chrono::seconds(60)) {
    std::this_thread::yield();
  }
  if (accepted < 40) {
    stop = true;
    for (auto& t : clients) t.join();
    FAIL("the server did not accept 40 submissions in a minute");
  }
  fill(disk.path + "/filler");
  // A start in the batch that failed waits for its commit; once the engine holds a failed
  // batch, the next ones are refused at once.
  if (!refused_in_a_row(api, answers, mu)) {
    stop = true;
    std::filesystem::remove(disk.path + "/filler");
    for (auto& t : clients) t.join();
    FAIL("the server never refused a start while the disk was full");
  }

  // The server is up: queries are answered, health and metrics say what is wrong.
  CHECK(api.get("/v1/instances?limit=5").status == 200);
  auto health = api.get("/healthz", "");
  CHECK(health.status == 503);
  CHECK(health.body.value("status_of_engine", "") == "degraded");
  CHECK(health.headers.get("retry-after") == "5");
  CHECK(api.get("/metrics").text.find("\nrmaflow_engine_storage_failing 1\n") != std::string::npos);

  // Space comes back: the server resumes by itself, and the waiting clients get their answers.
  stop = true;
  std::filesystem::remove(disk.path + "/filler");
  for (auto& t : clients) t.join();
  REQUIRE(healthy_again(api));
  net::HttpClient client;
  for (int i = 0; i < 5; ++i) {
    auto after = submit(api, client, fmt::format("AFTER-{}", i));
    CHECK(after.status == 201);
    answers.push_back(after);
  }

  // Every answer was 201, or 503 with Retry-After, or none (a probe that gave up waiting);
  // every RMA answered 201 is stored exactly once, and one sent again is found, not doubled.
  int acknowledged = 0, refused = 0, unanswered = 0;
  for (const auto& a : answers) {
    CAPTURE(a.rma);
    CHECK((a.status == 201 || a.status == 503 || a.status == 0));
    if (a.status == 503) {
      CHECK(a.retry_after == "5");
      CHECK(a.type == "urn:rmaflow:problem:busy");  // nothing of it stored: it may be sent again
      ++refused;
    }
    if (a.status == 0) {
      ++unanswered;
      auto again = submit(api, client, a.rma);
      CHECK((again.status == 200 || again.status == 201));
    }
    if (a.status != 201 && a.status != 0) continue;
    acknowledged += a.status == 201;
    auto found = api.get("/v1/instances?workflow=intake&business_key=" + a.rma);
    REQUIRE(found.status == 200);
    CHECK(found.body["items"].size() == 1);
  }
  MESSAGE(acknowledged, " acknowledged, ", refused, " refused while the disk was full, ",
          unanswered, " unanswered");
  CHECK(api.server->stop(SIGTERM) == 0);
}

// `rmaflow start` against a server whose disk is full: told busy (nothing stored), it says so,
// waits the answer's Retry-After and sends the start again until the disk has room; the
// instance is then there once.
TEST_CASE("Cli.Server.StartRidesOutAFullDisk") {
  if (!may_mount()) return;
  ServerOnSmallDisk server;
  auto& api = server.api;
  auto& disk = server.disk;
  fill(disk.path + "/filler");
  std::mutex mu;
  std::vector<Answer> answers;
  // The first starts may still fit in the log laid out ahead; one waits in the failed batch.
  std::thread probing([&] { refused_in_a_row(api, answers, mu); });
  auto refused = [&] {
    std::lock_guard lock(mu);
    return answers.size() >= 3 && std::all_of(answers.end() - 3, answers.end(),
                                              [](const Answer& a) { return a.status == 503; });
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!refused() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!refused()) {
    std::filesystem::remove(disk.path + "/filler");
    probing.join();
    FAIL("the server never refused a start while the disk was full");
  }

  // The CLI's stderr goes to a file, read while it waits.
  auto err_file = api.dir.file("start.err");
  auto started = std::async(std::launch::async, [&] {
    return run_process(
        {"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>\"$RMAFLOW_TEST_ERR\"", rmaflow_binary(), "start",
         "--workflow", "intake", "--input", R"({"rma_id": "CLI-1"})"},
        {"RMAFLOW_SERVER=" + api.server->url(), "RMAFLOW_TOKEN=" + api.token("submitter"),
         "RMAFLOW_TEST_ERR=" + err_file});
  });
  auto told = [&] {
    std::ifstream in(err_file);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.find("sending it again in 5 s") != std::string::npos;
  };
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!told() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  bool waited = told();
  std::filesystem::remove(disk.path + "/filler");  // room again
  probing.join();
  auto result = started.get();
  std::ifstream in(err_file);
  std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  INFO("stdout: ", result.out, "\nstderr: ", err);
  REQUIRE(waited);
  CHECK(result.exit_code == 0);
  CHECK(result.out.find("--input: started instance ") == 0);
  CHECK(err.rfind("rmaflow: --input: the database refuses writes for now (commits are being "
                  "retried); try again shortly; sending it again in 5 s\n",
                  0) == 0);
  REQUIRE(healthy_again(api));
  auto found = api.get("/v1/instances?workflow=intake&business_key=CLI-1");
  REQUIRE(found.status == 200);
  CHECK(found.body["items"].size() == 1);
  CHECK(api.server->stop(SIGTERM) == 0);
}
