package org.tern;

/** How to load a model (tern_model_params). */
public final class ModelParams {
  /** Vulkan device index or name substring; null: $TERN_DEVICE or the best device. */
  public String device;
  /** Enable the Vulkan validation layers when installed (debugging). */
  public boolean validation;
  /** File that keeps compiled GPU pipelines between runs (an app's cache folder); null: none. */
  public String pipelineCachePath;
  /** Called while loading; may be null. */
  public ProgressListener progress;

  public ModelParams device(String v) { device = v; return this; }
  public ModelParams validation(boolean v) { validation = v; return this; }
  public ModelParams pipelineCachePath(String v) { pipelineCachePath = v; return this; }
  public ModelParams progress(ProgressListener v) { progress = v; return this; }
}
