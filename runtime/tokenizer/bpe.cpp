#include "tokenizer/bpe.h"

#include <queue>

#include "common/error.h"

namespace tern {

BpeMerges::BpeMerges(const Vocab& vocab, bool ignore_merges) : ignore_merges_(ignore_merges) {
  const size_t n = vocab.tokens.size();
  // Model tokens claim their text before added (control, user-defined) tokens spelled the same,
  // so merges produce the model's own id.
  auto is_added = [&](size_t i) {
    const int32_t t = i < vocab.types.size() ? vocab.types[i] : int32_t(TokenType::Normal);
    return t == int32_t(TokenType::Control) || t == int32_t(TokenType::UserDefined);
  };
  ids_.reserve(n * 2);
  for (bool added : {false, true})
    for (size_t i = 0; i < n; ++i)
      if (is_added(i) == added) ids_.emplace(vocab.tokens[i], int32_t(i));

  check(!vocab.merges.empty(), Status::BadModel, "BPE vocabulary has no merges (tokenizer.ggml.merges)");
  merges_.reserve(vocab.merges.size() * 2);
  for (size_t r = 0; r < vocab.merges.size(); ++r) {
    const std::string_view m = vocab.merges[r];
    // (Messages are built only on failure: this loop runs for every merge of the vocabulary.)
    const auto fail = [&](const char* what) {
      throw Error(Status::BadModel, "BPE merge " + std::to_string(r) + " ('" + std::string(m.substr(0, 64)) + "') " + what);
    };
    // Byte-level tokens never hold a plain space, but a merge may start with one (" x" in some
    // vocabularies), so the separator is the first space after the first character.
    const size_t sp = m.size() > 1 ? m.find(' ', 1) : std::string_view::npos;
    if (sp == std::string_view::npos || sp + 1 >= m.size()) fail("is not 'A B'");
    const int32_t a = find(m.substr(0, sp)), b = find(m.substr(sp + 1));
    if (a < 0 || b < 0) fail("names a token that is not in the vocabulary");
    std::string joined(m.substr(0, sp));
    joined += m.substr(sp + 1);
    const int32_t ab = find(joined);
    if (ab < 0) fail("makes a token that is not in the vocabulary");
    merges_.emplace(pair_key(a, b), Merge{int32_t(r), ab});  // a repeated pair keeps its first rank
  }
}

int32_t BpeMerges::find(std::string_view text) const {
  const auto it = ids_.find(text);
  return it == ids_.end() ? -1 : it->second;
}

const BpeMerges::Merge* BpeMerges::merge_of(int32_t left, int32_t right) const {
  const auto it = merges_.find(pair_key(left, right));
  return it == merges_.end() ? nullptr : &it->second;
}

void BpeMerges::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    if (const int32_t id = find(word); id >= 0) {
      out.push_back(id);
      return;
    }
  }
  // One symbol per character, as a doubly linked list over a vector; merged-away symbols get
  // id -1.
  struct Symbol {
    int32_t id, prev, next;
  };
  std::vector<Symbol> sym;
  for (size_t i = 0; i < word.size();) {
    size_t len = 1;
    while (i + len < word.size() && (uint8_t(word[i + len]) & 0xC0) == 0x80) ++len;
    const int32_t id = find(word.substr(i, len));
    if (id < 0)
      throw Error(Status::InvalidArgument,
                  "text contains a character this vocabulary cannot represent ('" + std::string(word.substr(i, len)) + "')");
    const int32_t k = int32_t(sym.size());
    sym.push_back({id, k - 1, k + 1});
    i += len;
  }
  sym.back().next = -1;

  // Candidate merges, lowest (rank, position) first. An entry goes stale when either symbol has
  // changed since it was queued; it is then skipped.
  struct Candidate {
    int32_t rank, left, left_id, right_id, result;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto offer = [&](int32_t left) {
    if (left < 0 || sym[size_t(left)].next < 0) return;
    const Symbol& l = sym[size_t(left)];
    const Symbol& r = sym[size_t(l.next)];
    if (const Merge* m = merge_of(l.id, r.id)) queue.push({m->rank, left, l.id, r.id, m->result});
  };
  for (int32_t i = 0; i + 1 < int32_t(sym.size()); ++i) offer(i);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& l = sym[size_t(c.left)];
    if (l.id != c.left_id || l.next < 0 || sym[size_t(l.next)].id != c.right_id) continue;
    Symbol& r = sym[size_t(l.next)];
    l.id = c.result;
    l.next = r.next;
    if (r.next >= 0) sym[size_t(r.next)].prev = c.left;
    r.id = -1;
    offer(l.prev);
    offer(c.left);
  }
  for (int32_t i = 0; i >= 0; i = sym[size_t(i)].next) out.push_back(sym[size_t(i)].id);
}

}  // namespace tern
