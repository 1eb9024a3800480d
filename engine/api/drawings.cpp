#include "engine/api/drawings.hpp"

#include <fmt/format.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "engine/api/problem.hpp"
#include "engine/support/threads.hpp"
#include "rmaflow/graph.hpp"

namespace rmaflow::api {

namespace {

std::exception_ptr unavailable(std::string detail) {
  return std::make_exception_ptr(ProblemError(make_problem(503, "unavailable", std::move(detail))));
}

}  // namespace

Drawings::Drawings(Options options)
    : Drawings(
          [layout = options.layout](const std::string& dot, int cancel_fd) {
            auto bounded = layout;
            bounded.cancel_fd = cancel_fd;
            return layout_svg(dot, bounded);
          },
          options.at_once, options.max_waiting) {}

Drawings::Drawings(Layout layout, std::size_t at_once, std::size_t max_waiting)
    : layout_(std::move(layout)), max_waiting_(max_waiting) {
  cancel_fd_ = eventfd(0, EFD_CLOEXEC);
  if (cancel_fd_ < 0) throw Error(Errc::io, "the graph drawings' eventfd could not be made");
  for (std::size_t i = 0; i < std::max<std::size_t>(at_once, 1); ++i) {
    threads_.emplace_back([this] {
      name_this_thread("rmaflow-drawing");
      work();
    });
  }
}

Drawings::~Drawings() {
  stop();
  ::close(cancel_fd_);
}

std::exception_ptr Drawings::refused(const std::string& version, const std::string& reason) const {
  return std::make_exception_ptr(ProblemError(make_problem(
      422, "graph-too-large",
      fmt::format("{} cannot be drawn as SVG: {}; format=dot or format=mermaid give the graph "
                  "without a layout",
                  version, reason))));
}

void Drawings::draw(const DefinitionRow& row, const Definition& definition,
                    const GraphOverlay* overlay, Done done) {
  Job job{{row.name, row.version, row.content_hash},
          fmt::format("workflow {} version {}", row.name, row.version),
          "",
          overlay == nullptr,
          std::move(done)};
  std::exception_ptr answer;
  std::string svg;
  {
    std::lock_guard lock(mu_);
    auto kept = kept_.find(job.key);
    if (kept != kept_.end() && !kept->second.refusal.empty()) {
      answer = refused(job.version, kept->second.refusal);
    } else if (kept != kept_.end() && job.plain && !kept->second.svg.empty()) {
      svg = kept->second.svg;
    } else if (stopping_) {
      answer = unavailable("the server is stopping");
    } else if (waiting_.size() >= max_waiting_) {
      answer = unavailable(
          fmt::format("too many graphs are being drawn ({} wait for a layout); ask again shortly",
                      waiting_.size()));
    } else {
      job.dot = render_graph(definition, GraphFormat::dot, overlay);
      waiting_.push_back(std::move(job));
      wake_.notify_one();
      return;
    }
  }
  job.done(std::move(svg), answer);
}

void Drawings::work() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
    if (stopping_) return;
    Job job = std::move(waiting_.front());
    waiting_.pop_front();
    lock.unlock();
    lay_out(job);
    lock.lock();
  }
}

void Drawings::lay_out(Job& job) {
  {
    // Another drawing thread may have made it, or refused it, while this job waited.
    std::lock_guard lock(mu_);
    auto kept = kept_.find(job.key);
    if (kept != kept_.end() && !kept->second.refusal.empty()) {
      job.done("", refused(job.version, kept->second.refusal));
      return;
    }
    if (kept != kept_.end() && job.plain && !kept->second.svg.empty()) {
      job.done(kept->second.svg, nullptr);
      return;
    }
  }
  try {
    auto svg = layout_(job.dot, cancel_fd_);
    if (job.plain) {
      std::lock_guard lock(mu_);
      kept_[job.key].svg = svg;
    }
    job.done(std::move(svg), nullptr);
  } catch (const LayoutRefused& e) {
    {
      std::lock_guard lock(mu_);
      kept_[job.key].refusal = e.what();
    }
    job.done("", refused(job.version, e.what()));
  } catch (...) {
    bool stopping = false;
    {
      std::lock_guard lock(mu_);
      stopping = stopping_;
    }
    job.done("", stopping ? unavailable("the server is stopping") : std::current_exception());
  }
}

void Drawings::stop() {
  std::deque<Job> unanswered;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    unanswered.swap(waiting_);
  }
  std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(cancel_fd_, &one, sizeof one);
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
  for (auto& job : unanswered) job.done("", unavailable("the server is stopping"));
}

}  // namespace rmaflow::api
