import org.tern.*;

public class Example {
  public static void main(String[] args) {
    try (Model model = Model.load(args[0]);
         Context ctx = model.newContext(new ContextParams().kvPolicy(KvPolicy.SINKS_WINDOW).kvWindow(256))) {
      GenerateParams params = new GenerateParams().maxTokens(100).sampler(new SamplerParams().temperature(0.7f));
      ctx.generate("Once upon a time", params, piece -> { System.out.print(piece); return true; });  // false stops
      System.out.printf("%n[%.1f tokens/s]%n", ctx.stats().decodeTokensPerSecond());
    }
  }
}
