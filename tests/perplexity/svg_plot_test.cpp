// The SVG writer: well-formed XML (parsed with expat when available), one polyline per series
// with points, a legend entry per series, ticks, escaping; and CSV quoting.
#include "perplexity/svg_plot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "perplexity/csv.h"

#include "perplexity/text_checks.h"

using namespace tern::ppl;
using tern::ppl::test::count_of;

namespace {

std::vector<PlotSeries> three_series() {
  std::vector<PlotSeries> s(3);
  s[0].label = "dense";
  s[1].label = "sinks:4";
  s[2].label = "beacon<2> & \"co\"";
  for (int i = 1; i <= 20; ++i) {
    s[0].points.emplace_back(512.0 * i, 3.0 + 0.1 * i);
    s[1].points.emplace_back(512.0 * i, 3.5);
    s[2].points.emplace_back(512.0 * i, i < 10 ? 3.2 : 4000.0);
  }
  return s;
}

}  // namespace

TEST(SvgPlot, OnePolylinePerSeriesAndLegend) {
  const std::string svg = render_svg_plot(three_series());
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_EQ(count_of(svg, "<polyline"), 3u);
  EXPECT_EQ(count_of(svg, "<circle"), 60u);  // a marker per point
  EXPECT_EQ(count_of(svg, ">dense</text>"), 1u);
  EXPECT_EQ(count_of(svg, ">sinks:4</text>"), 1u);
  EXPECT_NE(svg.find("beacon&lt;2&gt; &amp; &quot;co&quot;"), std::string::npos);
  EXPECT_EQ(svg.find("beacon<2>"), std::string::npos);
  EXPECT_NE(svg.find("tokens consumed"), std::string::npos);
  EXPECT_NE(svg.find(">1000</text>"), std::string::npos);  // a log-axis decade tick
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
}

TEST(SvgPlot, UndrawablePointsAreDroppedAndEmptySeriesOnlyInLegend) {
  std::vector<PlotSeries> s(2);
  s[0].label = "ok";
  s[0].points = {{1, 2}, {2, std::numeric_limits<double>::quiet_NaN()}, {3, 0}, {4, 5}};
  s[1].label = "failed";
  const std::string svg = render_svg_plot(s);
  EXPECT_EQ(count_of(svg, "<polyline"), 1u);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
  EXPECT_NE(svg.find(">failed</text>"), std::string::npos);
  EXPECT_EQ(count_of(render_svg_plot({}), "<polyline"), 0u);
}

TEST(SvgPlot, WellFormedXml) {
#ifdef TERN_HAVE_EXPAT
  for (const auto& series : {three_series(), std::vector<PlotSeries>{}}) {
    const std::string svg = render_svg_plot(series);
    EXPECT_EQ(tern::ppl::test::xml_error(svg), "");
  }
#else
  GTEST_SKIP() << "expat (libexpat1-dev) not found at configure time: XML well-formedness not checked";
#endif
}

TEST(SvgPlot, Ticks) {
  EXPECT_EQ(linear_ticks(0, 10, 5), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  const auto lt = log_ticks(1, 1000);
  EXPECT_EQ(lt.front(), 1);
  EXPECT_EQ(lt.back(), 1000);
  EXPECT_EQ(log_ticks(2, 50), (std::vector<double>{2, 5, 10, 20, 50}));
  EXPECT_EQ(log_ticks(2, 5), (std::vector<double>{2, 3, 4, 5}));
  EXPECT_EQ(log_ticks(1, 1e6), (std::vector<double>{1, 10, 100, 1000, 1e4, 1e5, 1e6}));
}

TEST(Csv, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(csv_field("dense"), "dense");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_row({"x", "1,2", ""}), "x,\"1,2\",\n");
  EXPECT_EQ(num(2.5), "2.5");
}
