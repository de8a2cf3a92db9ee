package io.execguard.probe;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A tiny Prometheus registry: counters and gauges with labels, rendered in the text exposition
 * format. Thread-safe; one per process component, passed by constructor.
 */
public final class Metrics {

    private record Family(String type, String help, Map<String, Double> series) {
    }

    private final Map<String, Family> families = new ConcurrentHashMap<>();

    public Metrics counter(String name, String help) {
        families.putIfAbsent(name, new Family("counter", help, new ConcurrentHashMap<>()));
        return this;
    }

    public Metrics gauge(String name, String help) {
        families.putIfAbsent(name, new Family("gauge", help, new ConcurrentHashMap<>()));
        return this;
    }

    /**
     * A histogram without labels: {@code name_bucket{le=...}}, {@code name_sum}, {@code name_count}, the buckets
     * (upper bounds in seconds, ascending) cumulative as Prometheus wants them.
     */
    public Metrics histogram(String name, String help, double... buckets) {
        Map<String, Double> series = java.util.Collections.synchronizedMap(new LinkedHashMap<>());
        for (double b : buckets) {
            series.put("_bucket{le=\"" + format(b) + "\"}", 0.0);
        }
        series.put("_bucket{le=\"+Inf\"}", 0.0);
        series.put("_sum", 0.0);
        series.put("_count", 0.0);
        families.putIfAbsent(name, new Family("histogram", help, series));
        return this;
    }

    /** Records one observation in a histogram. */
    public void observe(String name, double value) {
        Map<String, Double> s = family(name).series();
        synchronized (s) {
            for (Map.Entry<String, Double> e : s.entrySet()) {
                String k = e.getKey();
                if (k.startsWith("_bucket")) {
                    String le = k.substring(k.indexOf('"') + 1, k.lastIndexOf('"'));
                    if (le.equals("+Inf") || value <= Double.parseDouble(le)) {
                        e.setValue(e.getValue() + 1);
                    }
                }
            }
            s.merge("_sum", value, Double::sum);
            s.merge("_count", 1.0, Double::sum);
        }
    }

    public void inc(String name, String... labels) {
        add(name, 1, labels);
    }

    public void add(String name, double delta, String... labels) {
        family(name).series().merge(labelString(labels), delta, Double::sum);
    }

    public void set(String name, double value, String... labels) {
        family(name).series().put(labelString(labels), value);
    }

    /** Replaces every series of a gauge at once (e.g. findings by type after each scan). */
    public void replace(String name, Map<String, Double> seriesByLabels) {
        Map<String, Double> s = family(name).series();
        synchronized (s) {
            s.clear();
            s.putAll(seriesByLabels);
        }
    }

    public double value(String name, String... labels) {
        return family(name).series().getOrDefault(labelString(labels), 0.0);
    }

    public String render() {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, Family> e : new TreeMap<>(families).entrySet()) {
            Family f = e.getValue();
            b.append("# HELP ").append(e.getKey()).append(' ').append(f.help()).append('\n');
            b.append("# TYPE ").append(e.getKey()).append(' ').append(f.type()).append('\n');
            Map<String, Double> ordered;
            synchronized (f.series()) {
                ordered = f.type().equals("histogram") ? new LinkedHashMap<>(f.series()) : new TreeMap<>(f.series());
            }
            for (Map.Entry<String, Double> s : ordered.entrySet()) {
                b.append(e.getKey()).append(s.getKey()).append(' ').append(format(s.getValue())).append('\n');
            }
        }
        return b.toString();
    }

    /** {@code {type="HungTask",cause="FuseRequest"}} from alternating names and values. */
    public static String labelString(String... labels) {
        if (labels.length == 0) {
            return "";
        }
        if (labels.length % 2 != 0) {
            throw new IllegalArgumentException("labels come in name/value pairs");
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < labels.length; i += 2) {
            m.put(labels[i], labels[i + 1]);
        }
        StringBuilder b = new StringBuilder("{");
        m.forEach((k, v) -> b.append(b.length() > 1 ? "," : "").append(k).append("=\"")
                .append(v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")).append('"'));
        return b.append('}').toString();
    }

    private Family family(String name) {
        Family f = families.get(name);
        if (f == null) {
            throw new IllegalArgumentException("metric " + name + " is not registered");
        }
        return f;
    }

    private static String format(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }
}
