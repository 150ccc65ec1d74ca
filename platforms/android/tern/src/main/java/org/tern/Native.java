package org.tern;

/**
 * The JNI entry points (src/main/cpp/tern_jni.cpp), one per C API call. Text crosses as UTF-8
 * byte arrays (JNI's own string functions use "modified UTF-8", which mangles characters outside
 * the BMP). Handles are the C pointers as longs. Every failure throws TernException.
 */
final class Native {
  private Native() {}

  static {
    // -Dtern.jni.library=/path/to/libtern_jni.so (tests on a desktop JVM), else the app's libraries.
    String path = System.getProperty("tern.jni.library");
    if (path != null && !path.isEmpty()) System.load(path);
    else System.loadLibrary("tern_jni");
  }

  /** Called by generate for each piece (UTF-8 bytes of whole characters); generate stores the
   *  token count in {@code generated}, also when it throws. */
  abstract static class PieceSink {
    int generated;

    abstract boolean piece(byte[] utf8);
  }

  static native String version();
  static native int apiVersion();

  static native void contextDefaults(ContextParams p);
  static native void samplerDefaults(SamplerParams p);
  static native void generateDefaults(GenerateParams p);

  static native long modelLoad(byte[] path, byte[] device, boolean validation, byte[] pipelineCachePath,
                               ProgressListener progress);
  static native void modelFree(long model);
  /** n_vocab, n_ctx_train, n_embd, n_layer, n_head, n_head_kv, n_ff, n_params, weight_bytes, device_bytes, bos, eos */
  static native long[] modelInfoNumbers(long model);
  /** architecture, name, device_name, chat_template (may be null), weight_types */
  static native byte[][] modelInfoStrings(long model);
  static native int[] tokenize(long model, byte[] text, boolean addBos, boolean parseSpecial);
  static native byte[] detokenize(long model, int[] tokens, boolean renderSpecial);
  static native boolean isEog(long model, int token);
  static native byte[] chatTemplateName(long model);
  static native byte[] applyChatTemplate(long model, byte[] name, byte[][] roles, byte[][] contents,
                                         boolean addAssistant);

  static native long contextCreate(long model, ContextParams p);
  static native void contextFree(long ctx);
  static native void contextReset(long ctx);
  static native void eval(long ctx, int[] tokens);
  static native float[] logits(long ctx);
  static native int sample(long ctx, SamplerParams p);
  /** Returns the number of tokens generated. */
  static native int generate(long ctx, byte[] prompt, GenerateParams p, byte[][] stop, PieceSink sink);
  static native void cancel(long ctx);
  /** tokens_consumed, kv_slots_used, kv_slots_capacity, kv_bytes, device_bytes, prompt_ms, prompt_tokens,
   *  decode_ms, decode_tokens, kv_sink_slots, kv_raw_slots, kv_beacon_slots, beacon_ratio, beacon_window,
   *  kv_global_layers, kv_sliding_layers, kv_sliding_slots_used, kv_sliding_slots_capacity, kv_global_bytes,
   *  kv_sliding_bytes */
  static native double[] stats(long ctx);
  static native byte[] stateSave(long ctx);
  static native void stateLoad(long ctx, byte[] data);
  static native void stateSaveFile(long ctx, byte[] path);
  static native void stateLoadFile(long ctx, byte[] path);
}
