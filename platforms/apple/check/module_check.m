// Compiled by CI as Objective-C with modules on (what Swift's importer builds from the module
// map): the module must build from tern.h alone and export the API's functions, types and
// constants. Nothing runs; a broken header or module map fails the compile.
@import CTern;

static int use_api(void) {
  tern_model_params mp = tern_model_default_params();
  tern_context_params cp = tern_context_default_params();
  cp.kv_policy = TERN_KV_SINKS_WINDOW;
  cp.kv_type = TERN_KV_TYPE_Q8_0;
  tern_generate_params gp = tern_generate_default_params();
  tern_chat_message msg = {"user", "hi"};
  tern_piece_fn on_piece = 0;
  (void)on_piece;
  (void)msg;
  return (int)(mp.struct_size + cp.struct_size + gp.struct_size) + TERN_ERR_CONTEXT_FULL + (int)TERN_API_VERSION;
}

int main(void) { return use_api() > 0 ? 0 : 1; }
