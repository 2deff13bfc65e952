package dev.ember.bench.cpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.TreeSet;
import java.util.function.DoublePredicate;

/**
 * Turns the JMH JSON results of the CPU benchmarks into the summary table bench/run-cpu.sh
 * prints last: sgemm GFLOP/s beside OpenBLAS, bandwidth in GB/s beside the copy roof, softmax,
 * and the tiny-op overhead, each with the target where it sets one. Every ratio
 * compares two numbers from the same run. A benchmark that produced no result shows "-".
 *
 * <pre>java -cp benchmarks.jar dev.ember.bench.cpu.Report RESULTS.json [--smoke]</pre>
 */
public final class Report {
    private static final String PREFIX = "dev.ember.bench.cpu.";
    private static final double GIGA = 1e9;

    // Targets of the issue, on a 2-core machine, with all (both) threads.
    private static final double SGEMM_TARGET = 0.80;
    private static final double BANDWIDTH_TARGET = 0.85;
    private static final double TINY_OP_TARGET_NS = 300;

    /** One JMH result: a benchmark with its parameters and its mean time per op. */
    private record Result(String benchmark, Map<String, String> params, double secondsPerOp) {}

    private final List<Result> results;
    private final boolean smoke;
    private final StringBuilder out = new StringBuilder();

