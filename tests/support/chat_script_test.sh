#!/usr/bin/env bash
# chat_script_test.sh TERN_CHAT MODEL SCRATCH: drives tern-chat through a pipe and checks that
# both turns answer, the commands work, and statistics are printed.
set -euo pipefail
chat=$1 model=$2 scratch=$3
[ -e "$model" ] || { echo "SKIP: $model is absent"; exit 77; }
state="$scratch/chat-state.bin"
out=$(printf 'Once upon a time\n/stats\n/save %s\nThe little dog\n/load %s\n/help\n/quit\n' "$state" "$state" |
      "$chat" -m "$model" --temp 0 -n 24 --ctx 256 2>&1)
echo "$out"
fail() { echo "FAILED: $1"; exit 1; }
grep -q "^Once upon a time, there was" <<<"$out" || fail "first turn did not complete the prompt greedily"
grep -q "^The little dog" <<<"$out" || fail "second turn missing"
[ "$(grep -c 'tok/s' <<<"$out")" -ge 2 ] || fail "statistics were not printed (/stats and at exit)"
grep -q "(saved)" <<<"$out" || fail "/save failed"
grep -q "(loaded)" <<<"$out" || fail "/load failed"
grep -q "/reset" <<<"$out" || fail "/help did not list the commands"
[ -s "$state" ] || fail "state file is empty"
echo "tern_chat_scripted: passed"
