#include "engine/dsl/yaml_bounds.hpp"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "engine/dsl/diagnostic_sink.hpp"
#include "engine/support/file_text.hpp"
#include "engine/support/utf8.hpp"

namespace rmaflow::dsl {

namespace {

// Raised from the event handler to stop the parse at the first bound broken.
struct OutOfBounds {
  YamlBoundsProblem problem;
};

// Counts nodes and depth as a reader walking the loaded document would meet them.
class Measure : public YAML::EventHandler {
 public:
  explicit Measure(const YamlBounds& bounds) : bounds_(bounds) {}
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string&) override {
    leaf(mark, anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      // Open: the alias sits inside the node it names, which would be infinite.
      throw OutOfBounds{{location_of(mark), "yaml-alias",
                         "an alias refers to a node that contains it; the document would be "
                         "infinite"}};
    }
    add(mark, it->second.nodes, it->second.depth);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Size {
    std::size_t nodes = 0;
    std::size_t depth = 0;  // levels below and including the node
  };
  struct Open {
    YAML::anchor_t anchor;
    Size size;
  };

  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor) {
    add(mark, 1, 1);
    if (anchor != YAML::NullAnchor) anchors_[anchor] = Size{1, 1};
  }

  // A node of `nodes` nodes and `depth` levels, met at the current position.
  void add(const YAML::Mark& mark, std::size_t nodes, std::size_t depth) {
    total_ += nodes;
    if (total_ > bounds_.nodes) {
      throw OutOfBounds{{location_of(mark), "yaml-too-large",
                         fmt::format("the document holds more than {} nodes once its aliases are "
                                     "expanded, the most {} may hold",
                                     bounds_.nodes, bounds_.kind)}};
    }
    if (stack_.size() + depth > bounds_.depth) {
      throw OutOfBounds{{location_of(mark), "yaml-too-deep",
                         fmt::format("the document nests deeper than {} levels (aliases "
                                     "expanded)",
                                     bounds_.depth)}};
    }
    if (!stack_.empty()) {
      auto& parent = stack_.back().size;
      parent.nodes += nodes;
      parent.depth = std::max(parent.depth, depth + 1);
    }
  }

  void open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    add(mark, 1, 1);
    stack_.push_back(Open{anchor, Size{1, 1}});
  }

  void close() {
    if (stack_.empty()) return;
    Open done = stack_.back();
    stack_.pop_back();
    if (!stack_.empty()) {
      // The node itself was counted by open(); its children were added to it as they came.
      auto& parent = stack_.back().size;
      parent.nodes += done.size.nodes - 1;
      parent.depth = std::max(parent.depth, done.size.depth + 1);
    }
    if (done.anchor != YAML::NullAnchor) anchors_[done.anchor] = done.size;
  }

  const YamlBounds& bounds_;
  std::vector<Open> stack_;
  std::unordered_map<YAML::anchor_t, Size> anchors_;
  std::size_t total_ = 0;
};

SourceLocation location_at(std::string_view text, std::size_t offset) {
  SourceLocation where{1, 1};
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++where.line;
      where.column = 1;
    } else {
      ++where.column;
    }
  }
  return where;
}

}  // namespace

YamlBoundsProblem too_large(std::uintmax_t bytes, const YamlBounds& bounds) {
  return YamlBoundsProblem{
      {1, 1}, "yaml-too-large", "the file " + past_bound(bytes, bounds.bytes, bounds.kind)};
}

std::optional<YamlBoundsProblem> check_yaml_bounds(std::string_view yaml,
                                                   const YamlBounds& bounds) {
  if (yaml.size() > bounds.bytes) return too_large(yaml.size(), bounds);
  if (auto at = invalid_utf8_at(yaml)) {
    return YamlBoundsProblem{
        location_at(yaml, *at), "yaml-encoding",
        fmt::format("byte {} is not UTF-8; {} must be UTF-8 text", *at, bounds.kind)};
  }
  std::istringstream in{std::string(yaml)};
  Measure measure(bounds);
  try {
    YAML::Parser parser(in);
    parser.HandleNextDocument(measure);
  } catch (const OutOfBounds& e) {
    return e.problem;
  } catch (const YAML::Exception&) {
    return std::nullopt;  // a syntax error: the loader reports it
  }
  return std::nullopt;
}

namespace {

[[noreturn]] void refuse(const std::string& file, const YamlBoundsProblem& problem, Errc code) {
  throw Error(code, fmt::format("{}:{}:{}: {}", file, problem.where.line, problem.where.column,
                                problem.message));
}

}  // namespace

YAML::Node load_bounded_yaml(std::string_view yaml, const std::string& file,
                             const YamlBounds& bounds, Errc code) {
  if (auto problem = check_yaml_bounds(yaml, bounds)) refuse(file, *problem, code);
  try {
    return YAML::Load(std::string(yaml));
  } catch (const YAML::ParserException& e) {
    throw Error(code, fmt::format("{}:{}:{}: not valid YAML: {}", file, e.mark.line + 1,
                                  e.mark.column + 1, e.msg));
  }
}

YAML::Node load_bounded_yaml_file(const std::string& path, std::string_view role,
                                  const YamlBounds& bounds, Errc code) {
  auto file = read_file_text(path, bounds.bytes);
  if (file.fault == FileText::Fault::too_large) refuse(path, too_large(file.size, bounds), code);
  if (!file.read()) throw Error(Errc::io, unread_sentence(path, file, role));
  return load_bounded_yaml(file.text, path, bounds, code);
}

}  // namespace rmaflow::dsl
