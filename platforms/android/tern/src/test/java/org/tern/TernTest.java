package org.tern;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.junit.Assume.assumeTrue;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * The Java API on a real model: stories260K converted by tern-quantize ($TERN_TEST_MODEL), and
 * llama2.c's greedy tokens and logits for it ($TERN_SHARED_DIR/golden/stories260K). Run with
 * -Xcheck:jni so the JVM checks the JNI layer's every call.
 */
public class TernTest {
  private static Model model;

  @BeforeClass
  public static void load() {
    String path = System.getenv("TERN_TEST_MODEL");
    assumeTrue("TERN_TEST_MODEL is absent", path != null && new File(path).isFile());
    final int[] calls = {0};
    model = Model.load(path, new ModelParams().progress(f -> ++calls[0] >= 0));
    assertTrue(calls[0] > 0);
  }

  @AfterClass
  public static void free() {
    if (model != null) model.close();
  }

  /** llama2.c's golden case: tokens (prompt first) and the logits row after each token. */
  private static final class Golden {
    int[] promptTokens, tokens;
    float[][] logits;
  }

  private static int[] intArray(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*\\[([^\\]]*)\\]").matcher(json);
    assertTrue(key, m.find());
    return Arrays.stream(m.group(1).split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
  }

  private static Golden golden() throws Exception {
    String shared = System.getenv("TERN_SHARED_DIR");
    File json = new File(shared == null ? "" : shared, "golden/stories260K/case1.json");
    assumeTrue(json + " is absent", json.isFile());
    String text = new String(Files.readAllBytes(json.toPath()), StandardCharsets.UTF_8);
    Golden g = new Golden();
    g.promptTokens = intArray(text, "prompt_tokens");
    g.tokens = intArray(text, "tokens");
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(new File(json.getParentFile(), "case1.logits.f32").toPath()))
                       .order(ByteOrder.LITTLE_ENDIAN);
    int rows = b.remaining() / (512 * 4);
    g.logits = new float[rows][512];
    for (int r = 0; r < rows; ++r) {
      b.position(r * 512 * 4);
      b.asFloatBuffer().get(g.logits[r]);
    }
    return g;
  }

  private static double relL2(float[] a, float[] b) {
    double num = 0, den = 0;
    for (int i = 0; i < b.length; ++i) {
      num += (a[i] - b[i]) * (double) (a[i] - b[i]);
      den += b[i] * (double) b[i];
    }
    return Math.sqrt(num / den);
  }

  private static GenerateParams greedy(int maxTokens) {
    return new GenerateParams().sampler(SamplerParams.greedy()).maxTokens(maxTokens);
  }

  @Test
  public void info() {
    ModelInfo i = model.info();
    assertEquals("llama", i.architecture);
    assertEquals(512, i.nVocab);
    assertEquals(5, i.nLayer);
    assertEquals(64, i.nEmbd);
    assertEquals(1, i.bos);
    assertTrue(i.weightBytes > 0);
    assertTrue(i.weightTypes.contains("f32"));
    assertFalse(Tern.version().isEmpty());
    assertEquals(0, Tern.apiVersion() >> 16);
  }

  @Test
  public void tokenizerMatchesLlama2c() throws Exception {
    Golden g = golden();
    assertArrayEquals(g.promptTokens, model.tokenize("Once upon a time"));
    // BOS is a control token (not rendered); the first piece keeps sentencepiece's space.
    assertEquals(" Once upon a time", model.detokenize(g.promptTokens));
    String text = "A little girl said: \"héllo, 世界 🦙\"";  // outside ASCII and the BMP
    // sentencepiece's dummy prefix: the text comes back after one space.
    assertEquals(" " + text, model.detokenize(model.tokenize(text, false, false)));
    assertTrue(model.isEndOfGeneration(2));
    assertFalse(model.isEndOfGeneration(403));
  }

  @Test
  public void greedyTokensAndLogitsMatchLlama2c() throws Exception {
    Golden g = golden();
    try (Context ctx = model.newContext(new ContextParams().kvType(KvType.F32))) {
      int n = g.promptTokens.length;
      ctx.eval(Arrays.copyOf(g.tokens, n));
      for (int i = n; i < n + 48; ++i) {
        float[] logits = ctx.logits();
        assertEquals(512, logits.length);
        assertTrue("logits after token " + (i - 1), relL2(logits, g.logits[i - 1]) < 1e-4);
        int t = ctx.sample(SamplerParams.greedy());
        assertEquals("greedy token " + i, g.tokens[i], t);
        ctx.eval(t);
      }
      assertEquals(n + 48, ctx.stats().tokensConsumed);
    }
  }

  @Test
  public void generateStreamsAndStops() {
    try (Context ctx = model.newContext()) {
      final List<String> pieces = new ArrayList<>();
      String text = ctx.generate("Once upon a time", greedy(40), p -> pieces.add(p));
      assertEquals(40, ctx.lastGenerated());
      assertEquals(text, String.join("", pieces));
      assertTrue(text, text.startsWith(", there was a little girl"));

      ctx.reset();
      final int[] seen = {0};
      ctx.generate("Once upon a time", greedy(40), p -> ++seen[0] < 5);
      assertEquals(5, seen[0]);
      assertEquals(5, ctx.lastGenerated());

      ctx.reset();
      String stopped = ctx.generate("Once upon a time", greedy(40).stop("girl"));
      assertEquals(", there was a little ", stopped);
    }
  }

  @Test
  public void callbackExceptionReachesTheCaller() {
    try (Context ctx = model.newContext()) {
      try {
        ctx.generate("Once", greedy(10), p -> {
          throw new IllegalStateException("from the listener");
        });
        fail("no exception");
      } catch (IllegalStateException e) {
        assertEquals("from the listener", e.getMessage());
      }
      assertEquals(1, ctx.lastGenerated());
      // The context is usable afterwards.
      ctx.reset();
      assertFalse(ctx.generate("Once", greedy(3)).isEmpty());
      assertEquals(3, ctx.lastGenerated());
    }
  }

  @Test
  public void cancelFromAnotherThread() throws Exception {
    try (final Context ctx = model.newContext()) {
      final CountDownLatch started = new CountDownLatch(1);
      Thread t = new Thread(() -> {
        try {
          started.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          return;
        }
        ctx.cancel();
      });
      t.start();
      try {
        ctx.generate("Once upon a time", greedy(400), p -> {
          started.countDown();
          return true;
        });
        fail("not cancelled");
      } catch (TernException e) {
        assertEquals(Status.CANCELLED, e.status());
      }
      t.join();
      assertTrue(ctx.lastGenerated() < 400);
    }
  }

  @Test
  public void thousandsOfPiecesInOneCall() {
    // Every piece is a callback inside one native call: each runs in its own JNI local frame (a
    // desktop JVM grows its table, Android's aborts past 512 live local references).
    try (Context ctx = model.newContext(new ContextParams().kvPolicy(KvPolicy.SINKS_WINDOW).kvWindow(64))) {
      final int[] pieces = {0};
      String text = ctx.generate("Once upon a time", greedy(1500), p -> ++pieces[0] > 0);
      assertEquals(1500, ctx.lastGenerated());
      assertTrue(pieces[0] >= 1000);
      assertTrue(text.length() > 3000);
    }
  }

  @Test
  public void stateSaveRestore() throws Exception {
    // A state holds the tokens, KV cache and policy state (not the sampler's generator), so the
    // continuation is compared greedily.
    try (Context ctx = model.newContext()) {
      GenerateParams more = greedy(24).addBos(false);
      ctx.generate("Once upon a time", greedy(8));
      byte[] state = ctx.saveState();
      String after = ctx.generate("", more);
      ctx.loadState(state);
      assertEquals(after, ctx.generate("", more));

      File dir = Files.createTempDirectory("tern-java").toFile();
      File file = new File(dir, "état 状态.bin");  // a non-ASCII file name
      ctx.loadState(state);
      ctx.saveState(file.getPath());
      ctx.reset();
      ctx.loadState(file.getPath());
      assertEquals(after, ctx.generate("", more));
      assertTrue(file.delete() && dir.delete());

      try {
        ctx.loadState("garbage".getBytes(StandardCharsets.UTF_8));
        fail("garbage state loaded");
      } catch (TernException e) {
        assertNotEquals(Status.OK, e.status());
      }
    }
  }

  @Test
  public void kvPolicyAndBudget() {
    try (Context ctx = model.newContext(new ContextParams().kvPolicy(KvPolicy.SINKS_WINDOW).kvWindow(64).kvSinks(4))) {
      ctx.generate("Once upon a time", greedy(150));
      ContextStats s = ctx.stats();
      assertTrue(s.tokensConsumed > 64);
      assertEquals(64, s.kvSlotsCapacity);
      assertEquals(64, s.kvSlotsUsed);
      assertEquals(4, s.kvSinkSlots);
      assertTrue(s.decodeTokensPerSecond() > 0);
    }
    long slotBytes = 5 * 2 * 32 * 2;  // layers x (K, V) x KV width x f16
    try (Context ctx = model.newContext(new ContextParams().kvBudgetBytes(32 * slotBytes))) {
      assertEquals(32, ctx.stats().kvSlotsCapacity);
      StringBuilder text = new StringBuilder();
      for (int i = 0; i < 10; ++i) text.append("Once upon a time there was a little girl. ");
      try {
        ctx.eval(model.tokenize(text.toString()));
        fail("the budget held more than 32 tokens");
      } catch (TernException e) {
        assertEquals(Status.CONTEXT_FULL, e.status());
      }
    }
  }

  @Test
  public void chatTemplates() {
    assertEquals("none", model.chatTemplateName());
    String text = model.applyChatTemplate(
        Arrays.asList(new ChatMessage("user", "Hi"), new ChatMessage("assistant", "Hello")), "chatml", false);
    assertEquals("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n", text);
    try {
      model.applyChatTemplate(Arrays.asList(new ChatMessage("user", "Hi")), "no-such-template", true);
      fail("unknown template accepted");
    } catch (TernException e) {
      assertEquals(Status.INVALID_ARGUMENT, e.status());
    }
  }

  @Test
  public void errorsAreExceptions() throws Exception {
    File missing = new File(System.getProperty("java.io.tmpdir"), "no such dir/modèle.gguf");
    try {
      Model.load(missing.getPath());
      fail("loaded a missing file");
    } catch (TernException e) {
      assertEquals(Status.IO, e.status());
      assertTrue(e.getMessage(), e.getMessage().contains("modèle.gguf"));
    }
    File bad = File.createTempFile("tern", ".gguf");
    Files.write(bad.toPath(), "not a model, not a model, not a model".getBytes(StandardCharsets.UTF_8));
    try {
      Model.load(bad.getPath());
      fail("loaded a text file");
    } catch (TernException e) {
      assertEquals(Status.BAD_MODEL, e.status());
    } finally {
      assertTrue(bad.delete());
    }
    try {
      Model.load(System.getenv("TERN_TEST_MODEL"), new ModelParams().progress(f -> false));
      fail("load not cancelled");
    } catch (TernException e) {
      assertEquals(Status.CANCELLED, e.status());
    }
    try {
      model.detokenize(new int[] {100000});
      fail("token outside the vocabulary accepted");
    } catch (TernException e) {
      assertEquals(Status.INVALID_ARGUMENT, e.status());
    }
    Context ctx = model.newContext();
    ctx.close();
    ctx.close();  // twice is fine
    ctx.cancel();  // after close: nothing happens
    try {
      ctx.reset();
      fail("closed context used");
    } catch (IllegalStateException expected) {
      // the handle is gone; nothing reached the library
    }
  }
}
