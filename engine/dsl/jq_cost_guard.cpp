// libjq's walking builtins and its regular expressions, bounded during an evaluation (see
// jq_cost_guard.hpp).
#include "engine/dsl/jq_cost_guard.hpp"

#include <dlfcn.h>
#include <oniguruma.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

namespace rmaflow::dsl {

namespace {

struct GuardState {
  bool active = false;   // inside a JqCostScope
  bool overrun = false;  // a builtin was refused a value too large
  bool late = false;     // a builtin was refused after the deadline
  int inside = 0;        // guarded calls on the stack: only the outermost one measures
  unsigned inner = 0;    // nested calls made, of those that look at the clock now and then
  std::chrono::steady_clock::time_point deadline;
};
thread_local GuardState g_guard;

// False (and the evaluation marked) once a builtin was refused or the deadline has passed.
bool in_time() {
  if (g_guard.overrun || g_guard.late) return false;
  if (std::chrono::steady_clock::now() <= g_guard.deadline) return true;
  g_guard.late = true;
  return false;
}

// in_time(), reading the clock once in 1024 calls: for calls too many and too cheap to read it
// each time.
bool in_time_now_and_then() {
  if ((++g_guard.inner & 1023u) != 0) return !g_guard.overrun && !g_guard.late;
  return in_time();
}

// The shared library's definition of `name`, which the executable's stands in for: the next one
// in lookup order.
void* next_definition(const char* name) {
  void* found = dlsym(RTLD_NEXT, name);
  if (found == nullptr) {
    std::fprintf(stderr, "rmaflow: no library defines %s\n", name);
    std::abort();
  }
  return found;
}

#define RMAFLOW_NEXT_DEFINITION(name) \
  static const auto real = reinterpret_cast<decltype(&::name)>(rmaflow::dsl::next_definition(#name))

// The outermost guarded call of an evaluation, for as long as it runs.
class Measured {
 public:
  Measured() : measures_(g_guard.active && g_guard.inside == 0) { ++g_guard.inside; }
  ~Measured() { --g_guard.inside; }
  Measured(const Measured&) = delete;
  Measured& operator=(const Measured&) = delete;

  // False (and the evaluation marked) when this call must not walk `a` and `b`.
  bool allows(jv a, jv b = jv_null()) const {
    if (!g_guard.active) return true;
    if (g_guard.overrun || g_guard.late) return false;
    if (!measures_) return true;
    if (!in_time()) return false;
    std::size_t units = kWalkUnits;
    if (jv_within(a, units) && jv_within(b, units)) return true;
    g_guard.overrun = true;
    return false;
  }

 private:
  bool measures_;
};

// False (and the evaluation marked) when a built string or array would pass `bound`.
bool may_build(std::size_t length, std::size_t bound) {
  if (!g_guard.active) return true;
  if (!g_guard.overrun && length <= bound) return true;
  g_guard.overrun = true;
  return false;
}

// libjq's `real(a, b)` when it may walk both; otherwise `refused(a, b)` (which borrows them).
template <typename Real, typename Refused>
auto walk_both(Real real, jv a, jv b, Refused refused) {
  Measured call;
  if (call.allows(a, b)) return real(a, b);
  auto result = refused(a, b);
  jv_free(a);
  jv_free(b);
  return result;
}

std::size_t string_length(jv s) {  // borrows `s`
  return static_cast<std::size_t>(jv_string_length_bytes(jv_copy(s)));
}

}  // namespace

JqCostScope::JqCostScope(std::chrono::steady_clock::time_point deadline) {
  g_guard = GuardState{true, false, false, 0, 0, deadline};
}

JqCostScope::~JqCostScope() {
  g_guard = GuardState{};
}

bool JqCostScope::overrun() const {
  return g_guard.overrun;
}

bool JqCostScope::late() const {
  return g_guard.late;
}

bool jv_within(jv value, std::size_t units) {
  struct Pending {
    jv value;  // owned
    std::size_t depth;
  };
  std::vector<Pending> stack;
  stack.push_back({jv_copy(value), 0});
  bool fits = true;
  auto spend = [&](std::size_t cost) {
    if (cost > units) {
      fits = false;
      return;
    }
    units -= cost;
  };
  while (fits && !stack.empty()) {
    Pending next = stack.back();
    stack.pop_back();
    spend(8);
    switch (jv_get_kind(next.value)) {
      case JV_KIND_STRING:
        spend(string_length(next.value));
        break;
      case JV_KIND_ARRAY:
      case JV_KIND_OBJECT:
        if (next.depth >= kWalkDepth) {
          fits = false;
          break;
        }
        if (jv_get_kind(next.value) == JV_KIND_ARRAY) {
          int n = jv_array_length(jv_copy(next.value));
          for (int i = 0; fits && i < n; ++i) {
            spend(8);
            stack.push_back({jv_array_get(jv_copy(next.value), i), next.depth + 1});
          }
        } else {
          for (int it = jv_object_iter(next.value); fits && jv_object_iter_valid(next.value, it);
               it = jv_object_iter_next(next.value, it)) {
            jv key = jv_object_iter_key(next.value, it);
            spend(8 + string_length(key));
            jv_free(key);
            stack.push_back({jv_object_iter_value(next.value, it), next.depth + 1});
          }
        }
        break;
      default:
        break;
    }
    jv_free(next.value);
  }
  for (auto& pending : stack) jv_free(pending.value);
  return fits;
}

}  // namespace rmaflow::dsl

// The definitions libjq's calls bind to. Each follows libjq's ownership rule for the function
// it stands in for: every jv argument is consumed.

extern "C" {

jv jv_dump_string(jv x, int flags) {
  RMAFLOW_NEXT_DEFINITION(jv_dump_string);
  rmaflow::dsl::Measured call;
  if (call.allows(x)) return real(x, flags);
  jv_free(x);
  return jv_string("");
}

char* jv_dump_string_trunc(jv x, char* outbuf, size_t bufsize) {
  RMAFLOW_NEXT_DEFINITION(jv_dump_string_trunc);
  // Only error messages use it, and they show a prefix: a large value is named, not walked.
  rmaflow::dsl::Measured call;
  if (!rmaflow::dsl::g_guard.active || rmaflow::dsl::jv_within(x, 4 * bufsize + 64))
    return real(x, outbuf, bufsize);
  // libjq's message buffers are short: "array ([...]) and array ([...]) cannot be divided".
  jv_kind kind = jv_get_kind(x);
  jv_free(x);
  const char* shown = kind == JV_KIND_ARRAY    ? "[...]"
                      : kind == JV_KIND_OBJECT ? "{...}"
                                               : "\"...\"";
  if (bufsize > 0) std::snprintf(outbuf, bufsize, "%s", shown);
  return outbuf;
}

int jv_equal(jv a, jv b) {
  RMAFLOW_NEXT_DEFINITION(jv_equal);
  // Values of different kinds are never equal, and need no walk: every `try ... catch` of
  // libjq 1.6 compares the error it caught with "object".
  bool kinds_differ = jv_get_kind(a) != jv_get_kind(b);
  if (kinds_differ || jv_identical(jv_copy(a), jv_copy(b))) {
    jv_free(a);
    jv_free(b);
    return kinds_differ ? 0 : 1;
  }
  return rmaflow::dsl::walk_both(real, a, b, [](jv, jv) { return 0; });
}

int jv_cmp(jv a, jv b) {
  RMAFLOW_NEXT_DEFINITION(jv_cmp);
  return rmaflow::dsl::walk_both(real, a, b, [](jv, jv) { return 0; });
}

int jv_contains(jv a, jv b) {
  RMAFLOW_NEXT_DEFINITION(jv_contains);
  // An array contains another when each of its elements contains one of the other's: libjq
  // tries every pair, nested calls of this one, each within the bound of the outermost.
  using rmaflow::dsl::g_guard;
  if (g_guard.active && g_guard.inside > 0 && !rmaflow::dsl::in_time_now_and_then()) {
    jv_free(a);
    jv_free(b);
    return 0;
  }
  return rmaflow::dsl::walk_both(real, a, b, [](jv, jv) { return 0; });
}

jv jv_sort(jv objects, jv keys) {
  RMAFLOW_NEXT_DEFINITION(jv_sort);
  return rmaflow::dsl::walk_both(real, objects, keys,
                                 [](jv objects, jv) { return jv_copy(objects); });
}

jv jv_group(jv objects, jv keys) {
  RMAFLOW_NEXT_DEFINITION(jv_group);
  return rmaflow::dsl::walk_both(real, objects, keys, [](jv, jv) { return jv_array(); });
}

jv jv_object_merge_recursive(jv a, jv b) {
  RMAFLOW_NEXT_DEFINITION(jv_object_merge_recursive);
  return rmaflow::dsl::walk_both(real, a, b, [](jv a, jv) { return jv_copy(a); });
}

jv jv_string_concat(jv a, jv b) {
  RMAFLOW_NEXT_DEFINITION(jv_string_concat);
  using rmaflow::dsl::string_length;
  if (rmaflow::dsl::may_build(string_length(a) + string_length(b), rmaflow::dsl::kBuiltBytes))
    return real(a, b);
  jv_free(b);
  return a;
}

jv jv_string_append_buf(jv a, const char* buf, int len) {
  RMAFLOW_NEXT_DEFINITION(jv_string_append_buf);
  std::size_t added = len > 0 ? static_cast<std::size_t>(len) : 0;
  if (rmaflow::dsl::may_build(rmaflow::dsl::string_length(a) + added, rmaflow::dsl::kBuiltBytes))
    return real(a, buf, len);
  return a;
}

jv jv_array_concat(jv a, jv b) {
  RMAFLOW_NEXT_DEFINITION(jv_array_concat);
  auto length = [](jv v) { return static_cast<std::size_t>(jv_array_length(jv_copy(v))); };
  if (rmaflow::dsl::may_build(length(a) + length(b), rmaflow::dsl::kBuiltElements))
    return real(a, b);
  jv_free(b);
  return a;
}

// `.[b]` on arrays and `indices(b)`: where b occurs in a, each place compared in turn, overlapping
// matches included, as libjq does ([1,1,1] | indices([1,1]) is [0,1]; an empty b is nowhere).
jv jv_array_indexes(jv a, jv b) {
  int n = jv_array_length(jv_copy(a));
  int m = jv_array_length(jv_copy(b));
  jv found = jv_array();
  for (int at = 0; at + m <= n && m > 0; ++at) {
    bool match = true;
    for (int i = 0; match && i < m; ++i) {
      // Equal elements may be the same value, which jv_equal does not walk: the clock is read here.
      if (rmaflow::dsl::g_guard.active && !rmaflow::dsl::in_time()) break;
      match = jv_equal(jv_array_get(jv_copy(a), at + i), jv_array_get(jv_copy(b), i)) != 0;
    }
    if (rmaflow::dsl::g_guard.active &&
        (rmaflow::dsl::g_guard.overrun || rmaflow::dsl::g_guard.late))
      break;
    if (match) found = jv_array_append(found, jv_number(at));
  }
  jv_free(a);
  jv_free(b);
  return found;
}

// `indices(s)` and `index(s)` on strings: byte offsets of s's matches that do not overlap, as
// libjq does. libjq's never ends on an empty s (it appends offset 0 until memory runs out); an
// empty s is nowhere, as in later jq.
jv jv_string_indexes(jv j, jv k) {
  RMAFLOW_NEXT_DEFINITION(jv_string_indexes);
  if (rmaflow::dsl::string_length(k) > 0) return real(j, k);
  jv_free(j);
  jv_free(k);
  return jv_array();
}

}  // extern "C"

// Regular expressions.
//
// Each of jq's regular expression builtins (`test`, `match`, `capture`, `scan`, `split/2`,
// `splits`, `sub`, `gsub`) is one call into libjq's C code, out of the watchdog's reach, which
// searches with oniguruma's onig_search. Oniguruma bounds the backtracking at one start position
// (its retry limit in match, an error past it), but a search tries every start position, and the
// work at each may grow with the rest of the string, with or without backtracking:
// `test("(a|aa){0,16}[^ab]")` on 100,000 letters `a` backtracks about a millisecond at each,
// 100 s in all; a global match runs one search per match within the same call. Either holds the
// engine's thread for minutes, with a string from outside and a pattern an analyst wrote.
//
// So rmaflow defines onig_search too (libjq calls it through its procedure linkage table, as it
// calls the functions above). During an evaluation a search over a short string (kWholeSearchBytes)
// runs whole, within a retry limit of its own; a longer string, or a search past that limit, is
// searched one start position at a time (onig_match, which is what a search does at each), reading
// the clock before each: past the deadline it answers "no match", and the evaluation is refused
// with the "time" limit. The answer is oniguruma's: the first position that matches is the
// leftmost match. (Narrowing a whole search's range of start positions instead does not keep
// the answers: oniguruma then misses matches that its search for a required literal would find
// past the range.) A pattern compiled to find the longest match (jq's "l" flag) compares the
// matches at every start position: one at a time, the longest, the leftmost of equals, as
// oniguruma answers, worked out once for the successive searches of a global match. A pattern
// with `\G`, which matches where a search starts, is searched whole. Outside an evaluation the
// calls only forward.
namespace rmaflow::dsl {

namespace {

// Searched whole: strings this long at most, within this much backtracking (retries).
constexpr std::size_t kWholeSearchBytes = 4096;
constexpr unsigned long kWholeSearchRetries = 1ul << 22;

// For a pattern that finds the longest match, searched a position at a time: the longest match
// at each start position of one string from `from` on, worked out once for all the searches of
// a global match (jq's "gl"), each of which would otherwise try every position to the end
// again. The match at a position does not depend on where a search started (`\G` aside, which
// is searched whole).
struct LongestMatches {
  const OnigUChar* str = nullptr;
  const OnigUChar* end = nullptr;
  const OnigUChar* from = nullptr;
  OnigOptionType option = ONIG_OPTION_NONE;
  // Per byte from `from` to `end`: where the longest match at or after it starts (the leftmost
  // of equals), as an offset from `from`; -1 when no position there matches.
  std::vector<int> best;

