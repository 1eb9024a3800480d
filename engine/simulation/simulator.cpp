// simulate() and what a SimulationResult derives from its history (rmaflow/simulation.hpp).
#include <fmt/format.h>
#include <stdlib.h>

#include <filesystem>
#include <set>

#include "engine/simulation/scripted_world.hpp"
#include "rmaflow/definition.hpp"
#include "rmaflow/engine.hpp"

namespace rmaflow {

namespace {

// A fresh directory for the simulation's database, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    auto pattern = (std::filesystem::temp_directory_path() / "rmaflow-sim-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr)
      throw Error(Errc::io, fmt::format("cannot create a directory for the simulation in {}",
                                        std::filesystem::temp_directory_path().string()));
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Every adapter name the workflows' tasks and compensations call.
std::set<std::string> adapter_names(const std::vector<std::shared_ptr<const Definition>>& defs) {
  std::set<std::string> names = {"builtin"};
  for (const auto& d : defs) {
    for (const auto& step : d->steps) {
      if (const auto* task = step.task()) {
        names.insert(task->adapter);
        if (task->compensate) names.insert(task->compensate->adapter);
      }
    }
  }
  return names;
}

// The workflow and those its call steps start, and theirs in turn: each read from
// `<name>.yaml` beside the file of the workflow that calls it. A called workflow without a
// valid file there is not deployed (its call fails with UnknownWorkflow); `notes` says why.
std::vector<std::shared_ptr<const Definition>> with_children(
    std::shared_ptr<const Definition> definition, std::vector<std::string>& notes) {
  std::vector<std::shared_ptr<const Definition>> out = {std::move(definition)};
  std::set<std::string> seen = {out.front()->name};
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto dir = std::filesystem::path(out[i]->file).parent_path();
    for (const auto& step : out[i]->steps) {
      const auto* call = std::get_if<CallStep>(&step.body);
      if (call == nullptr || !seen.insert(call->workflow).second) continue;
      auto file = (dir / (call->workflow + ".yaml")).string();
      auto loaded = load_definition_file(file);
      if (!loaded.ok() || loaded.definition->name != call->workflow) {
        notes.push_back(fmt::format("step {} calls workflow {}, but {} {}: the call fails with "
                                    "UnknownWorkflow",
                                    step.name, call->workflow, file,
                                    loaded.ok() ? "defines another workflow" : "does not load"));
        continue;
      }
      out.push_back(loaded.definition);
    }
  }
  return out;
}

}  // namespace

SimulationResult simulate(std::shared_ptr<const Definition> definition, const Scenario& scenario) {
  auto wall_start = std::chrono::steady_clock::now();
  SimulationResult result;
  result.start = scenario.start;
  ScratchDir dir;  // outlives the engine below
  simulation::ScriptedWorld world(scenario);
  auto clock = std::make_shared<ManualClock>(scenario.start);
  auto workflows = with_children(definition, result.notes);
  auto adapters = std::make_shared<AdapterRegistry>();
  for (const auto& name : adapter_names(workflows)) adapters->add(name, world.adapter(name));

  EngineOptions options;
  options.db_path = dir.file("simulation.db");
  options.sync = SyncMode::normal;  // a scratch database needs no power-loss durability
  options.clock = clock;
  options.adapters = adapters;
  options.seed = 1;  // the same scenario gives the same ids and jitter every time
  auto engine = Engine::open(std::move(options));
  for (const auto& d : workflows) engine->deploy(d);

  StartRequest start;
  start.workflow = definition->name;
  start.version = definition->version;
  start.input = scenario.input;
  auto started = engine->start(std::move(start));
  engine->run_until_idle();
  std::string id = started.get().instance_id;

  TimePoint end = scenario.start + scenario.until;
  for (const auto& s : scenario.signals) {
    TimePoint at = scenario.start + s.at;
    if (at > end) break;
    engine->run_virtual(at);
    clock->set(at);
    SignalRequest request;
    if (s.workflow.empty()) {
      request.instance_id = id;
    } else {  // to a child, as its business key names it
      request.workflow = s.workflow;
      request.business_key = s.business_key;
    }
    request.name = s.name;
    request.match = s.match;
    request.payload = s.payload;
    request.idempotency_key = s.key;
    auto delivered = engine->signal(std::move(request));
    engine->run_until_idle();
    try {
      delivered.get();
    } catch (const Error& e) {
      result.notes.push_back(fmt::format("signal {}{} at +{} was refused: {}", s.name,
                                         s.workflow.empty()
                                             ? std::string()
                                             : fmt::format(" to {} {}", s.workflow, s.business_key),
                                         format_duration(s.at), e.what()));
    }
  }
  engine->run_virtual(end);

  result.row = *engine->store().get_instance(id);
  result.history = engine->store().history(id);
  result.calls = world.calls();
  engine.reset();
  result.wall = std::chrono::steady_clock::now() - wall_start;
  return result;
}

std::vector<std::string> SimulationResult::path(const std::string& branch) const {
  std::vector<std::string> out;
  for (const auto& e : history)
    if (e.type == EventType::step_entered && e.branch == branch) out.push_back(e.step);
  return out;
}

std::vector<std::string> SimulationResult::entered() const {
  std::vector<std::string> out;
  for (const auto& e : history)
    if (e.type == EventType::step_entered) out.push_back(e.step);
  return out;
}

std::vector<SimulationResult::BranchEnd> SimulationResult::branch_ends() const {
  std::vector<BranchEnd> out;
  for (const auto& e : history) {
    if (e.type != EventType::branch_ended) continue;
    auto data = nlohmann::json::parse(e.data, nullptr, /*allow_exceptions=*/false);
    if (!data.is_object()) data = nlohmann::json::object();
    auto status = data.find("status");
    out.push_back({e.branch,
                   status != data.end() && status->is_string() ? status->get<std::string>() : "",
                   data.value("output", nlohmann::json())});
  }
  return out;
}

std::vector<std::string> SimulationResult::compensated() const {
  std::vector<std::string> out;
  for (const auto& e : history)
    if (e.type == EventType::compensation_step_completed) out.push_back(e.step);
  return out;
}

std::vector<const SimulatedCall*> SimulationResult::effects() const {
  std::vector<const SimulatedCall*> out;
  std::set<std::string> keys;
  for (const auto& call : calls)
    if (call.outcome.ok() && keys.insert(call.idempotency_key).second) out.push_back(&call);
  return out;
}

}  // namespace rmaflow
