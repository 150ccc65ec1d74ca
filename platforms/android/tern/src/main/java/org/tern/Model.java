package org.tern;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A GGUF model loaded onto the GPU (tern_model). Immutable once loaded: contexts made from it
 * may run on different threads. Close it when done (contexts keep what they need alive).
 */
public final class Model implements AutoCloseable {
  private long handle;

  private Model(long handle) {
    this.handle = handle;
  }

  public static Model load(String path) {
    return load(path, new ModelParams());
  }

  /** @throws TernException IO, BAD_MODEL, UNSUPPORTED, NO_DEVICE, OUT_OF_DEVICE_MEMORY, CANCELLED, ... */
  public static Model load(String path, ModelParams params) {
    byte[] device = params.device == null ? null : utf8(params.device);
    byte[] cache = params.pipelineCachePath == null ? null : utf8(params.pipelineCachePath);
    return new Model(Native.modelLoad(utf8(path), device, params.validation, cache, params.progress));
  }

  @Override
  public synchronized void close() {
    if (handle != 0) {
      Native.modelFree(handle);
      handle = 0;
    }
  }

  synchronized long handle() {
    if (handle == 0) throw new IllegalStateException("the model is closed");
    return handle;
  }

  public ModelInfo info() {
    long h = handle();
    return new ModelInfo(Native.modelInfoNumbers(h), Native.modelInfoStrings(h));
  }

  public int[] tokenize(String text, boolean addBos, boolean parseSpecial) {
    return Native.tokenize(handle(), utf8(text), addBos, parseSpecial);
  }

  /** Tokens with BOS (when the model uses it), special-token text left as text. */
  public int[] tokenize(String text) {
    return tokenize(text, true, false);
  }

  public String detokenize(int[] tokens, boolean renderSpecial) {
    return new String(Native.detokenize(handle(), tokens, renderSpecial), StandardCharsets.UTF_8);
  }

  public String detokenize(int[] tokens) {
    return detokenize(tokens, false);
  }

  /** Whether the token ends generation (EOS, &lt;|eot_id|&gt;, &lt;|im_end|&gt;, ...). */
  public boolean isEndOfGeneration(int token) {
    return Native.isEog(handle(), token);
  }

  /** The built-in chat template recognised for this model ("chatml", ...), or "none". */
  public String chatTemplateName() {
    return new String(Native.chatTemplateName(handle()), StandardCharsets.UTF_8);
  }

  /**
   * Renders a conversation with a built-in template ("llama3", "chatml", ...; null: the model's
   * own, recognised from its tokenizer.chat_template).
   */
  public String applyChatTemplate(List<ChatMessage> messages, String template, boolean addAssistant) {
    byte[][] roles = new byte[messages.size()][];
    byte[][] contents = new byte[messages.size()][];
    for (int i = 0; i < messages.size(); ++i) {
      roles[i] = utf8(messages.get(i).role);
      contents[i] = utf8(messages.get(i).content);
    }
    byte[] name = template == null ? null : utf8(template);
    return new String(Native.applyChatTemplate(handle(), name, roles, contents, addAssistant), StandardCharsets.UTF_8);
  }

  public Context newContext(ContextParams params) {
    return new Context(this, Native.contextCreate(handle(), params));
  }

  public Context newContext() {
    return newContext(new ContextParams());
  }

  static byte[] utf8(String s) {
    if (s == null) throw new NullPointerException("text is null");
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
