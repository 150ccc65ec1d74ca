package org.tern;

/**
 * A call into Tern failed: {@link #status()} says why (tern_status), the message is the library's
 * own (tern_last_error). Unchecked, like the other errors of a failed runtime call.
 */
public class TernException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final Status status;
  private final int code;

  public TernException(int code, String message) {
    super(message == null || message.isEmpty() ? Status.of(code).description : message);
    this.code = code;
    this.status = Status.of(code);
  }

  /** From the JNI layer: the tern_status code and tern_last_error() as UTF-8. */
  TernException(int code, byte[] utf8Message) {
    this(code, new String(utf8Message, java.nio.charset.StandardCharsets.UTF_8));
  }

  public Status status() {
    return status;
  }

  /** The raw tern_status code (also for codes newer than this binding). */
  public int code() {
    return code;
  }
}
