#!/usr/bin/env python3
# Writes tests/chat/golden/<vocab>.json: conversations rendered by the model family's own Jinja
# chat template (tokenizer.chat_template of the vocabularies scripts/fetch-test-vocabs.sh
# fetches), with the Jinja settings Hugging Face's apply_chat_template uses. Tern's built-in
# templates (runtime/chat) must give the same text (tests/chat/chat_template_test.cpp).
#
# Regenerate (needs python3-jinja2, Debian's):
#   bash scripts/fetch-test-vocabs.sh
#   /usr/bin/python3 scripts/gen-chat-goldens.py ../test-vocabs tests/chat/golden
import json
import os
import sys

import jinja2
import jinja2.ext
import jinja2.sandbox

CONVERSATIONS = [
    ([{"role": "user", "content": "Hi"}], True),
    ([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"},
      {"role": "assistant", "content": "4"}, {"role": "user", "content": "And 3+3?"}], True),
    ([{"role": "user", "content": "  spaced out \n"}, {"role": "assistant", "content": " ok "}], False),
    # Reasoning in the history (Qwen3 drops it before the last user message, keeps it after).
    ([{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "<think>\nadd them\n</think>\n\n4"},
      {"role": "user", "content": "and 3+3?"}, {"role": "assistant", "content": "<think>\nagain\n</think>\n\n6"}],
     False),
]


def render(template, messages, add_generation_prompt, cfg):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                                       extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = lambda x, **kw: json.dumps(x, ensure_ascii=False, **kw)
    env.globals["raise_exception"] = raise_exception
    token = lambda k: cfg[k] if isinstance(cfg.get(k), str) else (cfg.get(k) or {}).get("content", "")
    return env.from_string(template).render(messages=messages, add_generation_prompt=add_generation_prompt,
                                            bos_token=token("bos_token"), eos_token=token("eos_token"))


def main():
    vocab_dir, out_dir = sys.argv[1:3]
    os.makedirs(out_dir, exist_ok=True)
    for name in ("qwen3", "gemma3"):
        with open(os.path.join(vocab_dir, name, "tokenizer_config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
        cases = [{"messages": m, "add_generation_prompt": g, "text": render(cfg["chat_template"], m, g, cfg)}
                 for m, g in CONVERSATIONS]
        out = {"generated_by": f"scripts/gen-chat-goldens.py with jinja2 {jinja2.__version__} on the "
                               f"chat_template of {name}'s tokenizer_config.json",
               "cases": cases}
        path = os.path.join(out_dir, name + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(out, f, ensure_ascii=False, indent=1)
            f.write("\n")
        print(f"{path}: {len(cases)} cases")


main()
