package org.tern;

import java.nio.charset.StandardCharsets;

/**
 * A KV cache and sampler on a model (tern_context). Use it from one thread at a time; cancel()
 * is the exception and may be called from any thread. Close it when done.
 */
public final class Context implements AutoCloseable {
  private final Model model;  // kept reachable while the context is used
  private final Object lifetime = new Object();  // orders cancel() against close()
  private long handle;
  private int lastGenerated;

  Context(Model model, long handle) {
    this.model = model;
    this.handle = handle;
  }

  @Override
  public void close() {
    synchronized (lifetime) {
      if (handle != 0) {
        Native.contextFree(handle);
        handle = 0;
      }
    }
  }

  private long handle() {
    synchronized (lifetime) {
      if (handle == 0) throw new IllegalStateException("the context is closed");
      return handle;
    }
  }

  public Model model() {
    return model;
  }

  /** Forgets every token (the KV cache is emptied). */
  public void reset() {
    Native.contextReset(handle());
  }

  /** Feeds tokens: a prompt (in batches) or one token of decoding. */
  public void eval(int... tokens) {
    Native.eval(handle(), tokens);
  }

  /** A copy of the last evaluated token's logits (n_vocab floats). */
  public float[] logits() {
    return Native.logits(handle());
  }

  /** The next token, drawn from the current logits with the context's seeded generator. */
  public int sample(SamplerParams params) {
    return Native.sample(handle(), params);
  }

  /**
   * Feeds the prompt, then samples until end of generation, a stop string, maxTokens, the
   * listener returning false, or cancel() (which throws TernException with CANCELLED). Returns
   * the generated text; listener (may be null) receives it piece by piece as it comes.
   */
  public String generate(String prompt, GenerateParams params, final PieceListener listener) {
    final StringBuilder text = new StringBuilder();
    Native.PieceSink sink = new Native.PieceSink() {
      @Override
      boolean piece(byte[] utf8) {
        String piece = new String(utf8, StandardCharsets.UTF_8);
        text.append(piece);
        return listener == null || listener.onPiece(piece);
      }
    };
    try {
      byte[][] stop = new byte[params.stop.length][];
      for (int i = 0; i < stop.length; ++i) stop[i] = Model.utf8(params.stop[i]);
      Native.generate(handle(), Model.utf8(prompt), params, stop, sink);
    } finally {
      lastGenerated = sink.generated;
    }
    return text.toString();
  }

  public String generate(String prompt, GenerateParams params) {
    return generate(prompt, params, null);
  }

  /** Tokens the last generate() produced (also when it stopped early). */
  public int lastGenerated() {
    return lastGenerated;
  }

  /** Stops a running eval or generate at its next GPU submit. Any thread may call it. */
  public void cancel() {
    synchronized (lifetime) {
      if (handle != 0) Native.cancel(handle);
    }
  }

  public ContextStats stats() {
    return new ContextStats(Native.stats(handle()));
  }

  /** The context's tokens, KV cache and policy state. */
  public byte[] saveState() {
    return Native.stateSave(handle());
  }

  /** @throws TernException STATE_MISMATCH for a state of another model or context shape */
  public void loadState(byte[] state) {
    Native.stateLoad(handle(), state);
  }

  public void saveState(String path) {
    Native.stateSaveFile(handle(), Model.utf8(path));
  }

  public void loadState(String path) {
    Native.stateLoadFile(handle(), Model.utf8(path));
  }
}
