// oniguruma's searches, bounded during an evaluation (see jq_cost_guard.hpp and below).
#include <oniguruma.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <vector>

#include "engine/dsl/jq_guard_shared.hpp"

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
// calls the builtins of jq_cost_guard.cpp). During an evaluation a search over a short string
// (kWholeSearchBytes) runs whole, within a retry limit of its own; a longer string, or a search
// past that limit, is searched one start position at a time (onig_match, which is what a search
// does at each), reading the clock before each: past the deadline it answers "no match", and the
// evaluation is refused with the "time" limit. The answer is oniguruma's: the first position that
// matches is the leftmost match. (Narrowing a whole search's range of start positions instead does
// not keep the answers: oniguruma then misses matches that its search for a required literal would
// find past the range.) A pattern compiled to find the longest match (jq's "l" flag) compares the
// matches at every start position: one at a time, the longest, the leftmost of equals, as
// oniguruma answers, worked out once for the successive searches of a global match. `\G`, which
// matches where a search started, is told not to hold at the positions after it
// (ONIG_OPTION_NOT_BEGIN_POSITION: onig_match takes the position it tries for the search's
// start). Outside an evaluation the calls only forward.
namespace rmaflow::dsl {

namespace {

// Searched whole: strings this long at most, within this much backtracking (retries).
constexpr std::size_t kWholeSearchBytes = 4096;
constexpr unsigned long kWholeSearchRetries = 1ul << 22;

// For a pattern that finds the longest match, searched a position at a time: the longest match
// at each start position of one string from `from` on, worked out once for all the searches of
// a global match (jq's "gl"), each of which would otherwise try every position to the end
// again. These are the matches where `\G` does not hold, which do not depend on where a search
// started; the search's own start is tried apart.
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

// What this thread knows of a pattern libjq compiled: the last empty match it found (in which
// string, where), and its longest matches.
// libjq compiles a pattern, searches with it and frees it within one builtin call, on one
// thread, on one string.
struct PatternUse {
  OnigRegex reg;
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

// Whether a search must run whole, as oniguruma runs it.
bool searched_whole(const PatternUse* use, const OnigUChar* start, const OnigUChar* range) {
  if (range < start) return true;  // a backward search; libjq searches forward only
  return use == nullptr;
}

// onig_match's option at `at` for a search from `start`: `\G` holds at the search's start only.
// (onig_match takes its own start for the search's.)
OnigOptionType at_position(OnigOptionType option, const OnigUChar* at, const OnigUChar* start) {
  return at == start ? option : option | ONIG_OPTION_NOT_BEGIN_POSITION;
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
    int matched = onig_match(reg, str, end, at, region, at_position(option, at, start));
    if (matched >= 0) return static_cast<int>(at - str);
    if (matched != ONIG_MISMATCH) return matched;  // an error: oniguruma's limit, memory
    if (at >= range) return ONIG_MISMATCH;
  }
}

// The longest match at every start position from `start` to the end, `\G` held at none of
// them, for `use`'s cache (LongestMatches), the positions tried from the last back. False, the
// cache left empty, when the deadline passed or oniguruma failed (`failure`: its error, or
// ONIG_MISMATCH past the deadline).
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
      int matched = onig_match(reg, str, end, start + i, trial.get(),
                               option | ONIG_OPTION_FIND_LONGEST | ONIG_OPTION_NOT_BEGIN_POSITION);
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
  const OnigOptionType longest = option | ONIG_OPTION_FIND_LONGEST;
  // At the search's start, where `\G` holds too: its match wins from one as long further on.
  int here = onig_match(reg, str, end, start, region, longest);
  if (here < 0 && here != ONIG_MISMATCH) return here;  // an error: oniguruma's limit, memory
  const OnigUChar* at = best < 0 ? nullptr : cache.from + best;
  if (at == nullptr || at == start) return here >= 0 ? static_cast<int>(start - str) : here;
  // Once more, for its groups.
  int there = onig_match(reg, str, end, at, region, at_position(longest, at, start));
  if (there < 0) return there;
  if (here >= there) {
    here = onig_match(reg, str, end, start, region, longest);
    if (here < 0) return here;
    return static_cast<int>(start - str);
  }
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
    rmaflow::dsl::t_patterns.push_back({*reg});
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
  int found = guarding() ? bounded_search(real, reg, use, str, end, start, range, region, option)
                         : real(reg, str, end, start, range, region, option);
  if (found >= 0 && use != nullptr && region != nullptr && region->beg[0] == region->end[0]) {
    use->str = str;
    use->empty_at = str + region->beg[0];
  }
  return found;
}

}  // extern "C"
