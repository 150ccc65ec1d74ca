package org.tern;

/** One generation (tern_generate_params), starting from the library's defaults. */
public final class GenerateParams {
  SamplerParams sampler = new SamplerParams();
  int maxTokens;
  boolean addBos, parseSpecial;
  String[] stop = new String[0];

  public GenerateParams() {
    Native.generateDefaults(this);
  }

  public GenerateParams sampler(SamplerParams v) { sampler = v; return this; }
  /** &lt;= 0: until end of generation or the context policy stops it. */
  public GenerateParams maxTokens(int v) { maxTokens = v; return this; }
  /** Generation ends before any of these strings. */
  public GenerateParams stop(String... v) { stop = v.clone(); return this; }
  /** Prepend BOS to the prompt when the context is empty. */
  public GenerateParams addBos(boolean v) { addBos = v; return this; }
  /** Special-token text in the prompt ("&lt;|im_start|&gt;") becomes tokens. */
  public GenerateParams parseSpecial(boolean v) { parseSpecial = v; return this; }
}
