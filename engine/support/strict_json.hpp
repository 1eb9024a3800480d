// JSON from outside the engine (an HTTP body, an input file, a CLI option), parsed in one pass
// that refuses what the engine will not take: nesting deeper than a bound (jq and the JSON
// conversions recurse), a key given twice in one object ("last one wins" would let two readers
// of the same text see different documents), a number no double holds (1e400). The time is
// linear in the text: nlohmann's parser with a callback, used before for the same checks,
// looked through an array's elements at the end of each element, so a 1 MiB body of empty
// objects took 21 s of a core.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

#include "engine/support/json_depth.hpp"

namespace rmaflow {

// The document `text` holds. Throws Error(invalid_argument), one sentence naming `subject`
// ("the request body", a file's path, "--data") and what is wrong: not JSON (with the byte
// where it stops being JSON), nested more than `max_depth` levels (as json_deeper_than counts
// them), a key given twice, a number out of range.
nlohmann::json parse_strict_json(std::string_view text, std::string_view subject,
                                 std::size_t max_depth = kMaxJsonDepth);

}  // namespace rmaflow
