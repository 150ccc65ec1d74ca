// A self-contained SVG heat map: one panel per series (e.g. per KV policy), each a grid of cells
// coloured by a value in [0, 1] (viridis: dark purple 0 to yellow 1) with the cell's text on it,
// panels laid out in a grid under one title, a colour bar below. No dependencies.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace tern::ppl {

struct HeatmapPanel {
  std::string title;
  std::vector<std::string> row_labels, col_labels;
  // [row][col]: a value in [0, 1] (clamped), or none for a cell without data (grey, "n/a").
  std::vector<std::vector<std::optional<double>>> values;
  // [row][col]: text drawn on the cell; empty: the value as a percentage.
  std::vector<std::vector<std::string>> texts;
};

struct HeatmapOptions {
  std::string title = "Passkey retrieval accuracy";
  std::string row_axis = "prompt tokens";
  std::string col_axis = "needle depth";
  std::string scale_label = "accuracy";
  int panels_per_row = 3;
};

// The whole SVG document. Throws std::invalid_argument when a panel's values or texts do not
// match its labels.
std::string render_svg_heatmap(const std::vector<HeatmapPanel>& panels, const HeatmapOptions& opt = {});
// "#rrggbb" of a value in [0, 1] on the viridis scale (clamped; NaN gives 0's colour).
std::string heat_color(double v);
// Whether black text reads better than white on that colour (by its relative luminance).
bool dark_text_on(double v);

}  // namespace tern::ppl
