// Which signals an instance can take. A signal is stored only if some wait of the instance can
// take it now or later; anything else would be kept forever and never consumed:
//
//   no wait of the version waits for that name        -> refused, naming the ones it waits for
//                                                        (dsl::signal_refusal; the engine checks
//                                                        it first, as a bad argument)
//   it carries a match value, no wait for it has match -> refused: send it without one
//   no match value, every wait for it has a match      -> refused: name the branch it is for
//   a match value that no cursor can ever wait with    -> refused, naming the branches that wait
//     (a cursor can when the wait is reachable from where it stands and the wait's match renders
//      to that value in its context, or when the wait is in a fan-out step not yet entered)
//
// A wait without `match` takes any signal with its name.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "engine/runtime/instance.hpp"

namespace rmaflow {

// Empty when the instance can take the signal; otherwise why not, as a sentence.
std::string signal_refusal(const Instance& inst, const std::string& name,
                           const nlohmann::json& match);

}  // namespace rmaflow
