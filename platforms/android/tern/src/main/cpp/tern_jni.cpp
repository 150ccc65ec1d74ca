// JNI layer of the Java API (org.tern, ../java): each Native method calls one function of
// include/tern.h. Rules it keeps:
//  - a failed tern_status throws org.tern.TernException(code, tern_last_error()) and returns;
//  - text crosses as UTF-8 byte arrays (JNI's string functions use modified UTF-8);
//  - no global references at all: callbacks (load progress, generated pieces) run on the
//    calling thread inside the native call, so the local references of that call serve; each
//    piece's callback runs in its own local frame (Push/PopLocalFrame), because a generation
//    calls back thousands of times inside one native frame and Android's VM aborts past 512
//    live local references;
//  - a Java exception thrown by a callback stops the C call (the callback returns 0) and is left
//    pending, so it reaches the Java caller unchanged.
#include <jni.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "tern.h"

namespace {

// ---- errors -------------------------------------------------------------------------------

void throw_tern(JNIEnv* env, int status, const char* message) {
  if (env->ExceptionCheck()) return;  // a callback's exception goes first
  jclass cls = env->FindClass("org/tern/TernException");
  if (!cls) return;  // NoClassDefFoundError is pending
  jmethodID ctor = env->GetMethodID(cls, "<init>", "(I[B)V");
  jbyteArray msg = env->NewByteArray(jsize(std::strlen(message)));  // UTF-8: file names may be in it
  if (ctor && msg) {
    env->SetByteArrayRegion(msg, 0, jsize(std::strlen(message)), reinterpret_cast<const jbyte*>(message));
    auto ex = static_cast<jthrowable>(env->NewObject(cls, ctor, jint(status), msg));
    if (ex) env->Throw(ex);
  }
}

// true (and a TernException pending) when status is a failure.
bool failed(JNIEnv* env, tern_status status) {
  if (status == TERN_OK) return false;
  throw_tern(env, int(status), tern_last_error());
  return true;
}

// A byte[] as a NUL-terminated UTF-8 string (empty when null).
std::string bytes(JNIEnv* env, jbyteArray a) {
  if (!a) return {};
  const jsize n = env->GetArrayLength(a);
  std::string s(size_t(n), '\0');
  env->GetByteArrayRegion(a, 0, n, reinterpret_cast<jbyte*>(s.data()));
  return s;
}

jbyteArray to_bytes(JNIEnv* env, const char* data, size_t n) {
  jbyteArray a = env->NewByteArray(jsize(n));
  if (a && n) env->SetByteArrayRegion(a, 0, jsize(n), reinterpret_cast<const jbyte*>(data));
  return a;
}

jbyteArray to_bytes(JNIEnv* env, const char* s) { return s ? to_bytes(env, s, std::strlen(s)) : nullptr; }

template <class T>
T* handle(jlong h) {
  return reinterpret_cast<T*>(static_cast<intptr_t>(h));
}

jlong to_jlong(const void* p) { return static_cast<jlong>(reinterpret_cast<intptr_t>(p)); }

// ---- params objects (read and written by field name) --------------------------------------

// A Java field and the C struct member it mirrors: 'I' int32 (enums too), 'J' 64-bit, 'F' float.
struct FieldMap {
  const char* java;
  size_t offset;
  char type;
};

#define TERN_FIELD(java, c_struct, member, type) {java, offsetof(c_struct, member), type}
constexpr FieldMap k_context_fields[] = {
    TERN_FIELD("nCtx", tern_context_params, n_ctx, 'I'),
    TERN_FIELD("nBatch", tern_context_params, n_batch, 'I'),
    TERN_FIELD("kvBudgetBytes", tern_context_params, kv_budget_bytes, 'J'),
    TERN_FIELD("kvPolicy", tern_context_params, kv_policy, 'I'),
    TERN_FIELD("kvWindow", tern_context_params, kv_window, 'I'),
    TERN_FIELD("kvSinks", tern_context_params, kv_sinks, 'I'),
    TERN_FIELD("beaconRatio", tern_context_params, beacon_ratio, 'I'),
    TERN_FIELD("beaconWindow", tern_context_params, beacon_window, 'I'),
    TERN_FIELD("ropeScaling", tern_context_params, rope_scaling, 'I'),
    TERN_FIELD("ropeFreqBase", tern_context_params, rope_freq_base, 'F'),
    TERN_FIELD("ropeScaleFactor", tern_context_params, rope_scale_factor, 'F'),
    TERN_FIELD("ropeOriginalCtx", tern_context_params, rope_original_ctx, 'I'),
    TERN_FIELD("seed", tern_context_params, seed, 'J'),
    TERN_FIELD("profile", tern_context_params, profile, 'I'),
    TERN_FIELD("kvType", tern_context_params, kv_type, 'I'),
    TERN_FIELD("numerics", tern_context_params, numerics, 'I'),
};
constexpr FieldMap k_sampler_fields[] = {
    TERN_FIELD("temperature", tern_sampler_params, temperature, 'F'),
    TERN_FIELD("topK", tern_sampler_params, top_k, 'I'),
    TERN_FIELD("topP", tern_sampler_params, top_p, 'F'),
    TERN_FIELD("minP", tern_sampler_params, min_p, 'F'),
    TERN_FIELD("repeatPenalty", tern_sampler_params, repeat_penalty, 'F'),
    TERN_FIELD("frequencyPenalty", tern_sampler_params, frequency_penalty, 'F'),
    TERN_FIELD("presencePenalty", tern_sampler_params, presence_penalty, 'F'),
    TERN_FIELD("penaltyLastN", tern_sampler_params, penalty_last_n, 'I'),
};
#undef TERN_FIELD
static_assert(sizeof(tern_kv_policy) == 4 && sizeof(tern_rope_scaling) == 4, "enum fields are int32");

// Copies the mapped members of a C struct into the Java object's fields (to_java) or back.
template <size_t N>
void copy_fields(JNIEnv* env, jobject obj, void* c_struct, const FieldMap (&fields)[N], bool to_java) {
  jclass cls = env->GetObjectClass(obj);
  for (const FieldMap& f : fields) {
    char* member = static_cast<char*>(c_struct) + f.offset;
    const char sig[2] = {f.type, '\0'};
    jfieldID id = env->GetFieldID(cls, f.java, sig);
    if (!id) break;  // NoSuchFieldError pending
    if (f.type == 'I') {
      int32_t v;
      std::memcpy(&v, member, sizeof v);
      if (to_java) env->SetIntField(obj, id, v);
      else v = env->GetIntField(obj, id), std::memcpy(member, &v, sizeof v);
    } else if (f.type == 'J') {
      int64_t v;
      std::memcpy(&v, member, sizeof v);
      if (to_java) env->SetLongField(obj, id, jlong(v));
      else v = env->GetLongField(obj, id), std::memcpy(member, &v, sizeof v);
    } else {
      float v;
      std::memcpy(&v, member, sizeof v);
      if (to_java) env->SetFloatField(obj, id, v);
      else v = env->GetFloatField(obj, id), std::memcpy(member, &v, sizeof v);
    }
  }
  env->DeleteLocalRef(cls);
}

// A Java object's field as a local reference (null when the field is null).
jobject object_field(JNIEnv* env, jobject obj, const char* name, const char* sig) {
  jclass cls = env->GetObjectClass(obj);
  jfieldID id = env->GetFieldID(cls, name, sig);
  env->DeleteLocalRef(cls);
  return id ? env->GetObjectField(obj, id) : nullptr;
}

// ---- callbacks ----------------------------------------------------------------------------

struct ProgressCall {
  JNIEnv* env;
  jobject listener;
  jmethodID on_progress;
};

int on_progress(float fraction, void* user) {
  auto* c = static_cast<ProgressCall*>(user);
  const jboolean go = c->env->CallBooleanMethod(c->listener, c->on_progress, jfloat(fraction));
  return c->env->ExceptionCheck() || !go ? 0 : 1;
}

struct PieceCall {
  JNIEnv* env;
  jobject sink;
  jmethodID piece;
};

int on_piece(const char* piece, size_t len, void* user) {
  auto* c = static_cast<PieceCall*>(user);
  if (c->env->PushLocalFrame(4) != 0) return 0;  // every local reference of this piece dies below
  jbyteArray bytes = to_bytes(c->env, piece, len);
  const jboolean go = bytes ? c->env->CallBooleanMethod(c->sink, c->piece, bytes) : JNI_FALSE;
  c->env->PopLocalFrame(nullptr);
  return c->env->ExceptionCheck() || !go ? 0 : 1;
}

}  // namespace

