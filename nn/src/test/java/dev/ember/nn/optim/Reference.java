package dev.ember.nn.optim;

import static org.junit.jupiter.api.Assertions.fail;

import dev.ember.memory.Device;
import dev.ember.tensor.DType;
import dev.ember.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The numbers PyTorch produced for the optimizer tests (test resources optim/reference.json,
 * written by make_reference.py there), and the helpers that feed them to Ember and compare.
 */
final class Reference {
    /** float64 runs match PyTorch to rounding; float32 ones to a few float32 ulps. */
    static final double FLOAT64_TOLERANCE = 1e-12;
    static final double FLOAT32_TOLERANCE = 1e-6;

    private static final Map<String, Object> ROOT = load();

    private Reference() {}

    @SuppressWarnings("unchecked")
    private static Map<String, Object> load() {
        try (InputStream in = Reference.class.getResourceAsStream("/optim/reference.json")) {
            if (in == null) throw new IllegalStateException("test resource optim/reference.json is missing");
            return (Map<String, Object>) Json.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Map<String, Object>> section(String name) { return maps(ROOT.get(name)); }

    /** The run or case called {@code name} in {@code section}. */
    static Map<String, Object> find(String section, String name) {
        for (Map<String, Object> m : section(section)) {
            if (name.equals(m.get("name"))) return m;
        }
        throw new IllegalArgumentException("no " + section + " entry named " + name);
    }

    static int numParams() { return list(ROOT.get("shapes")).size(); }

    static long[] shape(int param) {
        return list(list(ROOT.get("shapes")).get(param)).stream().mapToLong(v -> ((Double) v).longValue()).toArray();
    }

    static double[] initial(int param) { return doubles(list(ROOT.get("initial")).get(param)); }

    static double[] grad(int step, int param) { return doubles(list(list(ROOT.get("grads")).get(step)).get(param)); }

    static int numSteps() { return list(ROOT.get("grads")).size(); }

    /** The fixed starting parameters, as leaves that require grad. */
    static List<Tensor> initialParams(DType dtype) { return initialParams(dtype, Device.cpu()); }

    /** The initial parameters on {@code device}, as leaves that require grad. */
    static List<Tensor> initialParams(DType dtype, Device device) {
        List<Tensor> params = new ArrayList<>();
        for (int i = 0; i < numParams(); i++) params.add(tensor(initial(i), shape(i), dtype).to(device).requiresGrad_());
        return params;
    }

    /** Gives each parameter the reference gradient of {@code step}. */
    static void setGrads(List<Tensor> params, int step) {
        for (int i = 0; i < params.size(); i++) params.get(i).setGrad(tensor(grad(step, i), shape(i), params.get(i).dtype()));
    }

    /** {@code values} in {@code dtype}; float32 values are rounded as PyTorch's .float() rounds them. */
    static Tensor tensor(double[] values, long[] shape, DType dtype) {
        if (dtype == DType.FLOAT64) return Tensor.fromArray(values.clone(), shape);
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) values[i];
        return Tensor.fromArray(f, shape);
    }

    static DType dtype(Map<String, Object> entry) {
        return "float32".equals(entry.get("dtype")) ? DType.FLOAT32 : DType.FLOAT64;
    }

    static double tolerance(DType dtype) {
        return dtype == DType.FLOAT32 ? FLOAT32_TOLERANCE : FLOAT64_TOLERANCE;
    }

    /** Fails unless every element of {@code actual} is within {@code tol} (relative above 1) of {@code expected}. */
    static void assertClose(double[] expected, Tensor actual, double tol, String what) {
        double[] a = actual.toDoubleArray();
        if (a.length != expected.length) fail(what + ": " + a.length + " values, expected " + expected.length);
        for (int i = 0; i < a.length; i++) {
            double e = expected[i];
            if (!(Math.abs(a[i] - e) <= tol * Math.max(1, Math.abs(e)))) {
                fail(what + ": element " + i + " is " + a[i] + ", PyTorch has " + e + " (difference " + (a[i] - e) + ")");
            }
        }
    }

    static void assertClose(double expected, double actual, double tol, String what) {
        if (!(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)))) {
            fail(what + ": " + actual + ", PyTorch has " + expected);
        }
    }

    static double[] doubles(Object jsonList) {
        return list(jsonList).stream().mapToDouble(v -> (Double) v).toArray();
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object json) { return (List<Object>) json; }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object json) { return (Map<String, Object>) json; }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> maps(Object json) { return (List<Map<String, Object>>) json; }
}
