#include "engine/api/drawings.hpp"

#include <fmt/format.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "engine/api/problem.hpp"
#include "engine/support/threads.hpp"
#include "rmaflow/graph.hpp"

namespace rmaflow::api {

namespace {

// A 503 of problem type `type`: busy (too many layouts wait: ask again as it is) or
// unavailable (the server is stopping).
std::exception_ptr service_refusal(const char* type, std::string detail) {
  return std::make_exception_ptr(ProblemError(make_problem(503, type, std::move(detail))));
}

std::exception_ptr stopping() {
  return service_refusal("unavailable", "the server is stopping");
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
  std::string dot;  // made without the lock held, once a layout is needed; then looked again
  for (bool looked = false; !looked;) {
    std::unique_lock lock(mu_);
    auto kept = kept_.find(job.key);
    auto drawing = job.plain ? followers_.find(job.key) : followers_.end();
    looked = true;
    if (kept != kept_.end() && !kept->second.refusal.empty()) {
      answer = refused(job.version, kept->second.refusal);
    } else if (kept != kept_.end() && job.plain && !kept->second.svg.empty()) {
      svg = kept->second.svg;
    } else if (stopping_) {
      answer = stopping();
    } else if (drawing != followers_.end()) {
      drawing->second.push_back(std::move(job.done));  // the layout under way answers it too
      return;
    } else if (waiting_.size() >= max_waiting_) {
      answer = service_refusal(
          "busy",
          fmt::format("too many graphs are being drawn ({} wait for a layout); ask again shortly",
                      waiting_.size()));
    } else if (dot.empty()) {
      lock.unlock();
      dot = render_graph(definition, GraphFormat::dot, overlay);
      looked = false;
    } else {
      job.dot = std::move(dot);
      if (job.plain) followers_[job.key];
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
  std::string refusal;
  {
    // The version may have been refused (for an instance's path on it) while this job waited.
    std::lock_guard lock(mu_);
    if (auto kept = kept_.find(job.key); kept != kept_.end()) refusal = kept->second.refusal;
  }
  std::string svg;
  std::exception_ptr error;
  if (refusal.empty()) {
    try {
      svg = layout_(job.dot, cancel_fd_);
    } catch (const LayoutRefused& e) {
      refusal = e.what();
    } catch (...) {
      error = std::current_exception();
    }
  }
  if (!refusal.empty()) error = refused(job.version, refusal);
  std::vector<Done> followers;
  {
    std::lock_guard lock(mu_);
    if (error && refusal.empty() && stopping_) error = stopping();
    if (!refusal.empty()) kept_[job.key].refusal = refusal;
    if (job.plain && !error) kept_[job.key].svg = svg;
    if (auto drawing = job.plain ? followers_.find(job.key) : followers_.end();
        drawing != followers_.end()) {
      followers = std::move(drawing->second);
      followers_.erase(drawing);
    }
  }
  for (auto& done : followers) done(svg, error);
  job.done(std::move(svg), error);
}

void Drawings::stop() {
  std::deque<Job> unanswered;
  std::map<Key, std::vector<Done>> followers;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    unanswered.swap(waiting_);
    followers.swap(followers_);
  }
  std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(cancel_fd_, &one, sizeof one);
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
  for (auto& job : unanswered) job.done("", stopping());
  for (auto& [_, waiting] : followers) {
    for (auto& done : waiting) done("", stopping());
  }
}

}  // namespace rmaflow::api
