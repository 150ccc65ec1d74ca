// The heat map writer: well-formed XML (parsed with expat when available), one cell per value with
// its text, colours from the scale, n/a cells, escaping, and bad panels rejected.
#include "perplexity/heatmap_svg.h"

#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>
#include <string>

#include "perplexity/text_checks.h"

using namespace tern::ppl;
using tern::ppl::test::count_of;

namespace {

HeatmapPanel panel(const std::string& title, double v) {
  HeatmapPanel p;
  p.title = title;
  p.row_labels = {"512", "1024"};
  p.col_labels = {"0.00", "0.50", "1.00"};
  p.values = {{v, 0.5, std::nullopt}, {1.0, 0.0, 0.25}};
  return p;
}

}  // namespace

TEST(HeatmapSvg, ScaleEndsAndText) {
  EXPECT_EQ(heat_color(0), "#440154");
  EXPECT_EQ(heat_color(1), "#fde725");
  EXPECT_EQ(heat_color(-3), heat_color(0));  // clamped
  EXPECT_EQ(heat_color(7), heat_color(1));
  EXPECT_EQ(heat_color(std::numeric_limits<double>::quiet_NaN()), heat_color(0));
  EXPECT_EQ(heat_color(0.5), "#26828e");     // a table entry
  EXPECT_NE(heat_color(0.49), heat_color(0.5));
  EXPECT_FALSE(dark_text_on(0));  // white on dark purple
  EXPECT_TRUE(dark_text_on(1));   // black on yellow
}

TEST(HeatmapSvg, OneCellPerValue) {
  const std::string svg = render_svg_heatmap({panel("dense", 0.75), panel("sinks:4 <&>", 0.1)});
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_EQ(count_of(svg, "<rect x="), 1u + 12u + 1u);  // background, 2 x 6 cells, colour bar
  EXPECT_EQ(count_of(svg, "fill=\"#e0e0e0\""), 2u);      // one n/a cell per panel
  EXPECT_EQ(count_of(svg, ">n/a</text>"), 2u);
  EXPECT_EQ(count_of(svg, ">75%</text>"), 1u + 1u);     // the cell and the colour bar
  EXPECT_EQ(count_of(svg, ">100%</text>"), 2u + 1u);    // both panels and the colour bar's end
  EXPECT_EQ(count_of(svg, "fill=\"" + heat_color(1.0) + "\""), 2u);
  EXPECT_NE(svg.find(">dense</text>"), std::string::npos);
  EXPECT_NE(svg.find("sinks:4 &lt;&amp;&gt;"), std::string::npos);
  EXPECT_EQ(svg.find("sinks:4 <&>"), std::string::npos);
  EXPECT_NE(svg.find("prompt tokens 1024, needle depth 0.50: 0%"), std::string::npos);  // the cell's tooltip
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
}

TEST(HeatmapSvg, TextsReplacePercentages) {
  HeatmapPanel p = panel("beacon:8", 0.3);
  p.texts = {{"3/10", "5/10", ""}, {"10/10", "0/10", "1/4"}};
  const std::string svg = render_svg_heatmap({p});
  EXPECT_NE(svg.find(">3/10</text>"), std::string::npos);
  EXPECT_NE(svg.find(">1/4</text>"), std::string::npos);
  EXPECT_NE(svg.find(">n/a</text>"), std::string::npos);  // empty text on a missing value
  EXPECT_EQ(svg.find(">30%</text>"), std::string::npos);
}

TEST(HeatmapSvg, RejectsMismatchedPanels) {
  HeatmapPanel p = panel("x", 0);
  p.values.pop_back();
  EXPECT_THROW(render_svg_heatmap({p}), std::invalid_argument);
  p = panel("x", 0);
  p.values[1].push_back(0.5);
  EXPECT_THROW(render_svg_heatmap({p}), std::invalid_argument);
  p = panel("x", 0);
  p.texts = {{"a", "b", "c"}};
  EXPECT_THROW(render_svg_heatmap({p}), std::invalid_argument);
}

TEST(HeatmapSvg, WellFormedXml) {
#ifdef TERN_HAVE_EXPAT
  HeatmapPanel uneven = panel("uneven", 0.2);
  uneven.row_labels.push_back("2048");
  uneven.values.push_back({0.1, 0.2, 0.3});
  for (const auto& panels : {std::vector<HeatmapPanel>{panel("a", 0.9), uneven, panel("c", 0), panel("d & e", 1)},
                             std::vector<HeatmapPanel>{}}) {
    const std::string svg = render_svg_heatmap(panels);
    EXPECT_EQ(tern::ppl::test::xml_error(svg), "");
  }
#else
  GTEST_SKIP() << "expat (libexpat1-dev) not found at configure time: XML well-formedness not checked";
#endif
}
