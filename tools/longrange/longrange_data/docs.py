"""Training documents for a model that must retrieve: stories (the model's own samples), and
needle documents (a 5-digit pass key or a secret word hidden at a random depth of filler, then
the question and its answer) in three kinds of filler: tern-perplexity's five repeated sentences,
other short sentences repeated, and story sentences.

A needle document's prompt is tokenized as a whole, exactly as tern-perplexity tokenizes its
prompts (BOS is the caller's), and its answer (" 71432." or " garden.") apart, without the space
prefix: the prompt ends with "... is" and the model must continue with " 71432", so that is the
continuation it is taught (in running text the space would join "is" as "is▁")."""
from . import needles as N

# Short sentences of children's stories, for repeated fillers other than tern-perplexity's own.
SIMPLE = ["The cat is soft. ", "The dog can run. ", "The tree is tall. ", "Birds sing in the morning. ",
          "The water is cold. ", "Mom made a cake. ", "The ball is red. ", "It is a sunny day. ",
          "The boy has a hat. ", "The girl likes to jump. ", "The fish swims fast. ", "The car is big. ",
          "We like to play. ", "The moon is bright. ", "The box is empty. ", "The frog can hop. ",
          "The cup is full. ", "Dad reads a book. ", "The bird can fly. ", "The door is open. ",
          "The bear is brown. ", "The bus is late. ", "The milk is warm. ", "The duck says quack. "]


class Corpus:
    """Stories as text and as Tern's tokens, and their sentences (the story filler). A story ends
    at BOS, EOS or the first "<|": TinyStories-656K's vocabulary also holds ordinary pieces that
    spell its markers ("d.<|end_story|>"), and the model sometimes samples one instead of EOS."""

    def __init__(self, tok, story_token_stream):
        self.tok = tok
        self.texts, self.tokens = [], []
        cur = []
        for t in list(story_token_stream) + [tok.bos]:
            if t == tok.bos or t == tok.eos:
                if cur:
                    text = tok.decode(cur).split("<|")[0].strip()
                    if text:
                        self.texts.append(text)
                        self.tokens.append(tok.encode(text, bos=False))
                cur = []
            else:
                cur.append(int(t))
        if not self.texts:
            raise ValueError("no story in the token stream")
        self.sentences = [s for t in self.texts for s in N.sentences(t)]


class NeedleDoc:
    def __init__(self, tokens, answer_start, kind, value, depth, filler):
        self.tokens, self.answer_start = tokens, answer_start
        self.kind, self.value, self.depth, self.filler = kind, value, depth, filler


def draw_needle(rng, kind):
    if kind == N.KEY:
        return str(rng.randint(10000, 99999))
    return rng.choice(N.WORDS)


def draw_filler(rng, corpus, kind):
    """Filler sentences of a kind: "repeated" (tern-perplexity's), "simple" (2 to 6 of SIMPLE, in
    turn) or "story" (consecutive story sentences from a random place)."""
    if kind == "repeated":
        return list(N.REPEATED)
    if kind == "simple":
        return rng.sample(SIMPLE, rng.randint(2, 6))
    start = rng.randrange(len(corpus.sentences))
    return corpus.sentences[start:start + 400] or corpus.sentences[:400]


def needle_doc(rng, corpus, tok, max_tokens, kind, filler_kind, depth=None):
    """A needle document of at most max_tokens tokens (prompt + answer, no BOS), with as much
    filler as fits; None when even the bare prompt does not fit."""
    value = draw_needle(rng, kind)
    filler = draw_filler(rng, corpus, filler_kind)
    depth = rng.random() if depth is None else depth
    answer = tok.encode(" %s." % value, bos=False, space_prefix=False)
    room = max_tokens - len(answer)

    memo = {}

    def encoded(n):
        if n not in memo:
            memo[n] = tok.encode(N.prompt(kind, value, filler, n, depth), bos=False)
        return memo[n]

    def size(n):
        return len(encoded(n))

    if size(0) > room:
        return None
    per = max(1.0, (size(8) - size(0)) / 8.0)
    n = max(0, int((room - size(0)) / per))
    while n > 0 and size(n) > room:
        n -= 1 if size(n) - room < 2 * per else max(1, int((size(n) - room) / per))
    while size(n + 1) <= room:
        n += 1
    prompt = encoded(n)
    return NeedleDoc(prompt + answer, len(prompt), kind, value, depth, filler_kind)
