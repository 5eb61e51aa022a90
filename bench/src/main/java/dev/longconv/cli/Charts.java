package dev.longconv.cli;

import dev.longconv.LongConvException;
import dev.longconv.Tensor;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * PNG charts with XChart: JMH results (time per call against a numeric parameter, log-log, one line per method, the
 * 99.9% confidence interval JMH reports as error bars) and STU filters (one line per filter against t).
 */
final class Charts {
    private Charts() {}

    /** {@code out.png} becomes {@code out.json}: where {@code bench --chart} keeps the results it drew. */
    static Path jsonBeside(Path png) {
        String name = png.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return png.resolveSibling((dot > 0 ? name.substring(0, dot) : name) + ".json");
    }

    /** One JMH result: method, parameters, score, error (NaN when JMH gave none) and unit. */
    record Point(String benchmark, String method, Map<String, String> params, double score, double error, String unit) {}

    /** Reads a JMH JSON result file ({@code -rf json}). */
    static List<Point> readJmh(Path json) throws IOException {
        Object root;
        try {
            root = Json.parse(Files.readString(json));
        } catch (IllegalArgumentException e) {
            throw new LongConvException("chart", "results", "a JMH JSON result file (-rf json)", json + ": " + e.getMessage());
        }
        if (!(root instanceof List<?> list)) throw new LongConvException("chart", "results", "a JSON array of JMH results", json.toString());
        List<Point> out = new ArrayList<>();
        for (Object o : list) {
            if (!(o instanceof Map<?, ?> r) || !(r.get("benchmark") instanceof String b) || !(r.get("primaryMetric") instanceof Map<?, ?> m)) {
                throw new LongConvException("chart", "results", "JMH results with benchmark and primaryMetric", json.toString());
            }
            Map<String, String> params = new TreeMap<>();
            if (r.get("params") instanceof Map<?, ?> p) p.forEach((k, v) -> params.put(String.valueOf(k), String.valueOf(v)));
            double score = m.get("score") instanceof Number n ? n.doubleValue() : Double.NaN;
            double error = m.get("scoreError") instanceof Number n ? n.doubleValue() : Double.NaN;
            String method = b.substring(b.lastIndexOf('.') + 1);
            String cls = b.substring(0, Math.max(0, b.lastIndexOf('.')));
            out.add(new Point(cls.substring(cls.lastIndexOf('.') + 1), method, params, score, error, String.valueOf(m.get("scoreUnit"))));
        }
        if (out.isEmpty()) throw new LongConvException("chart", "results", "at least one JMH result", json + ": none");
        return out;
    }

    /**
     * Draws JMH results: x is the parameter {@code xParam} (default: the numeric parameter that takes the most values),
     * y the score; one series per method and combination of the other parameters.
     */
    static void jmh(Path json, Path png, String xParam) throws IOException {
        jmh(List.of(json), png, xParam);
    }

    /** {@link #jmh(Path, Path, String)} over the results of several files together. */
    static void jmh(List<Path> jsons, Path png, String xParam) throws IOException {
        List<Point> points = new ArrayList<>();
        for (Path j : jsons) points.addAll(readJmh(j));
        Path json = jsons.get(0);
        String x = xParam != null ? xParam : numericParameter(points);
        if (x == null) {
            throw new LongConvException("chart", "--x", "a numeric JMH parameter to put on the x axis", "none in " + json);
        }
        Map<String, List<Point>> series = new LinkedHashMap<>();
        for (Point p : points) {
            if (!p.params().containsKey(x)) throw new LongConvException("chart", "--x", "a parameter every result has", "'" + x + "'");
            Map<String, String> others = new TreeMap<>(p.params());
            others.remove(x);
            String name = p.method() + (others.isEmpty() ? "" : " " + others.toString().replace("{", "(").replace("}", ")"));
            series.computeIfAbsent(name, k -> new ArrayList<>()).add(p);
        }
        String unit = points.get(0).unit();
        String bench = points.stream().map(Point::benchmark).distinct().reduce((a, b) -> a + ", " + b).orElse("");
        if (points.stream().map(Point::unit).distinct().count() > 1) {
            throw new LongConvException("chart", "results", "one time unit in every file", points.stream().map(Point::unit).distinct().toList().toString());
        }
        XYChart chart = new XYChartBuilder().width(900).height(600).title(bench + ": time per call")
                .xAxisTitle(x).yAxisTitle(unit).build();
        style(chart);
        chart.getStyler().setXAxisLogarithmic(true).setYAxisLogarithmic(true);
        chart.getStyler().setErrorBarsColorSeriesColor(true);
        for (var e : series.entrySet()) {
            List<Point> ps = new ArrayList<>(e.getValue());
            ps.sort((a, b) -> Double.compare(number(a.params().get(x), x), number(b.params().get(x), x)));
            double[] xs = ps.stream().mapToDouble(p -> number(p.params().get(x), x)).toArray();
            double[] ys = ps.stream().mapToDouble(Point::score).toArray();
            // the lower end of a bar at or below zero has no place on a log axis: keep it above the axis' floor
            double[] errs = ps.stream().mapToDouble(p -> Double.isNaN(p.error()) ? 0 : Math.min(p.error(), p.score() * 0.999)).toArray();
            XYSeries s = chart.addSeries(e.getKey(), xs, ys, errs);
            s.setMarker(SeriesMarkers.CIRCLE);
        }
        save(chart, png);
    }

