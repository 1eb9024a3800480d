#include "engine/observe/observe_pipeline.hpp"

#include <utility>

#include "engine/support/threads.hpp"

namespace rmaflow::observe {

ObservePipeline::ObservePipeline(EngineMetrics& metrics, SpanExporter* exporter,
                                 DefinitionLookup definitions, double sample)
    : metrics_(metrics), exporter_(exporter) {
  if (exporter_ != nullptr) traces_.emplace(*exporter_, std::move(definitions), sample);
  thread_ = std::thread([this] {
    name_this_thread("rmaflow-observe");
    run();
  });
}

ObservePipeline::~ObservePipeline() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void ObservePipeline::observe(const WriteBatch& batch, std::chrono::nanoseconds took) {
  std::unique_ptr<CommitFacts> facts;
  {
    std::lock_guard lock(mu_);
    if (!spare_.empty()) {
      facts = std::move(spare_.back());
      spare_.pop_back();
    }
  }
  if (!facts) facts = std::make_unique<CommitFacts>();
  facts->assign(batch, took);
  auto span_ends = facts->span_ends();
  bool queued = false;
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    queued = queue_.size() < kMaxQueued;
    wake = idle_ || queue_.size() + 1 >= kWakeAt;
    if (queued) {
      queue_.push_back(std::move(facts));
      ++queued_;
    } else {
      spare_.push_back(std::move(facts));
      lost_ = true;
    }
  }
  if (queued) {
    if (wake) wake_.notify_one();
  } else {
    ++dropped_commits_;
    if (exporter_ != nullptr) exporter_->count_dropped(span_ends);
  }
}

void ObservePipeline::catch_up(std::chrono::milliseconds patience) {
  std::unique_lock lock(mu_);
  auto target = queued_;
  if (worked_ >= target) return;
  hurried_ = true;
  wake_.notify_one();
  done_.wait_for(lock, patience, [&] { return worked_ >= target; });
}

void ObservePipeline::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (queue_.empty()) {
      idle_ = true;  // the next commit wakes this thread
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      idle_ = false;
      if (queue_.empty()) return;  // stopping, and everything queued was worked out
      // The commits that follow within a moment are worked out with it, not one wake-up each.
      wake_.wait_for(lock, kGather,
                     [this] { return stopping_ || hurried_ || queue_.size() >= kWakeAt; });
    }
    while (!queue_.empty()) {
      auto facts = std::move(queue_.front());
      queue_.pop_front();
      bool lost = std::exchange(lost_, false);
      lock.unlock();
      try {
        metrics_.observe(*facts);
        if (traces_) {
          if (lost) traces_->forget();  // what it knew may have ended in the facts dropped
          traces_->observe(*facts);
        }
      } catch (...) {
        // As on the engine's thread (GroupCommit::observe): the observation is lost, nothing
        // else.
      }
      facts->clear();
      lock.lock();
      spare_.push_back(std::move(facts));
      ++worked_;
      done_.notify_all();
    }
    hurried_ = false;  // every catch_up() so far wanted no more than what was just worked out
  }
}

}  // namespace rmaflow::observe
