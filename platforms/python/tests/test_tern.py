"""The Python binding on a real model: stories260K converted by tern-quantize ($TERN_TEST_MODEL)
and llama2.c's greedy outputs for it ($TERN_SHARED_DIR/golden/stories260K)."""

import array
import json
import os
import struct
import tempfile
import threading
import unittest

import tern

MODEL = os.environ.get("TERN_TEST_MODEL", "")
SHARED = os.environ.get("TERN_SHARED_DIR", "")
GREEDY = {"temperature": 0.0}


def setUpModule():
    if not os.path.isfile(MODEL):
        raise unittest.SkipTest(f"model {MODEL!r} is absent (set TERN_TEST_MODEL)")
    global model
    model = tern.Model(MODEL)


def tearDownModule():
    if "model" in globals():
        model.close()


def golden_case(n):
    path = os.path.join(SHARED, "golden", "stories260K", f"case{n}.json")
    if not os.path.isfile(path):
        raise unittest.SkipTest(f"{path} is absent")
    with open(path) as f:
        case = json.load(f)
    with open(os.path.join(os.path.dirname(path), case["logits_file"]), "rb") as f:
        raw = f.read()
    vocab = case["vocab_size"]
    logits = [array.array("f", raw[r * vocab * 4:(r + 1) * vocab * 4]) for r in range(len(raw) // (vocab * 4))]
    return case, logits


def rel_l2(a, b):
    num = sum((x - y) ** 2 for x, y in zip(a, b))
    den = sum(y * y for y in b)
    return (num / den) ** 0.5


class ModelTest(unittest.TestCase):
    def test_info(self):
        info = model.info
        self.assertEqual(info.architecture, "llama")
        self.assertEqual((info.n_vocab, info.n_embd, info.n_layer, info.n_head, info.n_head_kv), (512, 64, 5, 8, 4))
        self.assertEqual(info.bos, 1)
        self.assertGreater(info.weight_bytes, 0)
        self.assertIn("f32", info.weight_types)
        self.assertTrue(tern.version())

    def test_tokenize_matches_llama2c(self):
        case, _ = golden_case(1)
        self.assertEqual(model.tokenize(case["prompt"]), case["prompt_tokens"])
        # BOS is a control token (not rendered); the first piece keeps sentencepiece's space.
        self.assertEqual(model.detokenize(case["prompt_tokens"]), " " + case["prompt"])
        self.assertEqual(model.tokenize(""), [1])
        self.assertEqual(model.tokenize("", add_bos=False), [])
        long_text = "Once upon a time there was a little girl. " * 50
        # sentencepiece's dummy prefix: the text comes back after one space.
        self.assertEqual(model.detokenize(model.tokenize(long_text, add_bos=False)), " " + long_text)
        self.assertTrue(model.is_eog(2))
        self.assertFalse(model.is_eog(403))

    def test_chat_template(self):
        self.assertEqual(model.chat_template_name, "none")
        text = model.apply_chat_template([{"role": "user", "content": "Hi"}, ("assistant", "Hello")],
                                         template="chatml", add_assistant=False)
        self.assertEqual(text, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n")
        with self.assertRaises(tern.InvalidArgument):
            model.apply_chat_template([("user", "Hi")], template="no-such-template")

    def test_errors_are_exceptions(self):
        with self.assertRaises(tern.IoError) as e:
            tern.Model(os.path.join(tempfile.gettempdir(), "no such dir", "m\u00e9.gguf"))
        self.assertEqual(e.exception.status, 2)
        self.assertIn("m\u00e9.gguf", str(e.exception))
        with tempfile.NamedTemporaryFile(suffix=".gguf") as f:
            f.write(b"not a model" * 10)
            f.flush()
            with self.assertRaises(tern.BadModel):
                tern.Model(f.name)
        with self.assertRaises(tern.InvalidArgument):
            model.detokenize([100000])
        with self.assertRaises(TypeError):
            model.context(no_such_setting=1)
        with self.assertRaises(ValueError):
            model.context(kv_policy="no-such-policy")
        with self.assertRaises(tern.Cancelled):
            tern.Model(MODEL, progress=lambda fraction: False)


class ContextTest(unittest.TestCase):
    def test_greedy_tokens_and_logits_match_llama2c(self):
        case, golden = golden_case(1)
        tokens = case["tokens"]
        n_prompt = len(case["prompt_tokens"])
        steps = 48
        with model.context(kv_type="f32") as ctx:
            ctx.eval(tokens[:n_prompt])
            for i in range(n_prompt, n_prompt + steps):
                self.assertLess(rel_l2(ctx.logits(), golden[i - 1]), 1e-4, f"logits after token {i - 1}")
                token = ctx.sample(**GREEDY)
                self.assertEqual(token, tokens[i], f"greedy token {i}")
                ctx.eval([token])
            self.assertEqual(ctx.stats().tokens_consumed, n_prompt + steps)

    def test_generate_stream_and_callback_stop(self):
        with model.context() as ctx:
            text = ctx.generate("Once upon a time", max_tokens=40, **GREEDY)
            self.assertEqual(ctx.last_generated, 40)
            self.assertTrue(text.startswith(","), text)
            ctx.reset()
            self.assertEqual("".join(ctx.stream("Once upon a time", max_tokens=40, **GREEDY)), text)
            ctx.reset()
            seen = []
            ctx.generate("Once upon a time", max_tokens=40, on_piece=lambda p: seen.append(p) or len(seen) < 5,
                         **GREEDY)
            self.assertEqual(len(seen), 5)
            self.assertEqual(ctx.last_generated, 5)
            ctx.reset()
            # Leaving a stream early stops generation; the context is usable again at once.
            for i, _ in enumerate(ctx.stream("Once upon a time", max_tokens=200, **GREEDY)):
                if i == 3:
                    break
            self.assertLess(ctx.stats().tokens_consumed, 20)
            ctx.reset()
            self.assertEqual(ctx.generate("Once upon a time", max_tokens=40, **GREEDY), text)
            # Stop strings end generation before the stop text.
            ctx.reset()
            first_word = text.split()[1]
            stopped = ctx.generate("Once upon a time", max_tokens=40, stop=[first_word], **GREEDY)
            self.assertNotIn(first_word, stopped)

    def test_callback_exception_propagates(self):
        def boom(piece):
            raise RuntimeError("from the callback")
        with model.context() as ctx:
            with self.assertRaisesRegex(RuntimeError, "from the callback"):
                ctx.generate("Once", max_tokens=10, on_piece=boom)
            self.assertEqual(ctx.last_generated, 1)  # it stopped at the first piece

    def test_cancel_from_another_thread(self):
        with model.context() as ctx:
            started = threading.Event()
            def on_piece(piece):
                started.set()
            def cancel_when_started():
                started.wait(60)
                ctx.cancel()
            t = threading.Thread(target=cancel_when_started)
            t.start()
            with self.assertRaises(tern.Cancelled):
                ctx.generate("Once upon a time", max_tokens=400, on_piece=lambda p: on_piece(p), **GREEDY)
            t.join()
            self.assertLess(ctx.last_generated, 400)

    def test_state_save_restore(self):
        # A state holds the tokens, KV cache and policy state (not the sampler's generator), so
        # the continuation is compared greedily.
        with model.context() as ctx:
            ctx.generate("Once upon a time", max_tokens=8, **GREEDY)
            state = ctx.save_state()
            after = ctx.generate("", max_tokens=24, add_bos=False, **GREEDY)
            ctx.load_state(state)
            self.assertEqual(ctx.generate("", max_tokens=24, add_bos=False, **GREEDY), after)
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "\u00e9tat \u72b6\u6001.bin")  # non-ASCII file name
                ctx.load_state(state)
                ctx.save_state_file(path)
                ctx.reset()
                ctx.load_state_file(path)
                self.assertEqual(ctx.generate("", max_tokens=24, add_bos=False, **GREEDY), after)
            with self.assertRaises(tern.TernError):
                ctx.load_state(b"garbage state")

    def test_kv_policy_and_budget(self):
        # sinks 4 + window 60: the stream runs past the window at constant KV memory.
        with model.context(kv_policy="sinks", kv_window=64, kv_sinks=4) as ctx:
            ctx.generate("Once upon a time", max_tokens=150, **GREEDY)
            s = ctx.stats()
            self.assertGreater(s.tokens_consumed, 64)
            self.assertEqual(s.kv_slots_capacity, 64)
            self.assertEqual(s.kv_sink_slots, 4)
            self.assertEqual(s.kv_slots_used, 64)
        # A dense cache under a byte budget holds what the budget holds, then refuses more.
        slot_bytes = 5 * 2 * 32 * 2  # layers x (K, V) x kv width x f16
        with model.context(kv_policy="dense", kv_budget_bytes=32 * slot_bytes) as ctx:
            self.assertEqual(ctx.stats().kv_slots_capacity, 32)
            with self.assertRaises(tern.ContextFull):
                ctx.eval(model.tokenize("Once upon a time there was a little girl. " * 10))


if __name__ == "__main__":
    unittest.main()
