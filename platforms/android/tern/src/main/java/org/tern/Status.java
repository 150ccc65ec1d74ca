package org.tern;

/** tern_status (include/tern.h): why a call failed. */
public enum Status {
  OK(0, "ok"),
  INVALID_ARGUMENT(1, "invalid argument"),
  IO(2, "I/O error"),
  BAD_MODEL(3, "bad model file"),
  UNSUPPORTED(4, "unsupported"),
  OUT_OF_DEVICE_MEMORY(5, "out of device memory"),
  OUT_OF_HOST_MEMORY(6, "out of host memory"),
  NO_DEVICE(7, "no Vulkan device"),
  VULKAN(8, "Vulkan error"),
  DEVICE_LOST(9, "device lost"),
  CANCELLED(10, "cancelled"),
  CONTEXT_FULL(11, "context full"),
  INVALID_HANDLE(12, "invalid handle"),
  INVALID_UTF8(13, "invalid UTF-8"),
  STATE_MISMATCH(14, "state mismatch"),
  INTERNAL(15, "internal error"),
  BUFFER_TOO_SMALL(16, "buffer too small"),
  UNKNOWN(-1, "unknown status");

  public final int code;
  public final String description;

  Status(int code, String description) {
    this.code = code;
    this.description = description;
  }

  public static Status of(int code) {
    for (Status s : values())
      if (s.code == code) return s;
    return UNKNOWN;
  }
}