#define JNI_FN(ret, name) extern "C" JNIEXPORT ret JNICALL Java_org_tern_Native_##name

// ---- library --------------------------------------------------------------------------------

JNI_FN(jstring, version)(JNIEnv* env, jclass) { return env->NewStringUTF(tern_version()); }
JNI_FN(jint, apiVersion)(JNIEnv*, jclass) { return jint(tern_api_version()); }

JNI_FN(void, contextDefaults)(JNIEnv* env, jclass, jobject p) {
  tern_context_params c = tern_context_default_params();
  copy_fields(env, p, &c, k_context_fields, true);
}

JNI_FN(void, samplerDefaults)(JNIEnv* env, jclass, jobject p) {
  tern_sampler_params c = tern_sampler_default_params();
  copy_fields(env, p, &c, k_sampler_fields, true);
}

// GenerateParams' own fields; its sampler is a SamplerParams, filled by samplerDefaults.
JNI_FN(void, generateDefaults)(JNIEnv* env, jclass, jobject o) {
  const tern_generate_params p = tern_generate_default_params();
  jclass cls = env->GetObjectClass(o);
  env->SetIntField(o, env->GetFieldID(cls, "maxTokens", "I"), p.max_tokens);
  env->SetBooleanField(o, env->GetFieldID(cls, "addBos", "Z"), p.add_bos ? JNI_TRUE : JNI_FALSE);
  env->SetBooleanField(o, env->GetFieldID(cls, "parseSpecial", "Z"), p.parse_special ? JNI_TRUE : JNI_FALSE);
  env->DeleteLocalRef(cls);
}

