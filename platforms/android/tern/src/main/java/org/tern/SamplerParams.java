package org.tern;

/** How the next token is drawn (tern_sampler_params), starting from the library's defaults. */
public final class SamplerParams {
  float temperature, topP, minP, repeatPenalty, frequencyPenalty, presencePenalty;
  int topK, penaltyLastN;

  public SamplerParams() {
    Native.samplerDefaults(this);
  }

  /** Greedy: always the most likely token. */
  public static SamplerParams greedy() {
    return new SamplerParams().temperature(0f);
  }

  /** &lt;= 0: greedy. */
  public SamplerParams temperature(float v) { temperature = v; return this; }
  /** &lt;= 0: off. */
  public SamplerParams topK(int v) { topK = v; return this; }
  /** &gt;= 1: off. */
  public SamplerParams topP(float v) { topP = v; return this; }
  /** &lt;= 0: off. */
  public SamplerParams minP(float v) { minP = v; return this; }
  /** 1: off. */
  public SamplerParams repeatPenalty(float v) { repeatPenalty = v; return this; }
  public SamplerParams frequencyPenalty(float v) { frequencyPenalty = v; return this; }
  public SamplerParams presencePenalty(float v) { presencePenalty = v; return this; }
  /** How many recent tokens the penalties look at. */
  public SamplerParams penaltyLastN(int v) { penaltyLastN = v; return this; }
}
