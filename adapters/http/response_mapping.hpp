// How the answer to an HTTP call becomes a step's outcome:
//   2xx                      the JSON body is the result (an empty body is {})
//   408, timeout             Timeout, retryable
//   429, 5xx, no connection  Transient, retryable
//   other 4xx                a named business error, not retryable: the problem+json `code`,
//                            else the last segment of its `type` ("not-eligible" ->
//                            NotEligible), else "Http<status>"
//   anything else            BadResponse, not retryable (an operator looks at it)
#pragma once

#include <string>

#include "engine/net/http_client.hpp"
#include "rmaflow/adapter.hpp"

namespace rmaflow {

// `what` names the call in messages ("carrier POST /labels").
Outcome outcome_of(const net::HttpResult& result, const std::string& what);

}  // namespace rmaflow
