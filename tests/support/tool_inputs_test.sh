#!/usr/bin/env bash
# tool_inputs_test.sh TERN_CHAT TERN_BENCH MODEL SCRATCH: what users type wrong (issue 14,
# reproductions 3, 13 and 14). Bad numbers (and byte sizes, KV specs) are reported with the option and the value (they used
# to mean 0, "greedy" or "unlimited", or print only "stoul"); tern-bench -n 0 is refused (it died
# of SIGFPE); one bad chat line (invalid UTF-8, a full context, a state file that is a device) is
# reported and the chat goes on (it used to end the session, conversation lost).
set -uo pipefail
chat=$1 bench=$2 model=$3 scratch=$4
[ -e "$model" ] || { echo "SKIP: $model is absent"; exit 77; }
mkdir -p "$scratch"
fail() { echo "FAILED: $1"; exit 1; }

# expect_usage_error EXPECTED_TEXT COMMAND...: exit status 2 (not a signal) and the text on stderr.
expect_usage_error() {
  local want=$1; shift
  local err rc
  err=$("$@" 2>&1 >/dev/null); rc=$?
  [ "$rc" -eq 2 ] || fail "'$*' exited $rc (want 2); stderr: $err"
  grep -qF -- "$want" <<<"$err" || fail "'$*' said '$err', want '$want'"
}

expect_usage_error "-n: 0 is out of range (at least 1)" "$bench" -m "$model" -p 4 -d 0 -n 0
expect_usage_error "-p: 'abc' is not an integer" "$bench" -m "$model" -p abc
expect_usage_error "-d: 'x' is not an integer" "$bench" -m "$model" -d 1,x
expect_usage_error "-r: 'many' is not an integer" "$bench" -m "$model" -r many
expect_usage_error "--temp: 'abc' is not a number" "$chat" -m "$model" --temp abc
expect_usage_error "-n: 'abc' is not an integer" "$chat" -m "$model" -n abc
expect_usage_error "--top-p: 1.5 is out of range (between 0 and 1)" "$chat" -m "$model" --top-p 1.5
expect_usage_error "--seed: '-1' is not an unsigned integer" "$chat" -m "$model" --seed -1
expect_usage_error "--ctx: '12x' is not an integer" "$chat" -m "$model" --ctx 12x
expect_usage_error "--kv-budget: 'abc' is not a byte size" "$chat" -m "$model" --kv-budget abc
expect_usage_error "--kv-budget: '-5M' is not a byte size" "$bench" -m "$model" --kv-budget -5M
expect_usage_error "KV spec 'window:abc': slot count 'abc' is not an integer" "$chat" -m "$model" --kv window:abc

# One chat session: an invalid UTF-8 line, a line too long for the 32-token context, /load of a
# device, /reset, then a good line, which must still be answered.
long=$(printf 'and the dog ran %.0s' $(seq 1 40))
out=$(printf 'Once upon a \xff\xfe time\n%s\n/load /dev/zero\n/reset\nThe little dog\n/quit\n' "$long" |
      "$chat" -m "$model" --temp 0 -n 8 --ctx 32 --raw 2>&1)
rc=$?
echo "$out"
[ "$rc" -eq 1 ] || fail "exit status $rc after failed turns (want 1)"
grep -q "invalid UTF-8" <<<"$out" || fail "the invalid UTF-8 line was not reported"
grep -q "context full" <<<"$out" || fail "the long line was not reported as a full context"
grep -q "/reset starts over" <<<"$out" || fail "no /reset suggestion after the full context"
grep -q "not a regular file" <<<"$out" || fail "/load /dev/zero was not refused"
grep -q "^The little dog [a-z]" <<<"$out" || fail "the chat did not go on after the failed lines"
echo "tool_inputs_test: passed"
