package org.tern;

/** Library-wide facts. */
public final class Tern {
  private Tern() {}

  /** "major.minor.patch" of the loaded libtern. */
  public static String version() {
    return Native.version();
  }

  /** TERN_API_VERSION of the loaded libtern: (major &lt;&lt; 16) | minor. */
  public static int apiVersion() {
    return Native.apiVersion();
  }
}
