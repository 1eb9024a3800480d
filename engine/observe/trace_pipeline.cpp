#include "engine/observe/trace_pipeline.hpp"

#include <utility>

namespace rmaflow::observe {

TracePipeline::TracePipeline(SpanExporter& exporter, DefinitionLookup definitions, double sample)
    : exporter_(exporter), builder_(exporter, std::move(definitions), sample) {
  thread_ = std::thread([this] { run(); });
}

TracePipeline::~TracePipeline() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void TracePipeline::observe(const WriteBatch& batch) {
  std::unique_ptr<CommitFacts> facts;
  {
    std::lock_guard lock(mu_);
    if (!spare_.empty()) {
      facts = std::move(spare_.back());
      spare_.pop_back();
    }
  }
  if (!facts) facts = std::make_unique<CommitFacts>();
  facts->assign(batch);
  if (facts->empty()) return;
  auto span_ends = facts->span_ends();
  bool queued = false;
  {
    std::lock_guard lock(mu_);
    queued = queue_.size() < kMaxQueued;
    if (queued) {
      queue_.push_back(std::move(facts));
    } else {
      spare_.push_back(std::move(facts));
      lost_ = true;
    }
  }
  if (queued) {
    wake_.notify_one();
  } else {
    exporter_.count_dropped(span_ends);
  }
}

void TracePipeline::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything queued was built
    auto facts = std::move(queue_.front());
    queue_.pop_front();
    bool lost = std::exchange(lost_, false);
    lock.unlock();
    if (lost) builder_.forget();  // what it knew may have ended in the facts dropped
    builder_.observe(*facts);
    facts->clear();
    lock.lock();
    spare_.push_back(std::move(facts));
  }
}

}  // namespace rmaflow::observe