    private Report(List<Result> results, boolean smoke) {
        this.results = results;
        this.smoke = smoke;
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: Report RESULTS.json [--smoke]");
            System.exit(2);
        }
        boolean smoke = args.length > 1 && args[1].equals("--smoke");
        List<Result> results = read(Path.of(args[0]));
        System.out.print(new Report(results, smoke).render());
    }

    @SuppressWarnings("unchecked")
    private static List<Result> read(Path file) throws IOException {
        List<Result> results = new ArrayList<>();
        String text = Files.readString(file);
        if (text.isBlank()) return results; // JMH leaves the file empty when nothing ran
        for (Object o : (List<Object>) Json.parse(text)) {
            Map<String, Object> r = (Map<String, Object>) o;
            String name = (String) r.get("benchmark");
            if (!name.startsWith(PREFIX)) continue;
            Map<String, String> params = new HashMap<>();
            Object p = r.get("params");
            if (p != null) ((Map<String, Object>) p).forEach((k, v) -> params.put(k, String.valueOf(v)));
            Map<String, Object> metric = (Map<String, Object>) r.get("primaryMetric");
            double score = ((Number) metric.get("score")).doubleValue();
            String unit = (String) metric.get("scoreUnit");
            results.add(new Result(name.substring(PREFIX.length()), params, secondsPerOp(score, unit)));
        }
        return results;
    }

    /** JMH scores as "ms/op" (average time) or "ops/ms" (throughput); both become seconds per op. */
    static double secondsPerOp(double score, String unit) {
        String[] parts = unit.split("/");
        if (parts.length != 2) throw new IllegalArgumentException("unknown JMH unit " + unit);
        if (parts[1].equals("op")) return score * seconds(parts[0]);
        if (parts[0].equals("ops")) return seconds(parts[1]) / score;
        throw new IllegalArgumentException("unknown JMH unit " + unit);
    }

    private static double seconds(String unit) {
        return switch (unit) {
            case "s" -> 1;
            case "ms" -> 1e-3;
            case "us" -> 1e-6;
            case "ns" -> 1e-9;
            case "min" -> 60;
            default -> throw new IllegalArgumentException("unknown time unit " + unit);
        };
    }

    /** Seconds per op of one benchmark with these parameters (name, value, name, value...). */
    private OptionalDouble time(String benchmark, String... params) {
        outer:
        for (Result r : results) {
            if (!r.benchmark.equals(benchmark)) continue;
            for (int k = 0; k < params.length; k += 2) {
                if (!params[k + 1].equals(r.params.get(params[k]))) continue outer;
            }
            return OptionalDouble.of(r.secondsPerOp);
        }
        return OptionalDouble.empty();
    }

    /** The values a parameter takes in the results of benchmarks whose name starts with {@code prefix}. */
    private List<String> values(String prefix, String param) {
        TreeSet<String> set = new TreeSet<>((x, y) -> {
            // numbers in numeric order, then words ("all" after the counts)
            boolean nx = x.chars().allMatch(Character::isDigit), ny = y.chars().allMatch(Character::isDigit);
            if (nx && ny) return Long.compare(Long.parseLong(x), Long.parseLong(y));
            return nx ? -1 : ny ? 1 : x.compareTo(y);
        });
        for (Result r : results) {
            if (r.benchmark.startsWith(prefix) && r.params.containsKey(param)) set.add(r.params.get(param));
        }
        return new ArrayList<>(set);
    }

    private String render() {
        int cores = Runtime.getRuntime().availableProcessors();
        line("");
        line("=== Ember CPU benchmarks: %d processors, threads \"all\" = %d; JMH average time%s ===",
                cores, cores, smoke ? "; SMOKE RUN, numbers are not measurements" : "");
        sgemm();
        bandwidth();
        softmax();
        tinyOp();
        return out.toString();
    }

    private void sgemm() {
        line("");
        line("sgemm float32, C = A.B, GFLOP/s = 2n^3 / time; Ember a.mm(b) vs OpenBLAS cblas_sgemm;");
        line("ratio = Ember / OpenBLAS");
        line("%6s %8s %10s %10s %7s  %s", "n", "threads", "Ember", "OpenBLAS", "ratio", "target");
        if (!has("SgemmBench.")) { noResults(); return; }
        for (String n : values("SgemmBench.", "n")) {
            for (String threads : values("SgemmBench.", "threads")) {
                double gflop = 2.0 * Math.pow(Double.parseDouble(n), 3) / GIGA;
                OptionalDouble ember = rate(gflop, time("SgemmBench.ember", "n", n, "threads", threads));
                OptionalDouble blas = rate(gflop, time("SgemmBench.openblas", "n", n, "threads", threads));
                OptionalDouble ratio = ratio(ember, blas);
                boolean targeted = threads.equals(Threads.ALL) && (n.equals("1024") || n.equals("2048"));
                line("%6s %8s %10s %10s %7s  %s", n, threads, num(ember, 1), num(blas, 1), num(ratio, 2),
                        targeted ? verdict(">= " + SGEMM_TARGET + "x", ratio, r -> r >= SGEMM_TARGET) : "");
            }
        }
    }

    private void bandwidth() {
        line("");
        List<String> sizes = new ArrayList<>(values("BandwidthBench.", "floats"));
        sizes.replaceAll(f -> f + " floats (" + size(Long.parseLong(f) * Float.BYTES) + ")");
        line("memory bandwidth, GB/s = 1e9 bytes (read + written) / time, float32 tensors of %s;",
                sizes.isEmpty() ? "-" : String.join(", ", sizes));
        line("roof = MemorySegment.copy of a buffer of that size, split into one slice per thread; ratio = GB/s / roof");
        line("%-24s %8s %8s %8s %7s  %s", "op", "threads", "GB/s", "roof", "ratio", "target");
        if (!has("BandwidthBench.") && !has("CopyRoofBench.")) { noResults(); return; }
        String[][] ops = { // method, label, bytes moved per element
            {"add", "a.add(b) (allocates c)", "12"},
            {"addInPlace", "a.add_(b)", "12"},
            {"sum", "a.sum()", "4"},
        };
        for (String floats : values("BandwidthBench.", "floats")) {
            for (String threads : values("BandwidthBench.", "threads")) {
                OptionalDouble roof = roof(threads);
                for (String[] op : ops) {
                    OptionalDouble gbs = rate(Double.parseDouble(op[2]) * Double.parseDouble(floats) / GIGA,
                            time("BandwidthBench." + op[0], "floats", floats, "threads", threads));
                    OptionalDouble ratio = ratio(gbs, roof);
                    line("%-24s %8s %8s %8s %7s  %s", op[1], threads, num(gbs, 1), num(roof, 1), num(ratio, 2),
                            threads.equals(Threads.ALL)
                                    ? verdict(">= " + BANDWIDTH_TARGET + "x", ratio, r -> r >= BANDWIDTH_TARGET)
                                    : "");
                }
            }
        }
        for (String threads : values("CopyRoofBench.", "threads")) {
            line("%-24s %8s %8s", "copy (the roof)", threads, num(roof(threads), 1));
        }
    }

    private static String size(long bytes) {
        return bytes >= 1 << 20 ? bytes / (1 << 20) + " MiB" : bytes / 1024 + " KiB";
    }

    /** The copy roof's GB/s with this many threads (bytes read + written), if it ran. */
    private OptionalDouble roof(String threads) {
        List<String> sizes = values("CopyRoofBench.", "floats");
        if (sizes.isEmpty()) return OptionalDouble.empty();
        String floats = sizes.get(0);
        return rate(8 * Double.parseDouble(floats) / GIGA,
                time("CopyRoofBench.copy", "floats", floats, "threads", threads));
    }

    private void softmax() {
        line("");
        line("softmax over rows, x.softmax(1), float32; GB/s counts one read and one write (8 B per element)");
        line("%12s %8s %10s %8s %14s", "shape", "threads", "ms", "GB/s", "ratio to roof");
        if (!has("SoftmaxBench.")) { noResults(); return; }
        for (String n : values("SoftmaxBench.", "n")) {
            for (String threads : values("SoftmaxBench.", "threads")) {
                double elems = Math.pow(Double.parseDouble(n), 2);
                OptionalDouble t = time("SoftmaxBench.softmax", "n", n, "threads", threads);
                OptionalDouble gbs = rate(8 * elems / GIGA, t);
                line("%12s %8s %10s %8s %14s", n + "x" + n, threads, num(scale(t, 1e3), 2), num(gbs, 1),
                        num(ratio(gbs, roof(threads)), 2));
            }
        }
    }

    private void tinyOp() {
        line("");
        line("host overhead of a tiny op: a.add(b) on 1-element float32 tensors, result closed each op");
        if (!has("TinyOpBench.")) { noResults(); return; }
        OptionalDouble ns = scale(time("TinyOpBench.add"), 1e9);
        line("%12s ns/op  %s", num(ns, 0),
                verdict("<= " + (int) TINY_OP_TARGET_NS + " ns", ns, v -> v <= TINY_OP_TARGET_NS));
    }

    /** Whether any benchmark whose name starts with {@code prefix} has a result. */
    private boolean has(String prefix) {
        return results.stream().anyMatch(r -> r.benchmark.startsWith(prefix));
    }

    private void noResults() {
        line("  (no results: the benchmark failed or was not run; see the JMH log above)");
    }

    private static OptionalDouble rate(double work, OptionalDouble seconds) {
        return seconds.isPresent() ? OptionalDouble.of(work / seconds.getAsDouble()) : seconds;
    }

    private static OptionalDouble ratio(OptionalDouble x, OptionalDouble y) {
        return x.isPresent() && y.isPresent() ? OptionalDouble.of(x.getAsDouble() / y.getAsDouble())
                : OptionalDouble.empty();
    }

    private static OptionalDouble scale(OptionalDouble x, double factor) {
        return x.isPresent() ? OptionalDouble.of(x.getAsDouble() * factor) : x;
    }

    private static String num(OptionalDouble x, int decimals) {
        return x.isPresent() ? String.format(Locale.ROOT, "%." + decimals + "f", x.getAsDouble()) : "-";
    }

    private String verdict(String target, OptionalDouble value, DoublePredicate met) {
        if (smoke || value.isEmpty()) return target;
        return target + (met.test(value.getAsDouble()) ? "  ok" : "  MISSED");
    }

    private void line(String format, Object... args) {
        out.append(String.format(Locale.ROOT, format, args)).append('\n');
    }
}
