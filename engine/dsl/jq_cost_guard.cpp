// libjq's walking builtins, bounded during an evaluation (see jq_cost_guard.hpp). Regular
// expressions are bounded in jq_regex_guard.cpp.
#include "engine/dsl/jq_cost_guard.hpp"

#include <dlfcn.h>
#include <malloc.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "engine/dsl/jq_guard_shared.hpp"
#include "engine/dsl/jq_watchdog.hpp"

// libjq's allocator (its jv_alloc.h, which libjq-dev does not install). Every block of its
// values and of its interpreter's stacks comes from these.
extern "C" {
void* jv_mem_alloc(size_t size);
void* jv_mem_alloc_unguarded(size_t size);
void* jv_mem_calloc(size_t count, size_t size);
void* jv_mem_calloc_unguarded(size_t count, size_t size);
char* jv_mem_strdup(const char* s);
char* jv_mem_strdup_unguarded(const char* s);
void jv_mem_free(void* block);
void* jv_mem_realloc(void* block, size_t size);
}

namespace rmaflow::dsl {

namespace {

struct GuardState {
  bool active = false;   // inside a JqCostScope
  bool overrun = false;  // a builtin was refused a value too large
  bool late = false;     // a builtin was refused after the deadline
  bool full = false;     // the evaluation came to hold more than `bound`
  int inside = 0;        // guarded calls on the stack: only the outermost one measures
  unsigned inner = 0;    // nested calls made, of those that look at the clock now and then
  std::chrono::steady_clock::time_point deadline;
  std::uint64_t watch = 0;  // the watchdog's ticket for the evaluation (0: not yet armed)
  // libjq's blocks allocated since the scope began, less those freed, by their usable size.
  std::int64_t held = 0;
  std::int64_t bound = 0;  // what `held` may reach
};
thread_local GuardState g_guard;

// The evaluation has been refused (too large, too late or too much held): every builtin refuses.
bool refused() {
  return g_guard.overrun || g_guard.late || g_guard.full;
}

// in_time(), reading the clock once in 1024 calls: for calls too many and too cheap to read it
// each time.
bool in_time_now_and_then() {
  if ((++g_guard.inner & 1023u) != 0) return !refused();
  return in_time();
}

// Counts a block of libjq's allocated (`sign` 1) or about to be freed (-1) during an
// evaluation; past its bound, halts the evaluation at its next instruction.
void count_block(void* block, int sign) {
  if (!g_guard.active || block == nullptr) return;
  g_guard.held += sign * static_cast<std::int64_t>(malloc_usable_size(block));
  if (g_guard.full || g_guard.held <= g_guard.bound) return;
  g_guard.full = true;
  if (g_guard.watch != 0) JqWatchdog::instance().halt(g_guard.watch);
}

// `block`, just allocated by libjq, counted.
template <typename Block>
Block* counted(Block* block) {
  count_block(block, 1);
  return block;
}

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
    if (refused()) return false;
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
  if (refused()) return false;
  if (length <= bound) return true;
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

bool guarding() {
  return g_guard.active;
}

bool in_time() {
  if (refused()) return false;
  if (std::chrono::steady_clock::now() <= g_guard.deadline) return true;
  g_guard.late = true;
  return false;
}

void* next_definition(const char* name) {
  void* found = dlsym(RTLD_NEXT, name);
  if (found == nullptr) {
    std::fprintf(stderr, "rmaflow: no library defines %s\n", name);
    std::abort();
  }
  return found;
}

JqCostScope::JqCostScope(std::chrono::steady_clock::time_point deadline, std::size_t held_bytes) {
  g_guard = GuardState{
      .active = true, .deadline = deadline, .bound = static_cast<std::int64_t>(held_bytes)};
}

void JqCostScope::watched_as(std::uint64_t ticket) {
  g_guard.watch = ticket;
  if (g_guard.full) JqWatchdog::instance().halt(ticket);
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

bool JqCostScope::full() const {
  return g_guard.full;
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

// libjq's allocator: each block counted against the evaluation's memory (count_block).
void* jv_mem_alloc(size_t size) {
  RMAFLOW_NEXT_DEFINITION(jv_mem_alloc);
  return rmaflow::dsl::counted(real(size));
}

void* jv_mem_alloc_unguarded(size_t size) {
  RMAFLOW_NEXT_DEFINITION(jv_mem_alloc_unguarded);
  return rmaflow::dsl::counted(real(size));
}

void* jv_mem_calloc(size_t count, size_t size) {
  RMAFLOW_NEXT_DEFINITION(jv_mem_calloc);
  return rmaflow::dsl::counted(real(count, size));
}

void* jv_mem_calloc_unguarded(size_t count, size_t size) {
  RMAFLOW_NEXT_DEFINITION(jv_mem_calloc_unguarded);
  return rmaflow::dsl::counted(real(count, size));
}

char* jv_mem_strdup(const char* s) {
  RMAFLOW_NEXT_DEFINITION(jv_mem_strdup);
  return rmaflow::dsl::counted(real(s));
}

char* jv_mem_strdup_unguarded(const char* s) {
  RMAFLOW_NEXT_DEFINITION(jv_mem_strdup_unguarded);
  return rmaflow::dsl::counted(real(s));
}

void jv_mem_free(void* block) {
  RMAFLOW_NEXT_DEFINITION(jv_mem_free);
  rmaflow::dsl::count_block(block, -1);
  real(block);
}

void* jv_mem_realloc(void* block, size_t size) {
  RMAFLOW_NEXT_DEFINITION(jv_mem_realloc);
  rmaflow::dsl::count_block(block, -1);
  void* moved = real(block, size);
  // On failure libjq's realloc ends the process; the block stays as it was otherwise.
  rmaflow::dsl::count_block(moved, 1);
  return moved;
}

}  // extern "C"