    /** Draws the columns of {@code phi} [L, K] against t, one line per filter. */
    static void filters(Tensor phi, Path png, String title) throws IOException {
        int len = (int) phi.dim(0), k = (int) phi.dim(1);
        XYChart chart = new XYChartBuilder().width(900).height(600).title(title).xAxisTitle("t").yAxisTitle("phi[t, k]").build();
        style(chart);
        chart.getStyler().setLegendVisible(k <= 24);
        double[] t = new double[len];
        for (int i = 0; i < len; i++) t[i] = i;
        for (int j = 0; j < k; j++) {
            double[] y = new double[len];
            for (int i = 0; i < len; i++) y[i] = phi.get(i, j);
            XYSeries s = chart.addSeries("k=" + j, t, y);
            s.setMarker(SeriesMarkers.NONE);
        }
        save(chart, png);
    }

    private static void style(XYChart chart) {
        Styler st = chart.getStyler();
        st.setChartBackgroundColor(Color.WHITE);
        st.setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setPlotGridLinesColor(new Color(220, 220, 220));
    }

    private static void save(XYChart chart, Path png) throws IOException {
        Path parent = png.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new LongConvException("chart", "output", "a file in an existing folder", png.toString());
        }
        try (var os = Files.newOutputStream(png)) {
            BitmapEncoder.saveBitmap(chart, os, BitmapEncoder.BitmapFormat.PNG);
        }
    }

    /** The numeric parameter with the most distinct values, or null when no parameter is numeric everywhere. */
    static String numericParameter(List<Point> points) {
        Map<String, java.util.Set<String>> values = new TreeMap<>();
        for (Point p : points) p.params().forEach((k, v) -> values.computeIfAbsent(k, q -> new java.util.TreeSet<>()).add(v));
        String best = null;
        for (var e : values.entrySet()) {
            if (!e.getValue().stream().allMatch(Charts::isNumber)) continue;
            if (best == null || e.getValue().size() > values.get(best).size()) best = e.getKey();
        }
        return best;
    }

    private static boolean isNumber(String s) {
        try {
            Double.parseDouble(s);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static double number(String v, String param) {
        try {
            return Double.parseDouble(v.strip().toLowerCase(Locale.ROOT));
        } catch (RuntimeException e) {
            throw new LongConvException("chart", "--x", "a numeric parameter", param + "=" + v);
        }
    }

    /** The small JSON reader the charts need (objects, arrays, strings, numbers, booleans, null); JMH writes valid JSON. */
    static final class Json {
        private final String s;
        private int i;

        private Json(String s) {
            this.s = s;
        }

        /** Parses a JSON text; IllegalArgumentException with the offset when it is not JSON. */
        static Object parse(String text) {
            Json j = new Json(text);
            Object v = j.value();
            j.ws();
            if (j.i != text.length()) throw j.error("text after the value");
            return v;
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException("not JSON at offset " + i + ": " + what);
        }

        private void ws() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
        }

        private Object value() {
            ws();
            if (i >= s.length()) throw error("end of text");
            char c = s.charAt(i);
            if (c == '{') {
                Map<String, Object> m = new LinkedHashMap<>();
                i++;
                ws();
                if (peek('}')) return m;
                do {
                    ws();
                    if (i >= s.length() || s.charAt(i) != '"') throw error("a key");
                    String k = string();
                    ws();
                    expect(':');
                    m.put(k, value());
                    ws();
                } while (peek(','));
                expect('}');
                return m;
            }
            if (c == '[') {
                List<Object> l = new ArrayList<>();
                i++;
                ws();
                if (peek(']')) return l;
                do {
                    l.add(value());
                    ws();
                } while (peek(','));
                expect(']');
                return l;
            }
            if (c == '"') return string();
            if (s.startsWith("true", i)) { i += 4; return Boolean.TRUE; }
            if (s.startsWith("false", i)) { i += 5; return Boolean.FALSE; }
            if (s.startsWith("null", i)) { i += 4; return null; }
            if (s.startsWith("NaN", i)) { i += 3; return Double.NaN; }
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
            if (start == i) throw error("a value");
            try {
                return Double.parseDouble(s.substring(start, i));
            } catch (NumberFormatException e) {
                throw error("a number");
            }
        }

        private boolean peek(char c) {
            if (i < s.length() && s.charAt(i) == c) {
                i++;
                return true;
            }
            return false;
        }

        private void expect(char c) {
            if (!peek(c)) throw error("'" + c + "'");
        }

        private String string() {
            StringBuilder b = new StringBuilder();
            i++; // opening quote
            while (i < s.length()) {
                char c = s.charAt(i++);
                if (c == '"') return b.toString();
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                if (i >= s.length()) break;
                char e = s.charAt(i++);
                switch (e) {
                    case 'n' -> b.append('\n');
                    case 't' -> b.append('\t');
                    case 'r' -> b.append('\r');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'u' -> {
                        if (i + 4 > s.length()) throw error("a \\u escape");
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    default -> b.append(e);
                }
            }
            throw error("an unterminated string");
        }
    }
}
