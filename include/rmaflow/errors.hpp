// Errors reported by the rmaflow library.
//
// Every failure the library reports to its caller is an rmaflow::Error carrying an
// Errc the caller can switch on. Library exceptions (SQLite, yaml-cpp, jq) are caught at
// the boundary that owns them and turned into one of these; nothing else escapes.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rmaflow {

enum class Errc {
  invalid_argument,  // the caller passed something malformed (bad JSON, bad name)
  not_found,         // no such workflow, version, instance or step
  conflict,  // clashes with what is stored (same key, other input; same version, other content)
  invalid_definition,  // a workflow definition does not load or validate (see DefinitionError)
  invalid_input,       // a start input fails the workflow's input schema
  refused,             // the operation makes no sense in the instance's current state
  storage,             // the database failed or is not an rmaflow database
  adapter_config,      // an adapters file is malformed or names an unknown adapter type
  io,                  // a file could not be read or written
  // The engine takes no new work for now (it runs as many instances as it may, or holds a
  // failed commit to retry): nothing of the request was done, and the same request may
  // succeed later.
  busy,
};

std::string_view to_string(Errc code);
// The code to_string() names; nullopt for any other text.
std::optional<Errc> parse_errc(std::string_view text);

class Error : public std::runtime_error {
 public:
  Error(Errc code, const std::string& message) : std::runtime_error(message), code_(code) {}
  Errc code() const noexcept { return code_; }

 private:
  Errc code_;
};

// One way an input fails a workflow's input schema.
struct InputViolation {
  std::string pointer;  // RFC 6901, into the input: "/lines/0/qty"; "" for the whole input
  std::string message;  // a sentence that names the place: "/lines/0/qty must be at least 1"
};

// An input that fails the workflow's input schema: every violation, as the schema found them;
// `pointer` names the first one's field.
class InvalidInput : public Error {
 public:
  InvalidInput(const std::string& message, std::vector<InputViolation> violations)
      : Error(Errc::invalid_input, message), violations_(std::move(violations)) {}
  InvalidInput(const std::string& message, std::string pointer)
      : InvalidInput(message, std::vector<InputViolation>{{std::move(pointer), message}}) {}
  const std::string& pointer() const noexcept {
    static const std::string kWhole;
    return violations_.empty() ? kWhole : violations_.front().pointer;
  }
  const std::vector<InputViolation>& violations() const noexcept { return violations_; }

 private:
  std::vector<InputViolation> violations_;
};

// A start with a business key that an instance already has, with another input: `pointer`
// (RFC 6901, into the input) names the first field where the two differ.
class InputConflict : public Error {
 public:
  InputConflict(const std::string& message, std::string pointer)
      : Error(Errc::conflict, message), pointer_(std::move(pointer)) {}
  const std::string& pointer() const noexcept { return pointer_; }

 private:
  std::string pointer_;
};

// A request's argument that names something that does not exist or cannot be used (goto's
// step, say): `field` names the argument, so that an API can point at it.
class ArgumentError : public Error {
 public:
  ArgumentError(Errc code, const std::string& message, std::string field)
      : Error(code, message), field_(std::move(field)) {}
  const std::string& field() const noexcept { return field_; }

 private:
  std::string field_;
};

}  // namespace rmaflow
