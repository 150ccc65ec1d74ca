package org.tern;

/** One message of a conversation: role ("system", "user", "assistant") and its text. */
public final class ChatMessage {
  public final String role;
  public final String content;

  public ChatMessage(String role, String content) {
    this.role = role;
    this.content = content;
  }
}
