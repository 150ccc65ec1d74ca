"""Needle-in-a-haystack text, written to match tools/perplexity/passkey_prompt.cpp character for
character (tests/perplexity/longrange_data_test.cpp compares the two on a golden file): the
intro, the needle sentence, the question, the five repeated filler sentences, the word list, and
how a filler text is cut into sentences."""
import re

KEY, WORD = "key", "word"
_WS = " \t\n\v\f\r"  # std::isspace in the C locale

WORDS = ["apple", "banana", "garden", "rocket", "castle", "dragon", "pencil", "turtle", "kitten", "rabbit",
         "flower", "pirate", "button", "cookie", "candle", "jungle", "basket", "mirror", "island", "window",
         "rainbow", "balloon", "monster", "treasure", "forest", "river", "puppy", "tiger", "lemon", "orange",
         "carrot", "robot", "planet", "blanket", "bucket", "feather", "hammer", "ladder", "pillow", "wagon"]

REPEATED = ["The grass is green. ", "The sky is blue. ", "The sun is yellow. ", "Here we go. ", "There and back again. "]


def _name(kind):
    return "pass key" if kind == KEY else "secret word"


def intro(kind):
    n = _name(kind)
    return ("There is a %s hidden inside a lot of unimportant text. Find it and remember it. "
            "I will ask you about the %s later. " % (n, n))


def sentence(kind, value):
    n = _name(kind)
    return "The %s is %s. Remember it. %s is the %s. " % (n, value, value, n)


def question(kind):
    n = _name(kind)
    return "What is the %s? The %s is" % (n, n)


def insert_index(depth, n_filler):
    """round(depth * n) as C's lround (halves away from zero), clamped."""
    d = min(max(depth, 0.0), 1.0)
    return min(n_filler, int(d * n_filler + 0.5))


def prompt(kind, value, filler, n_filler, depth):
    at = insert_index(depth, n_filler)
    parts = [intro(kind)]
    for i in range(n_filler + 1):
        if i == at:
            parts.append(sentence(kind, value))
        if i < n_filler:
            parts.append(filler[i % len(filler)])
    parts.append(question(kind))
    return "".join(parts)


def sentences(text):
    """A text's sentences as passkey_prompt.cpp's filler_from_text cuts them: after '.', '!' or '?'
    (closing quotes and brackets stay with the sentence) when whitespace or the end follows, and at
    line breaks; whitespace runs become one space; each sentence ends with one space."""
    out, cur = [], []

    def flush():
        s = "".join(cur).rstrip(" ")
        if s:
            out.append(s + " ")
        cur.clear()

    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\n\r":
            flush()
        elif c in _WS:
            if cur and cur[-1] != " ":
                cur.append(" ")
        else:
            cur.append(c)
            if c in ".!?":
                while i + 1 < n and text[i + 1] in "\"')":
                    i += 1
                    cur.append(text[i])
                if i + 1 >= n or text[i + 1] in _WS:
                    flush()
        i += 1
    flush()
    return out
