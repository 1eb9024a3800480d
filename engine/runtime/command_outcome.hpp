// The outcome of a queued command as CommandRow::outcome keeps it (docs/storage.md):
//   "applied", or "applied: <detail>";
//   "refused: <reason>": the instance's state did not allow it (Errc::refused);
//   "refused [<code>]: <reason>", "refused [<code> <field>]: <reason>": refused with another
//   kind of error, such as a goto to a step that does not exist ("not-found step"), so that a
//   node that passed the request on answers the caller as the owner would have;
//   "withdrawn by <actor>: <reason>".
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "rmaflow/errors.hpp"

namespace rmaflow {

// The outcome that records refusing a command with `error`.
std::string refused_outcome(const Error& error);

// Throws the error a refused outcome records: its code, or `fallback` when it names none (an
// outcome recorded before codes were), as an ArgumentError when it names the request's field.
// Returns when the outcome is not a refusal.
void throw_refusal(std::string_view outcome, Errc fallback);

}  // namespace rmaflow