// ---- model ----------------------------------------------------------------------------------

JNI_FN(jlong, modelLoad)(JNIEnv* env, jclass, jbyteArray path, jbyteArray device, jboolean validation,
                        jbyteArray pipeline_cache, jobject listener) {
  tern_model_params p = tern_model_default_params();
  const std::string device_name = bytes(env, device), cache = bytes(env, pipeline_cache);
  if (device) p.device = device_name.c_str();
  if (pipeline_cache) p.pipeline_cache_path = cache.c_str();
  p.validation = validation ? 1 : 0;
  ProgressCall progress{env, listener, nullptr};
  if (listener) {
    jclass cls = env->GetObjectClass(listener);
    progress.on_progress = env->GetMethodID(cls, "onProgress", "(F)Z");
    env->DeleteLocalRef(cls);
    p.progress = on_progress;
    p.progress_user_data = &progress;
  }
  tern_model* m = nullptr;
  const tern_status s = tern_model_load(bytes(env, path).c_str(), &p, &m);
  return failed(env, s) ? 0 : to_jlong(m);
}

JNI_FN(void, modelFree)(JNIEnv*, jclass, jlong m) { tern_model_free(handle<tern_model>(m)); }

namespace {
bool model_info(JNIEnv* env, jlong m, tern_model_info& info) {
  std::memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  return !failed(env, tern_model_get_info(handle<tern_model>(m), &info));
}
}  // namespace

JNI_FN(jlongArray, modelInfoNumbers)(JNIEnv* env, jclass, jlong m) {
  tern_model_info i;
  if (!model_info(env, m, i)) return nullptr;
  const jlong v[] = {i.n_vocab, i.n_ctx_train, i.n_embd, i.n_layer, i.n_head, i.n_head_kv, i.n_ff,
                     jlong(i.n_params), jlong(i.weight_bytes), jlong(i.device_bytes), i.bos, i.eos,
                     i.has_beacon_weights, i.beacon_window, i.beacon_sink_size};
  jlongArray a = env->NewLongArray(jsize(std::size(v)));
  if (a) env->SetLongArrayRegion(a, 0, jsize(std::size(v)), v);
  return a;
}

