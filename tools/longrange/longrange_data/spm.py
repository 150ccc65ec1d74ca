"""The sentencepiece BPE encoding that Tern (through the sentencepiece library) and llama.cpp
apply to a GGUF "llama" vocabulary, so that training data is tokenized exactly as Tern tokenizes
the evaluation prompts: spaces escaped to U+2581 (one prepended when the vocabulary asks for a
space prefix), the text split into characters, then the adjacent pair whose concatenation is a
piece with the highest score merged first (the leftmost among equals) until no pair merges; a
symbol without a piece becomes its UTF-8 bytes' <0xNN> pieces when the vocabulary has all of
them, else one unknown token (consecutive unknowns fused, as sentencepiece does).
tests/perplexity/longrange_data_test.cpp checks that Tern gives the same ids."""
import heapq

NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6


class SpmTokenizer:
    def __init__(self, tokens, scores, types, bos=1, eos=2, unk=0, add_space_prefix=True, fuse_unk=True):
        self.tokens, self.bos, self.eos, self.add_space_prefix = list(tokens), bos, eos, add_space_prefix
        self.unk, self.fuse_unk = unk, fuse_unk
        self.types = list(types) if types is not None else [NORMAL] * len(self.tokens)
        self.scores = list(scores) if scores is not None else [0.0] * len(self.tokens)
        self.piece = {}
        self.byte = {}
        for i, (t, ty) in enumerate(zip(self.tokens, self.types)):
            if ty == BYTE and len(t) == 6 and t.startswith("<0x") and t.endswith(">"):
                self.byte[int(t[3:5], 16)] = i
            elif ty in (NORMAL, USER_DEFINED) and t not in self.piece:
                self.piece[t] = i

    def encode(self, text, bos=True, space_prefix=True):
        """Token ids of text; space_prefix=False leaves out the vocabulary's space prefix (for a
        continuation of text that was tokenized before it)."""
        if not text:
            return [self.bos] if bos else []
        s = text.replace(" ", "\u2581")
        if self.add_space_prefix and space_prefix:
            s = "\u2581" + s
        sym = list(s)                      # symbols; merged ones become None
        n = len(sym)
        nxt = list(range(1, n + 1))
        prv = list(range(-1, n - 1))
        heap = []
        piece, scores, push_ = self.piece.get, self.scores, heapq.heappush

        def push(i):
            j = nxt[i]
            if j < n:
                p = piece(sym[i] + sym[j])
                if p is not None:
                    push_(heap, (-scores[p], i, sym[i], sym[j]))

        for i in range(n - 1):
            push(i)
        while heap:
            _, i, a, b = heapq.heappop(heap)
            j = nxt[i]
            if sym[i] != a or j >= n or sym[j] != b:
                continue                   # stale: one side merged since
            sym[i] = a + b
            sym[j] = None
            nxt[i] = nxt[j]
            if nxt[j] < n:
                prv[nxt[j]] = i
            if prv[i] >= 0:
                push(prv[i])
            push(i)
        out = [self.bos] if bos else []
        prev_unk = False
        for s_ in sym:
            if s_ is None:
                continue
            p = self.piece.get(s_)
            if p is not None:
                out.append(p)
                prev_unk = False
            elif self.byte and all(b in self.byte for b in s_.encode("utf-8")):
                out.extend(self.byte[b] for b in s_.encode("utf-8"))
                prev_unk = False
            elif not (self.fuse_unk and prev_unk):
                out.append(self.unk)
                prev_unk = True
        return out

    def decode(self, ids):
        out = bytearray()
        for i in ids:
            ty = self.types[i]
            if ty == BYTE:
                out.append(int(self.tokens[i][3:5], 16))
            elif ty in (NORMAL, USER_DEFINED):
                out += self.tokens[i].replace("\u2581", " ").encode("utf-8")
        text = out.decode("utf-8", errors="replace")
        if self.add_space_prefix and ids and ids[0] == self.bos and text.startswith(" "):
            text = text[1:]
        return text


def from_gguf(g):
    """The tokenizer of a GGUF file (beacon_train.gguf.GgufFile)."""
    get = lambda k, d=None: g.get(k, d)
    if get("tokenizer.ggml.model") != "llama":
        raise ValueError("only sentencepiece (\"llama\") vocabularies are supported, not %r" % get("tokenizer.ggml.model"))
    return SpmTokenizer(list(get("tokenizer.ggml.tokens")), list(get("tokenizer.ggml.scores", [])) or None,
                        list(get("tokenizer.ggml.token_type", [])) or None, bos=int(get("tokenizer.ggml.bos_token_id", 1)),
                        eos=int(get("tokenizer.ggml.eos_token_id", 2)), unk=int(get("tokenizer.ggml.unknown_token_id", 0)),
                        add_space_prefix=bool(get("tokenizer.ggml.add_space_prefix", True)))
