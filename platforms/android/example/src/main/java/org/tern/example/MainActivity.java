package org.tern.example;

import android.app.Activity;
import android.os.Bundle;
import android.widget.TextView;
import java.io.File;
import org.tern.Context;
import org.tern.ContextParams;
import org.tern.GenerateParams;
import org.tern.KvPolicy;
import org.tern.Model;
import org.tern.ModelParams;
import org.tern.SamplerParams;
import org.tern.TernException;

/**
 * Loads a GGUF model from the app's files folder (push one with
 * `adb push model.gguf /sdcard/Android/data/org.tern.example/files/`) and streams a story
 * into a TextView, off the UI thread. NOT BUILT BY CI (no Android SDK in Debian).
 */
public class MainActivity extends Activity {
  private volatile Context context;

  @Override
  protected void onCreate(Bundle state) {
    super.onCreate(state);
    final TextView view = new TextView(this);
    setContentView(view);
    final File modelFile = new File(getExternalFilesDir(null), "model.gguf");
    final String cache = new File(getCacheDir(), "tern-pipelines.bin").getPath();
    new Thread(() -> {
      try (Model model = Model.load(modelFile.getPath(), new ModelParams().pipelineCachePath(cache));
           Context ctx = model.newContext(new ContextParams().kvPolicy(KvPolicy.SINKS_WINDOW).kvWindow(1024))) {
        context = ctx;
        GenerateParams params = new GenerateParams().maxTokens(200).sampler(new SamplerParams().temperature(0.7f));
        ctx.generate("Once upon a time", params, piece -> {
          runOnUiThread(() -> view.append(piece));
          return !isFinishing();  // stop when the activity goes away
        });
      } catch (TernException e) {
        runOnUiThread(() -> view.setText("Tern: " + e.status() + ": " + e.getMessage()));
      } finally {
        context = null;
      }
    }, "tern").start();
  }

  @Override
  protected void onDestroy() {
    Context ctx = context;
    if (ctx != null) ctx.cancel();  // any thread may cancel
    super.onDestroy();
  }
}
