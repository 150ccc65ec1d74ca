#include "perplexity/heatmap_svg.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "perplexity/svg_plot.h"

namespace tern::ppl {

namespace {

// Viridis at 0, 1/8, ..., 1 (matplotlib's table), interpolated linearly in between: ordered in
// lightness and readable by colour-blind readers and in greyscale.
constexpr std::array<std::array<int, 3>, 9> k_viridis = {{{68, 1, 84},
                                                          {72, 40, 120},
                                                          {62, 73, 137},
                                                          {49, 104, 142},
                                                          {38, 130, 142},
                                                          {31, 158, 137},
                                                          {53, 183, 121},
                                                          {110, 206, 88},
                                                          {253, 231, 37}}};

std::array<double, 3> rgb_at(double v) {
  const double x = std::isfinite(v) ? std::clamp(v, 0.0, 1.0) * 8.0 : 0.0;
  const size_t i = std::min<size_t>(7, size_t(x));
  const double f = x - double(i);
  std::array<double, 3> c{};
  for (size_t k = 0; k < 3; ++k) c[k] = k_viridis[i][k] + f * (k_viridis[i + 1][k] - k_viridis[i][k]);
  return c;
}

std::string percent(double v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.0f%%", 100 * std::clamp(v, 0.0, 1.0));
  return buf;
}

std::string text_at(double x, double y, const std::string& s, const std::string& attrs = "") {
  return "<text x=\"" + svg_num(x) + "\" y=\"" + svg_num(y) + "\"" + (attrs.empty() ? "" : " " + attrs) + ">" +
         xml_escape(s) + "</text>\n";
}

}  // namespace

std::string heat_color(double v) {
  const auto c = rgb_at(v);
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", int(std::lround(c[0])), int(std::lround(c[1])),
                int(std::lround(c[2])));
  return buf;
}

bool dark_text_on(double v) {
  const auto c = rgb_at(v);
  auto lin = [](double u) {
    u /= 255.0;
    return u <= 0.04045 ? u / 12.92 : std::pow((u + 0.055) / 1.055, 2.4);
  };
  const double y = 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
  return y > 0.18;  // the luminance where black and white text have equal contrast
}

