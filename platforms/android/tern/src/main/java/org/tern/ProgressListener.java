package org.tern;

/** Load progress in [0, 1]. */
public interface ProgressListener {
  /** @return false to cancel loading ({@link Status#CANCELLED}) */
  boolean onProgress(float fraction);
}
