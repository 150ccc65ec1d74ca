package org.tern;

/**
 * A context's settings (tern_context_params), starting from the library's defaults. The JNI
 * layer reads these fields by name.
 */
public final class ContextParams {
  int nCtx, nBatch, kvPolicy, kvWindow, kvSinks, beaconRatio, beaconWindow, ropeScaling, ropeOriginalCtx, profile,
      kvType, numerics;
  long kvBudgetBytes, seed;
  float ropeFreqBase, ropeScaleFactor;

  public ContextParams() {
    Native.contextDefaults(this);
  }

  /** DENSE: max tokens in the cache (0: the training length); BEACON: tokens the app expects to feed. */
  public ContextParams nCtx(int v) { nCtx = v; return this; }
  /** Max tokens per prefill submit. */
  public ContextParams nBatch(int v) { nBatch = v; return this; }
  /** 0: none; else the KV cache must fit in it (and sizes the window or beacon memory when not given). */
  public ContextParams kvBudgetBytes(long v) { kvBudgetBytes = v; return this; }
  public ContextParams kvPolicy(KvPolicy v) { kvPolicy = v.code; return this; }
  /** Total slots (sinks included) for WINDOW and SINKS_WINDOW. */
  public ContextParams kvWindow(int v) { kvWindow = v; return this; }
  public ContextParams kvSinks(int v) { kvSinks = v; return this; }
  public ContextParams beaconRatio(int v) { beaconRatio = v; return this; }
  public ContextParams beaconWindow(int v) { beaconWindow = v; return this; }
  public ContextParams kvType(KvType v) { kvType = v.code; return this; }
  /** Sampler seed. */
  public ContextParams seed(long v) { seed = v; return this; }
  /** true: follow llama.cpp's CPU arithmetic (TERN_NUMERICS_LLAMACPP; see tern.h). */
  public ContextParams llamaCppNumerics(boolean v) { numerics = v ? 1 : 0; return this; }
  /** RoPE overrides; 0 keeps the model's. scaling: -1 model, 0 none, 1 linear, 2 NTK, 3 YaRN, 4 Llama 3. */
  public ContextParams rope(int scaling, float freqBase, float scaleFactor, int originalCtx) {
    ropeScaling = scaling;
    ropeFreqBase = freqBase;
    ropeScaleFactor = scaleFactor;
    ropeOriginalCtx = originalCtx;
    return this;
  }
}
