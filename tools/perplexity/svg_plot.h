// A small self-contained SVG line plot: one coloured polyline per series with a legend, a linear
// x axis and a logarithmic y axis, both with ticks and labels. No dependencies.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace tern::ppl {

struct PlotSeries {
  std::string label;
  std::vector<std::pair<double, double>> points;  // (x, y); non-finite or y <= 0 points are dropped
};

struct PlotOptions {
  std::string title = "Streaming perplexity";
  std::string x_label = "tokens consumed";
  std::string y_label = "perplexity (log scale)";
  int width = 860, height = 520;
};

// The whole SVG document. Series without a drawable point appear in the legend only.
std::string render_svg_plot(const std::vector<PlotSeries>& series, const PlotOptions& opt = {});
// "&", "<", ">", quotes escaped for XML text and attributes.
std::string xml_escape(const std::string& s);
// A coordinate or length as SVG attributes take it: one decimal ("12.5").
std::string svg_num(double v);
// "Nice" tick values (1, 2, 5 x 10^k steps) covering [lo, hi], about `target` of them.
std::vector<double> linear_ticks(double lo, double hi, int target);
// Tick values for a log axis over [lo, hi] (lo > 0): decades, plus 2 and 5 when few decades.
std::vector<double> log_ticks(double lo, double hi);

}  // namespace tern::ppl