  bool holds(const OnigUChar* s, const OnigUChar* e, const OnigUChar* start,
             OnigOptionType o) const {
    return s == str && e == end && o == option && from != nullptr && from <= start;
  }
};

// What this thread knows of a pattern libjq compiled: whether it matches where a search starts
// (`\G`), the last empty match it found (in which string, where), and its longest matches.
// libjq compiles a pattern, searches with it and frees it within one builtin call, on one
// thread, on one string.
struct PatternUse {
  OnigRegex reg;
  bool anchored_at_start;
  const OnigUChar* str = nullptr;
  const OnigUChar* empty_at = nullptr;
  LongestMatches longest{};
};
thread_local std::vector<PatternUse> t_patterns;

PatternUse* use_of(OnigRegex reg) {
  for (auto& use : t_patterns)
    if (use.reg == reg) return &use;
  return nullptr;
}

// Whether a pattern's text holds `\G` (conservatively: inside a class too).
bool names_search_start(const OnigUChar* p, const OnigUChar* end) {
  bool escaped = false;
  for (; p < end; ++p) {
    if (escaped && *p == 'G') return true;
    escaped = !escaped && *p == '\\';
  }
  return false;
}

// Whether a search must run whole, as oniguruma runs it.
bool searched_whole(const PatternUse* use, const OnigUChar* start, const OnigUChar* range) {
  if (range < start) return true;  // a backward search; libjq searches forward only
  return use == nullptr || use->anchored_at_start;
}

bool finds_longest(OnigRegex reg, OnigOptionType option) {
  return ((onig_get_options(reg) | option) & ONIG_OPTION_FIND_LONGEST) != 0;
}

// The first byte at or after `p` (and before `end`) that starts a UTF-8 character.
const OnigUChar* character_at(const OnigUChar* p, const OnigUChar* end) {
  while (p < end && (*p & 0xC0) == 0x80) ++p;
  return p;
}

// Where a global match goes on from, or null when it has no more to find. libjq 1.6 goes on
// from an empty match one byte past where its last search started. That byte may be inside a
// character: an empty match found there is at no character's offset, and libjq's count of the
// characters before it runs past the end of the string and crashes the process (`"é" |
// [match("x*"; "g")]`, `gsub(" *"; "")` on a name with an accent). And when the empty match was
// found past where the search started (`"ab" | match("(?=b)"; "g")`), the next search finds it
// again. So a search goes on from the character after the last empty match, and finds nothing
// when that is the end of the string, as libjq does when an empty match is at the last byte.
const OnigUChar* resumed_from(const PatternUse* use, const OnigUChar* str, const OnigUChar* end,
                              const OnigUChar* start) {
  if (use != nullptr && use->str == str && use->empty_at != nullptr && start <= use->empty_at) {
    if (use->empty_at >= end) return nullptr;
    start = use->empty_at + 1;
  } else if (start <= str || start >= end || (*start & 0xC0) != 0x80) {
    return start;
  }
  start = character_at(start, end);
  return start < end ? start : nullptr;
}

// This thread's match parameter for whole searches, with their retry limit; null when oniguruma
// could not allocate it.
OnigMatchParam* whole_search_param() {
  struct Param {
    OnigMatchParam* param = onig_new_match_param();
    Param() {
      if (param == nullptr) return;
      onig_initialize_match_param(param);
      onig_set_retry_limit_in_search_of_match_param(param, kWholeSearchRetries);
    }
    ~Param() {
      if (param != nullptr) onig_free_match_param(param);
    }
    Param(const Param&) = delete;
    Param& operator=(const Param&) = delete;
  };
  thread_local Param whole;
  return whole.param;
}

// onig_search's answer (the leftmost match's position), one start position at a time.
int search_by_position(OnigRegex reg, const OnigUChar* str, const OnigUChar* end,
                       const OnigUChar* start, const OnigUChar* range, OnigRegion* region,
                       OnigOptionType option) {
  for (const OnigUChar* at = start;; at = character_at(at + 1, end)) {
    if (!in_time()) return ONIG_MISMATCH;
    int matched = onig_match(reg, str, end, at, region, option);
    if (matched >= 0) return static_cast<int>(at - str);
    if (matched != ONIG_MISMATCH) return matched;  // an error: oniguruma's limit, memory
    if (at >= range) return ONIG_MISMATCH;
  }
}

// The longest match at every start position from `start` to the end, for `use`'s cache
// (LongestMatches), the positions tried from the last back. False, the cache left empty, when
// the deadline passed or oniguruma failed (`failure`: its error, or ONIG_MISMATCH past the
// deadline).
bool find_longest_matches(OnigRegex reg, PatternUse& use, const OnigUChar* str,
                          const OnigUChar* end, const OnigUChar* start, OnigOptionType option,
                          int& failure) {
  LongestMatches& cache = use.longest;
  cache = {};
  std::unique_ptr<OnigRegion, void (*)(OnigRegion*)> trial(
      onig_region_new(), [](OnigRegion* r) { onig_region_free(r, 1); });
  if (trial == nullptr) {
    failure = ONIGERR_MEMORY;
    return false;
  }
  const auto bytes = static_cast<std::size_t>(end - start);
  std::vector<int> best(bytes + 1, -1);
  int longest = -1;  // the length of the match at best's position
  int found = -1;
  for (std::size_t i = bytes + 1; i-- > 0;) {
    // The positions search_by_position tries: `start`, then each character's first byte.
    if (i == 0 || i == bytes || (start[i] & 0xC0) != 0x80) {
      if (!in_time()) {
        failure = ONIG_MISMATCH;
        return false;
      }
      // Told to find the longest match (by the option, not the pattern's), onig_match
      // answers its length at this position.
      int matched =
          onig_match(reg, str, end, start + i, trial.get(), option | ONIG_OPTION_FIND_LONGEST);
      if (matched >= 0 && matched >= longest) {  // from the last back: the leftmost of equals
        longest = matched;
        found = static_cast<int>(i);
      } else if (matched < 0 && matched != ONIG_MISMATCH) {
        failure = matched;  // an error: oniguruma's limit, memory
        return false;
      }
    }
    best[i] = found;
  }
  cache = {str, end, start, option, std::move(best)};
  return true;
}

// onig_search's answer (the longest match's position, the leftmost of equals) for a pattern
// that finds the longest match, one start position at a time, searching to the end of the
// string as libjq does.
int longest_by_position(OnigRegex reg, PatternUse& use, const OnigUChar* str, const OnigUChar* end,
                        const OnigUChar* start, OnigRegion* region, OnigOptionType option) {
  if (!use.longest.holds(str, end, start, option)) {
    int failure = ONIG_MISMATCH;
    if (!find_longest_matches(reg, use, str, end, start, option, failure)) return failure;
  }
  const LongestMatches& cache = use.longest;
  const int best = cache.best[static_cast<std::size_t>(start - cache.from)];
  if (best < 0) return ONIG_MISMATCH;
  const OnigUChar* at = cache.from + best;
  // Once more, for its groups.
  int matched = onig_match(reg, str, end, at, region, option | ONIG_OPTION_FIND_LONGEST);
  if (matched < 0) return matched;
  return static_cast<int>(at - str);
}

// onig_search's answer during an evaluation (see above).
int bounded_search(decltype(&::onig_search) real, OnigRegex reg, PatternUse* use,
                   const OnigUChar* str, const OnigUChar* end, const OnigUChar* start,
                   const OnigUChar* range, OnigRegion* region, OnigOptionType option) {
  if (!in_time()) return ONIG_MISMATCH;
  if (searched_whole(use, start, range)) return real(reg, str, end, start, range, region, option);
  OnigMatchParam* whole = whole_search_param();
  if (whole != nullptr && static_cast<std::size_t>(end - start) <= kWholeSearchBytes) {
    int found = onig_search_with_param(reg, str, end, start, range, region, option, whole);
    if (found != ONIGERR_RETRY_LIMIT_IN_SEARCH_OVER) return found;
  }
  if (finds_longest(reg, option)) {
    // libjq's searches run to the end of the string (a shorter range is searched whole).
    return range == end ? longest_by_position(reg, *use, str, end, start, region, option)
                        : real(reg, str, end, start, range, region, option);
  }
  return search_by_position(reg, str, end, start, range, region, option);
}

}  // namespace

}  // namespace rmaflow::dsl

extern "C" {

int onig_new(OnigRegex* reg, const OnigUChar* pattern, const OnigUChar* pattern_end,
             OnigOptionType option, OnigEncoding enc, OnigSyntaxType* syntax,
             OnigErrorInfo* einfo) {
  RMAFLOW_NEXT_DEFINITION(onig_new);
  int made = real(reg, pattern, pattern_end, option, enc, syntax, einfo);
  if (made == ONIG_NORMAL) {
    // A pattern freed on another thread may have left a record of the same address here.
    std::erase_if(rmaflow::dsl::t_patterns, [&](const auto& use) { return use.reg == *reg; });
    rmaflow::dsl::t_patterns.push_back(
        {*reg, rmaflow::dsl::names_search_start(pattern, pattern_end)});
  }
  return made;
}

void onig_free(OnigRegex reg) {
  RMAFLOW_NEXT_DEFINITION(onig_free);
  std::erase_if(rmaflow::dsl::t_patterns, [&](const auto& use) { return use.reg == reg; });
  real(reg);
}

int onig_search(OnigRegex reg, const OnigUChar* str, const OnigUChar* end, const OnigUChar* start,
                const OnigUChar* range, OnigRegion* region, OnigOptionType option) {
  RMAFLOW_NEXT_DEFINITION(onig_search);
  using namespace rmaflow::dsl;
  PatternUse* use = use_of(reg);
  if (range == end) {  // libjq's searches: forward, to the end of the string
    start = resumed_from(use, str, end, start);
    if (start == nullptr) return ONIG_MISMATCH;
  }
  int found = g_guard.active
                  ? bounded_search(real, reg, use, str, end, start, range, region, option)
                  : real(reg, str, end, start, range, region, option);
  if (found >= 0 && use != nullptr && region != nullptr && region->beg[0] == region->end[0]) {
    use->str = str;
    use->empty_at = str + region->beg[0];
  }
  return found;
}

}  // extern "C"