JNI_FN(jobjectArray, modelInfoStrings)(JNIEnv* env, jclass, jlong m) {
  tern_model_info i;
  if (!model_info(env, m, i)) return nullptr;
  const char* v[] = {i.architecture, i.name, i.device_name, i.chat_template, i.weight_types, i.beacon_attention,
                     i.beacon_settings};
  jclass byte_array = env->FindClass("[B");
  jobjectArray a = env->NewObjectArray(jsize(std::size(v)), byte_array, nullptr);
  env->DeleteLocalRef(byte_array);
  for (size_t k = 0; a && k < std::size(v); ++k) {
    jbyteArray b = to_bytes(env, v[k]);
    env->SetObjectArrayElement(a, jsize(k), b);
    env->DeleteLocalRef(b);
  }
  return a;
}

JNI_FN(jintArray, tokenize)(JNIEnv* env, jclass, jlong m, jbyteArray text, jboolean add_bos, jboolean special) {
  const std::string t = bytes(env, text);
  std::vector<tern_token> ids(t.size() + 8);
  size_t n = 0;
  tern_status s = tern_tokenize(handle<tern_model>(m), t.data(), t.size(), add_bos, special, ids.data(), ids.size(), &n);
  if (s == TERN_ERR_BUFFER_TOO_SMALL) {
    ids.resize(n);
    s = tern_tokenize(handle<tern_model>(m), t.data(), t.size(), add_bos, special, ids.data(), ids.size(), &n);
  }
  if (failed(env, s)) return nullptr;
  jintArray a = env->NewIntArray(jsize(n));
  if (a && n) env->SetIntArrayRegion(a, 0, jsize(n), reinterpret_cast<const jint*>(ids.data()));
  return a;
}

JNI_FN(jbyteArray, detokenize)(JNIEnv* env, jclass, jlong m, jintArray tokens, jboolean render_special) {
  const jsize n = env->GetArrayLength(tokens);
  std::vector<tern_token> ids(static_cast<size_t>(n));
  env->GetIntArrayRegion(tokens, 0, n, reinterpret_cast<jint*>(ids.data()));
  size_t len = 0;
  std::string text(ids.size() * 8 + 16, '\0');
  tern_status s = tern_detokenize(handle<tern_model>(m), ids.data(), ids.size(), render_special, text.data(),
                                  text.size(), &len);
  if (s == TERN_ERR_BUFFER_TOO_SMALL) {
    text.resize(len + 1);
    s = tern_detokenize(handle<tern_model>(m), ids.data(), ids.size(), render_special, text.data(), text.size(), &len);
  }
  return failed(env, s) ? nullptr : to_bytes(env, text.data(), len);
}

JNI_FN(jboolean, isEog)(JNIEnv*, jclass, jlong m, jint token) {
  return tern_token_is_eog(handle<tern_model>(m), token) ? JNI_TRUE : JNI_FALSE;
}

JNI_FN(jbyteArray, chatTemplateName)(JNIEnv* env, jclass, jlong m) {
  return to_bytes(env, tern_chat_template_name(handle<tern_model>(m)));
}

