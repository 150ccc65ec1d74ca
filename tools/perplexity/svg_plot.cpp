#include "perplexity/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace tern::ppl {

namespace {

// Distinguishable colours (Tableau 10).
const char* const k_colors[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

std::string tick_label(double v) {
  char buf[32];
  if (v != 0 && (std::fabs(v) >= 1e6 || std::fabs(v) < 1e-2)) std::snprintf(buf, sizeof buf, "%.0e", v);
  else std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

bool drawable(const std::pair<double, double>& p) {
  return std::isfinite(p.first) && std::isfinite(p.second) && p.second > 0;
}

}  // namespace

std::string svg_num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<double> linear_ticks(double lo, double hi, int target) {
  std::vector<double> ticks;
  if (!(hi > lo) || target < 1) return {lo};
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push_back(v);
  return ticks;
}

std::vector<double> log_ticks(double lo, double hi) {
  std::vector<double> ticks;
  const int d0 = int(std::floor(std::log10(lo))), d1 = int(std::ceil(std::log10(hi)));
  // Decades only over a wide range; 1-2-5 over a few decades; every digit within one.
  const std::vector<double> mantissas = d1 - d0 > 3   ? std::vector<double>{1}
                                        : d1 - d0 > 1 ? std::vector<double>{1, 2, 5}
                                                      : std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9};
  for (int d = d0; d <= d1; ++d)
    for (double m : mantissas) {
      const double v = m * std::pow(10.0, d);
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push_back(v);
    }
  return ticks;
}

std::string render_svg_plot(const std::vector<PlotSeries>& series, const PlotOptions& opt) {
  // Data range over drawable points; defaults keep an empty plot well-formed.
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  for (const auto& s : series)
    for (const auto& p : s.points)
      if (drawable(p)) {
        x_lo = std::min(x_lo, p.first), x_hi = std::max(x_hi, p.first);
        y_lo = std::min(y_lo, p.second), y_hi = std::max(y_hi, p.second);
      }
  if (!std::isfinite(x_lo)) x_lo = 0, x_hi = 1, y_lo = 1, y_hi = 10;
  x_lo = std::min(x_lo, 0.0);
  if (x_hi <= x_lo) x_hi = x_lo + 1;
  // Round the y range out to 1/2/5 steps of its decade so ticks land on the frame.
  auto round_out = [](double v, bool up) {
    const double mag = std::pow(10.0, std::floor(std::log10(v)));
    for (double m : up ? std::vector<double>{1, 2, 5, 10} : std::vector<double>{5, 2, 1})
      if (up ? m * mag >= v * (1 - 1e-12) : m * mag <= v * (1 + 1e-12)) return m * mag;
    return up ? 10 * mag : mag;
  };
  y_lo = round_out(y_lo, false);
  y_hi = round_out(y_hi, true);
  if (y_hi <= y_lo) y_hi = y_lo * 10;

  const double left = 80, right = 190, top = 40, bottom = 60;
  const double pw = opt.width - left - right, ph = opt.height - top - bottom;
  auto px = [&](double x) { return left + (x - x_lo) / (x_hi - x_lo) * pw; };
  auto py = [&](double y) { return top + ph - (std::log10(y) - std::log10(y_lo)) / (std::log10(y_hi) - std::log10(y_lo)) * ph; };

  std::string svg;
  svg += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(opt.width) + "\" height=\"" +
         std::to_string(opt.height) + "\" viewBox=\"0 0 " + std::to_string(opt.width) + " " +
         std::to_string(opt.height) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg += "<rect x=\"0\" y=\"0\" width=\"" + std::to_string(opt.width) + "\" height=\"" + std::to_string(opt.height) +
         "\" fill=\"white\"/>\n";
  svg += "<text x=\"" + svg_num(left + pw / 2) + "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" +
         xml_escape(opt.title) + "</text>\n";
  // Grid and ticks.
  svg += "<g stroke=\"#dddddd\" stroke-width=\"1\">\n";
  for (double t : linear_ticks(x_lo, x_hi, 8))
    svg += "<line x1=\"" + svg_num(px(t)) + "\" y1=\"" + svg_num(top) + "\" x2=\"" + svg_num(px(t)) + "\" y2=\"" +
           svg_num(top + ph) + "\"/>\n";
  for (double t : log_ticks(y_lo, y_hi))
    svg += "<line x1=\"" + svg_num(left) + "\" y1=\"" + svg_num(py(t)) + "\" x2=\"" + svg_num(left + pw) + "\" y2=\"" +
           svg_num(py(t)) + "\"/>\n";
  svg += "</g>\n";
  svg += "<rect x=\"" + svg_num(left) + "\" y=\"" + svg_num(top) + "\" width=\"" + svg_num(pw) + "\" height=\"" + svg_num(ph) +
         "\" fill=\"none\" stroke=\"black\"/>\n";
  svg += "<g text-anchor=\"middle\">\n";
  for (double t : linear_ticks(x_lo, x_hi, 8))
    svg += "<text x=\"" + svg_num(px(t)) + "\" y=\"" + svg_num(top + ph + 18) + "\">" + tick_label(t) + "</text>\n";
  svg += "</g>\n<g text-anchor=\"end\">\n";
  for (double t : log_ticks(y_lo, y_hi))
    svg += "<text x=\"" + svg_num(left - 6) + "\" y=\"" + svg_num(py(t) + 4) + "\">" + tick_label(t) + "</text>\n";
  svg += "</g>\n";
  svg += "<text x=\"" + svg_num(left + pw / 2) + "\" y=\"" + svg_num(opt.height - 18.0) + "\" text-anchor=\"middle\">" +
         xml_escape(opt.x_label) + "</text>\n";
  svg += "<text transform=\"translate(20 " + svg_num(top + ph / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
         xml_escape(opt.y_label) + "</text>\n";
  // Series and legend.
  for (size_t i = 0; i < series.size(); ++i) {
    const std::string color = k_colors[i % (sizeof k_colors / sizeof k_colors[0])];
    // Series past the palette are dashed so they stay distinguishable.
    const std::string dash = i >= sizeof k_colors / sizeof k_colors[0] ? " stroke-dasharray=\"6 3\"" : "";
    std::string pts, marks;
    for (const auto& p : series[i].points)
      if (drawable(p)) {
        pts += (pts.empty() ? "" : " ") + svg_num(px(p.first)) + "," + svg_num(py(p.second));
        marks += "<circle cx=\"" + svg_num(px(p.first)) + "\" cy=\"" + svg_num(py(p.second)) + "\" r=\"2.5\"/>";
      }
    if (!pts.empty()) {
      svg += "<polyline fill=\"none\" stroke=\"" + color + "\" stroke-width=\"2\"" + dash + " points=\"" + pts +
             "\"><title>" + xml_escape(series[i].label) + "</title></polyline>\n";
      // Markers show each segment, and a series of a single segment at all.
      svg += "<g fill=\"" + color + "\">" + marks + "</g>\n";
    }
    const double ly = top + 10 + double(i) * 18;
    svg += "<line x1=\"" + svg_num(left + pw + 12) + "\" y1=\"" + svg_num(ly) + "\" x2=\"" + svg_num(left + pw + 36) +
           "\" y2=\"" + svg_num(ly) + "\" stroke=\"" + color + "\" stroke-width=\"2\"" + dash + "/>\n";
    svg += "<text x=\"" + svg_num(left + pw + 42) + "\" y=\"" + svg_num(ly + 4) + "\">" + xml_escape(series[i].label) +
           "</text>\n";
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace tern::ppl
