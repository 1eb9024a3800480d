#include "engine/support/strict_json.hpp"

#include <fmt/format.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/support/utf8.hpp"
#include "rmaflow/errors.hpp"

namespace rmaflow {

namespace {

using json = nlohmann::json;

// A key quoted in a message: a hostile one may be megabytes long, and is cut at a character
// boundary (the message goes into JSON, which takes only UTF-8).
std::string quoted_key(const std::string& key) {
  constexpr std::size_t kShown = 64;
  if (key.size() <= kShown) return fmt::format("\"{}\"", key);
  return fmt::format("\"{}\" ({} bytes)", quote_utf8(key, kShown), key.size());
}

// Builds the document as nlohmann's own DOM parser does (a stack of the containers open),
// with the checks made as each container or key is met. The first refusal stops the parse.
class StrictBuilder final : public nlohmann::json_sax<json> {
 public:
  explicit StrictBuilder(std::size_t max_depth) : max_depth_(max_depth) {}

  bool null() override { return put(nullptr) != nullptr; }
  bool boolean(bool value) override { return put(value) != nullptr; }
  bool number_integer(number_integer_t value) override { return put(value) != nullptr; }
  bool number_unsigned(number_unsigned_t value) override { return put(value) != nullptr; }
  bool number_float(number_float_t value, const string_t&) override {
    return put(value) != nullptr;
  }
  bool string(string_t& value) override { return put(std::move(value)) != nullptr; }
  bool binary(binary_t& value) override { return put(json::binary(std::move(value))) != nullptr; }

  bool start_object(std::size_t) override { return open(json::object()); }
  bool start_array(std::size_t) override { return open(json::array()); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }

  bool key(string_t& name) override {
    auto& members = open_.back()->get_ref<json::object_t&>();
    auto [at, added] = members.emplace(name, nullptr);
    if (!added) {
      refused_ = fmt::format("gives the key {} twice in one object", quoted_key(name));
      return false;
    }
    slot_ = &at->second;
    return true;
  }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) override {
    // 406: a number that no double holds; the parser's other errors are syntax.
    refused_ = e.id == 406 ? std::string("holds a number out of range (such as 1e400)")
                           : fmt::format("is not valid JSON (at byte {})", position);
    return false;
  }

  json take() { return std::move(root_); }
  const std::optional<std::string>& refused() const { return refused_; }

 private:
  // Places a value where the text has it: the root, the next element of the array open, or
  // the member whose key came last. Returns where it went.
  template <class Value>
  json* put(Value&& value) {
    if (open_.empty()) {
      root_ = std::forward<Value>(value);
      return &root_;
    }
    json* parent = open_.back();
    if (parent->is_array()) {
      auto& elements = parent->get_ref<json::array_t&>();
      elements.emplace_back(std::forward<Value>(value));
      return &elements.back();
    }
    *slot_ = std::forward<Value>(value);
    return slot_;
  }

  bool open(json container) {
    if (open_.size() >= max_depth_) {
      refused_ = fmt::format("nests objects or arrays more than {} levels deep", max_depth_);
      return false;
    }
    // An array's elements do not move while one of them is open: only its last is filled.
    open_.push_back(put(std::move(container)));
    return true;
  }

  bool close() {
    open_.pop_back();
    return true;
  }

  std::size_t max_depth_;
  json root_;
  std::vector<json*> open_;  // the containers being filled, outermost first
  json* slot_ = nullptr;     // the member of the innermost object whose key came last
  std::optional<std::string> refused_;
};

}  // namespace

json parse_strict_json(std::string_view text, std::string_view subject, std::size_t max_depth) {
  StrictBuilder builder(max_depth);
  bool parsed = json::sax_parse(text, &builder);
  if (!parsed || builder.refused()) {
    throw Error(Errc::invalid_argument,
                fmt::format("{} {}", subject, builder.refused().value_or("is not valid JSON")));
  }
  return builder.take();
}

}  // namespace rmaflow
