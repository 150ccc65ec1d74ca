/* Sanitizer builds only: dlclose never unloads. Mesa's lavapipe (22.3.6-1+deb12u2) leaks 128
 * bytes per Vulkan instance; once the Vulkan loader unloads it, LeakSanitizer reports the leak
 * from an "<unknown module>" that no suppression can name, and every test fails. With the
 * driver kept mapped, the allocation stays reachable from its globals and is not a leak.
 * Every executable of a TERN_SANITIZE build links this definition, which takes precedence over
 * libc's for the Vulkan loader's calls. */
__attribute__((visibility("default"))) int dlclose(void* handle) {
  (void)handle;
  return 0;
}