JNI_FN(jbyteArray, applyChatTemplate)(JNIEnv* env, jclass, jlong m, jbyteArray name, jobjectArray roles,
                                      jobjectArray contents, jboolean add_assistant) {
  const jsize n = env->GetArrayLength(roles);
  std::vector<std::string> text(static_cast<size_t>(2 * n));
  for (jsize k = 0; k < n; ++k) {
    auto r = static_cast<jbyteArray>(env->GetObjectArrayElement(roles, k));
    auto c = static_cast<jbyteArray>(env->GetObjectArrayElement(contents, k));
    text[size_t(2 * k)] = bytes(env, r);
    text[size_t(2 * k + 1)] = bytes(env, c);
    env->DeleteLocalRef(r);
    env->DeleteLocalRef(c);
  }
  std::vector<tern_chat_message> msgs(static_cast<size_t>(n));
  for (size_t k = 0; k < msgs.size(); ++k) msgs[k] = {text[2 * k].c_str(), text[2 * k + 1].c_str()};
  const std::string tmpl = bytes(env, name);
  const char* tmpl_name = name ? tmpl.c_str() : nullptr;
  size_t needed = 0;
  std::string out(1024, '\0');
  tern_status s = tern_chat_apply_template(handle<tern_model>(m), tmpl_name, msgs.data(), msgs.size(), add_assistant,
                                           out.data(), out.size(), &needed);
  if (s == TERN_ERR_BUFFER_TOO_SMALL) {
    out.resize(needed);
    s = tern_chat_apply_template(handle<tern_model>(m), tmpl_name, msgs.data(), msgs.size(), add_assistant,
                                 out.data(), out.size(), &needed);
  }
  return failed(env, s) ? nullptr : to_bytes(env, out.data(), needed - 1);
}

// ---- context --------------------------------------------------------------------------------

JNI_FN(jlong, contextCreate)(JNIEnv* env, jclass, jlong m, jobject params) {
  tern_context_params p = tern_context_default_params();
  copy_fields(env, params, &p, k_context_fields, false);
  if (env->ExceptionCheck()) return 0;
  tern_context* c = nullptr;
  return failed(env, tern_context_create(handle<tern_model>(m), &p, &c)) ? 0 : to_jlong(c);
}

JNI_FN(void, contextFree)(JNIEnv*, jclass, jlong c) { tern_context_free(handle<tern_context>(c)); }
JNI_FN(void, contextReset)(JNIEnv* env, jclass, jlong c) { failed(env, tern_context_reset(handle<tern_context>(c))); }
JNI_FN(void, cancel)(JNIEnv*, jclass, jlong c) { tern_cancel(handle<tern_context>(c)); }

JNI_FN(void, eval)(JNIEnv* env, jclass, jlong c, jintArray tokens) {
  const jsize n = env->GetArrayLength(tokens);
  std::vector<tern_token> ids(static_cast<size_t>(n));
  env->GetIntArrayRegion(tokens, 0, n, reinterpret_cast<jint*>(ids.data()));
  failed(env, tern_eval(handle<tern_context>(c), ids.data(), ids.size()));
}

JNI_FN(jfloatArray, logits)(JNIEnv* env, jclass, jlong c) {
  const float* logits = nullptr;
  int32_t n = 0;
  if (failed(env, tern_get_logits(handle<tern_context>(c), &logits, &n))) return nullptr;
  jfloatArray a = env->NewFloatArray(n);
  if (a && n) env->SetFloatArrayRegion(a, 0, n, logits);
  return a;
}

JNI_FN(jint, sample)(JNIEnv* env, jclass, jlong c, jobject params) {
  tern_sampler_params p = tern_sampler_default_params();
  copy_fields(env, params, &p, k_sampler_fields, false);
  if (env->ExceptionCheck()) return -1;
  tern_token t = -1;
  return failed(env, tern_sample(handle<tern_context>(c), &p, &t)) ? -1 : t;
}