std::string render_svg_heatmap(const std::vector<HeatmapPanel>& panels, const HeatmapOptions& opt) {
  size_t max_rows = 1, max_cols = 1;
  for (const auto& p : panels) {
    if (p.values.size() != p.row_labels.size())
      throw std::invalid_argument("heat map panel '" + p.title + "': values do not match its row labels");
    for (const auto& row : p.values)
      if (row.size() != p.col_labels.size())
        throw std::invalid_argument("heat map panel '" + p.title + "': a row does not match its column labels");
    if (!p.texts.empty()) {
      if (p.texts.size() != p.values.size())
        throw std::invalid_argument("heat map panel '" + p.title + "': texts do not match its rows");
      for (size_t r = 0; r < p.texts.size(); ++r)
        if (p.texts[r].size() != p.values[r].size())
          throw std::invalid_argument("heat map panel '" + p.title + "': texts do not match its columns");
    }
    max_rows = std::max(max_rows, p.row_labels.size());
    max_cols = std::max(max_cols, p.col_labels.size());
  }
  const size_t per_row = std::max<size_t>(1, std::min<size_t>(size_t(std::max(1, opt.panels_per_row)),
                                                             std::max<size_t>(1, panels.size())));
  const size_t grid_rows = std::max<size_t>(1, (panels.size() + per_row - 1) / per_row);
  // Panel geometry: row labels, then the cells; panel title above, column labels below.
  const double cell_w = 58, cell_h = 30, label_w = 64, title_h = 26, col_label_h = 22, gap = 28;
  const double panel_w = label_w + cell_w * double(max_cols), panel_h = title_h + cell_h * double(max_rows) + col_label_h;
  const double top = 48, left = 34, bar_h = 66;
  // Wide enough for the title too (about 0.55 em per character of sans-serif at 16 px).
  const double width = std::max(left + double(per_row) * panel_w + double(per_row - 1) * gap + 20,
                                0.55 * 16 * double(opt.title.size()) + 40);
  const double height = top + double(grid_rows) * panel_h + double(grid_rows - 1) * gap + 24 + bar_h;

  std::string svg;
  svg += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + svg_num(width) + "\" height=\"" + svg_num(height) +
         "\" viewBox=\"0 0 " + svg_num(width) + " " + svg_num(height) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg += "<rect x=\"0\" y=\"0\" width=\"" + svg_num(width) + "\" height=\"" + svg_num(height) + "\" fill=\"white\"/>\n";
  svg += text_at(width / 2, 24, opt.title, "text-anchor=\"middle\" font-size=\"16\"");
  svg += "<text transform=\"translate(16 " + svg_num(top + (height - top - bar_h) / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + xml_escape(opt.row_axis) + "</text>\n";

  for (size_t i = 0; i < panels.size(); ++i) {
    const HeatmapPanel& p = panels[i];
    const double x0 = left + double(i % per_row) * (panel_w + gap);
    const double y0 = top + double(i / per_row) * (panel_h + gap);
    const double cx0 = x0 + label_w, cy0 = y0 + title_h;
    svg += "<g>\n<title>" + xml_escape(p.title) + "</title>\n";
    svg += text_at(cx0 + cell_w * double(p.col_labels.size()) / 2, y0 + 16, p.title,
                   "text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\"");
    for (size_t r = 0; r < p.row_labels.size(); ++r) {
      const double y = cy0 + cell_h * double(r);
      svg += text_at(cx0 - 6, y + cell_h / 2 + 4, p.row_labels[r], "text-anchor=\"end\"");
      for (size_t c = 0; c < p.col_labels.size(); ++c) {
        const double x = cx0 + cell_w * double(c);
        const std::optional<double>& v = p.values[r][c];
        const bool have = v.has_value() && std::isfinite(*v);
        const std::string fill = have ? heat_color(*v) : "#e0e0e0";
        std::string label = p.texts.empty() ? "" : p.texts[r][c];
        if (label.empty()) label = have ? percent(*v) : "n/a";
        svg += "<rect x=\"" + svg_num(x) + "\" y=\"" + svg_num(y) + "\" width=\"" + svg_num(cell_w) + "\" height=\"" +
               svg_num(cell_h) + "\" fill=\"" + fill + "\" stroke=\"white\" stroke-width=\"1\"><title>" +
               xml_escape(opt.row_axis + " " + p.row_labels[r] + ", " + opt.col_axis + " " +
                          p.col_labels[c] + ": " + label) +
               "</title></rect>\n";
        const bool dark = !have || dark_text_on(*v);
        svg += text_at(x + cell_w / 2, y + cell_h / 2 + 4, label,
                       std::string("text-anchor=\"middle\" fill=\"") + (dark ? "black" : "white") + "\"");
      }
    }
    for (size_t c = 0; c < p.col_labels.size(); ++c)
      svg += text_at(cx0 + cell_w * (double(c) + 0.5), cy0 + cell_h * double(p.row_labels.size()) + 15,
                     p.col_labels[c], "text-anchor=\"middle\"");
    svg += "</g>\n";
  }

  // Column axis title and the colour bar.
  const double by = height - bar_h + 4;
  svg += text_at(width / 2, by, opt.col_axis, "text-anchor=\"middle\"");
  const double bar_w = std::min(300.0, width - 80), bx = (width - bar_w) / 2, bar_y = by + 12;
  svg += "<defs><linearGradient id=\"heat\" x1=\"0\" x2=\"1\" y1=\"0\" y2=\"0\">";
  for (size_t k = 0; k < k_viridis.size(); ++k) {
    const double at = double(k) / double(k_viridis.size() - 1);
    svg += "<stop offset=\"" + svg_num(100 * at) + "%\" stop-color=\"" + heat_color(at) + "\"/>";
  }
  svg += "</linearGradient></defs>\n";
  svg += "<rect x=\"" + svg_num(bx) + "\" y=\"" + svg_num(bar_y) + "\" width=\"" + svg_num(bar_w) +
         "\" height=\"12\" fill=\"url(#heat)\" stroke=\"black\" stroke-width=\"0.5\"/>\n";
  for (int k = 0; k <= 4; ++k)
    svg += text_at(bx + bar_w * k / 4.0, bar_y + 26, percent(k / 4.0), "text-anchor=\"middle\" font-size=\"11\"");
  svg += text_at(bx - 8, bar_y + 10, opt.scale_label, "text-anchor=\"end\" font-size=\"11\"");
  svg += "</svg>\n";
  return svg;
}

}  // namespace tern::ppl