JNI_FN(jint, generate)(JNIEnv* env, jclass, jlong c, jbyteArray prompt, jobject params, jobjectArray stops,
                      jobject sink) {
  tern_generate_params p = tern_generate_default_params();
  jobject sampler = object_field(env, params, "sampler", "Lorg/tern/SamplerParams;");
  if (sampler) copy_fields(env, sampler, &p.sampler, k_sampler_fields, false);
  env->DeleteLocalRef(sampler);
  jclass cls = env->GetObjectClass(params);
  p.max_tokens = env->GetIntField(params, env->GetFieldID(cls, "maxTokens", "I"));
  p.add_bos = env->GetBooleanField(params, env->GetFieldID(cls, "addBos", "Z")) ? 1 : 0;
  p.parse_special = env->GetBooleanField(params, env->GetFieldID(cls, "parseSpecial", "Z")) ? 1 : 0;
  env->DeleteLocalRef(cls);
  std::vector<std::string> stop_text;
  for (jsize k = 0, n = stops ? env->GetArrayLength(stops) : 0; k < n; ++k) {
    auto b = static_cast<jbyteArray>(env->GetObjectArrayElement(stops, k));
    stop_text.push_back(bytes(env, b));
    env->DeleteLocalRef(b);
  }
  std::vector<const char*> stop;
  for (const auto& s : stop_text) stop.push_back(s.c_str());
  stop.push_back(nullptr);
  if (stop.size() > 1) p.stop = stop.data();
  if (env->ExceptionCheck()) return 0;
  PieceCall call{env, sink, nullptr};
  cls = env->GetObjectClass(sink);
  call.piece = env->GetMethodID(cls, "piece", "([B)Z");
  jfieldID generated = env->GetFieldID(cls, "generated", "I");
  env->DeleteLocalRef(cls);
  int32_t n = 0;
  const tern_status s = tern_generate(handle<tern_context>(c), bytes(env, prompt).c_str(), &p, on_piece, &call, &n);
  // The count is stored also when a listener's exception is pending (set aside for the call).
  jthrowable pending = env->ExceptionOccurred();
  if (pending) env->ExceptionClear();
  env->SetIntField(sink, generated, n);
  if (pending) {
    env->Throw(pending);
    env->DeleteLocalRef(pending);
  } else {
    failed(env, s);
  }
  return n;
}

JNI_FN(jdoubleArray, stats)(JNIEnv* env, jclass, jlong c) {
  tern_context_stats s;
  std::memset(&s, 0, sizeof s);
  s.struct_size = sizeof s;
  if (failed(env, tern_context_get_stats(handle<tern_context>(c), &s))) return nullptr;
  const jdouble v[] = {double(s.tokens_consumed), double(s.kv_slots_used), double(s.kv_slots_capacity),
                       double(s.kv_bytes), double(s.device_bytes), s.prompt_ms, s.prompt_tokens, s.decode_ms,
                       s.decode_tokens, double(s.kv_sink_slots), double(s.kv_raw_slots), double(s.kv_beacon_slots),
                       double(s.beacon_ratio), double(s.beacon_window), double(s.kv_global_layers),
                       double(s.kv_sliding_layers), double(s.kv_sliding_slots_used),
                       double(s.kv_sliding_slots_capacity), double(s.kv_global_bytes), double(s.kv_sliding_bytes)};
  jdoubleArray a = env->NewDoubleArray(jsize(std::size(v)));
  if (a) env->SetDoubleArrayRegion(a, 0, jsize(std::size(v)), v);
  return a;
}

JNI_FN(jbyteArray, stateSave)(JNIEnv* env, jclass, jlong c) {
  size_t needed = 0;
  tern_status s = tern_state_save(handle<tern_context>(c), nullptr, 0, &needed);
  if (s != TERN_ERR_BUFFER_TOO_SMALL && failed(env, s)) return nullptr;
  std::vector<char> buf(needed);
  if (failed(env, tern_state_save(handle<tern_context>(c), buf.data(), buf.size(), &needed))) return nullptr;
  return to_bytes(env, buf.data(), needed);
}

JNI_FN(void, stateLoad)(JNIEnv* env, jclass, jlong c, jbyteArray data) {
  const std::string d = bytes(env, data);
  failed(env, tern_state_load(handle<tern_context>(c), d.data(), d.size()));
}

JNI_FN(void, stateSaveFile)(JNIEnv* env, jclass, jlong c, jbyteArray path) {
  failed(env, tern_state_save_file(handle<tern_context>(c), bytes(env, path).c_str()));
}

JNI_FN(void, stateLoadFile)(JNIEnv* env, jclass, jlong c, jbyteArray path) {
  failed(env, tern_state_load_file(handle<tern_context>(c), bytes(env, path).c_str()));
}
